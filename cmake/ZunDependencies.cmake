# Every third-party dependency, found the way Debian 12 packages them.
# See docs/building.md for why each line looks the way it does.
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)            # FindProtobuf module: Debian ships no config file
find_package(absl CONFIG REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json 3 CONFIG REQUIRED)
find_package(rabbitmq-c CONFIG REQUIRED)   # headers are <amqp.h>; the target has no include dir
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(civetweb CONFIG REQUIRED)      # HTTP server of /metrics and /healthz
find_package(OpenSSL REQUIRED)              # Fernet (registry passwords)
find_package(CURL REQUIRED)                 # HTTP client of Keystone/Placement (FindCURL)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx libpq)
pkg_check_modules(NL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)  # VIF plugging (cni/)
if(BUILD_TESTING OR NOT DEFINED BUILD_TESTING)
  find_package(Catch2 2 REQUIRED)
  include(Catch)
endif()
