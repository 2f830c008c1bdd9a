# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/tests/unit_tests_include-b12d07c.cmake")
include("/work/main/tests/integration_tests_include-b12d07c.cmake")
include("/work/main/tests/e2e_tests_include-b12d07c.cmake")
add_test([=[services_up]=] "/work/main/scripts/test-services.sh" "start" "/work/main/test-env")
set_tests_properties([=[services_up]=] PROPERTIES  FIXTURES_SETUP "services" LABELS "integration" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;38;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[services_down]=] "/work/main/scripts/test-services.sh" "stop" "/work/main/test-env")
set_tests_properties([=[services_down]=] PROPERTIES  FIXTURES_CLEANUP "services" LABELS "integration" TIMEOUT "120" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;40;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[e2e_up]=] "/work/main/scripts/test-e2e.sh" "start" "/work/main/test-env-e2e")
set_tests_properties([=[e2e_up]=] PROPERTIES  FIXTURES_SETUP "e2e" LABELS "e2e" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;59;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[e2e_down]=] "/work/main/scripts/test-e2e.sh" "stop" "/work/main/test-env-e2e")
set_tests_properties([=[e2e_down]=] PROPERTIES  FIXTURES_CLEANUP "e2e" LABELS "e2e" TIMEOUT "300" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;61;add_test;/work/main/tests/CMakeLists.txt;0;")
