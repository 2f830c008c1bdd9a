#include "tests/support/test_env.h"

#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

namespace zun::testing {

const TestEnv& TestEnv::Get() {
  static const TestEnv* env = [] {
    const char* dir = std::getenv("ZUN_TEST_ENV_DIR");
    const std::string path =
        std::string(dir != nullptr ? dir : ZUN_TEST_ENV_DIR) + "/services.env";
    std::ifstream in(path);
    if (!in) {
      std::cerr << "test services are not running: " << path
                << " is missing (run through ctest, which starts the "
                   "`services` fixture)\n";
      std::abort();
    }
    std::map<std::string, std::string> kv;
    std::string line;
    while (std::getline(in, line)) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
    auto* e = new TestEnv;
    e->amqp_url = kv["ZUN_TEST_AMQP_URL"];
    e->pg_url = kv["ZUN_TEST_PG_URL"];
    e->pg_socket = kv["ZUN_TEST_PG_SOCKET"];
    e->pg_port = std::atoi(kv["ZUN_TEST_PG_PORT"].c_str());
    e->pg_base = kv["ZUN_TEST_PG_BASE"];
    e->rmq_base = kv["ZUN_TEST_RMQ_BASE"];
    e->rmq_port = std::atoi(kv["ZUN_TEST_RMQ_PORT"].c_str());
    e->rmq_tls_port = std::atoi(kv["ZUN_TEST_RMQ_TLS_PORT"].c_str());
    e->tls_dir = kv["ZUN_TEST_TLS_DIR"];
    e->scripts = kv["ZUN_TEST_SCRIPTS"];
    return e;
  }();
  return *env;
}

std::string SourceDir() { return ZUN_SOURCE_DIR; }
std::string BinDir() { return ZUN_BIN_DIR; }

std::string ScratchRoot() {
  const char* root = std::getenv("ZUN_TEST_TMPDIR");
  return root != nullptr && *root != '\0' ? root : "/tmp";
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = ScratchRoot() + "/" + prefix + "XXXXXX";
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  return p;
}

ScopedTempDir::ScopedTempDir(const std::string& prefix)
    : path_(MakeTempDir(prefix)) {}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace zun::testing
