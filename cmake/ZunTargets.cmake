# Helpers that give every target of ours the same warnings and sanitizers.
# Generated code (proto/) and third-party headers do not go through these.

set(ZUN_WARNINGS
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
if(ZUN_WERROR)
  list(APPEND ZUN_WARNINGS -Werror)
endif()

set(ZUN_SANITIZE_FLAGS "")
if(ZUN_SANITIZE)
  string(REPLACE ";" "," _zun_san "${ZUN_SANITIZE}")
  set(ZUN_SANITIZE_FLAGS -fsanitize=${_zun_san} -fno-omit-frame-pointer)
  # GCC's -Wmaybe-uninitialized gives false positives in libstdc++ headers
  # once sanitizers instrument the code (gcc.gnu.org/PR105562 and friends).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND ZUN_WARNINGS -Wno-maybe-uninitialized)
  endif()
  if("undefined" IN_LIST ZUN_SANITIZE)
    list(APPEND ZUN_SANITIZE_FLAGS -fno-sanitize-recover=undefined)
  endif()
endif()

# The fuzz configuration (clang): coverage instrumentation of our code for
# libFuzzer; the fuzz targets add -fsanitize=fuzzer when they link.
if(ZUN_FUZZ)
  list(APPEND ZUN_SANITIZE_FLAGS -fsanitize=fuzzer-no-link)
endif()

function(zun_apply_flags target)
  target_compile_options(${target} PRIVATE ${ZUN_WARNINGS} ${ZUN_SANITIZE_FLAGS})
  target_link_options(${target} PRIVATE ${ZUN_SANITIZE_FLAGS})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR})
endfunction()

# zun_library(NAME SOURCES a.cc b.cc DEPS x y)
function(zun_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  zun_apply_flags(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# zun_executable(NAME SOURCES main.cc DEPS lib...)
function(zun_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  zun_apply_flags(${name})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(ZUN_SANITIZE)
    target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/common/sanitizer_defaults.cc)
  endif()
  if(ZUN_SANITIZE STREQUAL "thread")
    # Lets TSan see the ordering Debian's (uninstrumented) Abseil locks give.
    target_sources(${name} PRIVATE ${CMAKE_SOURCE_DIR}/common/tsan_absl.cc)
    target_link_libraries(${name} PRIVATE ${CMAKE_DL_LIBS})
  endif()
endfunction()
