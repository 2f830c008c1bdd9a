#include "tests/support/e2e_env.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

namespace zun::testing {

const E2eEnv& E2eEnv::Get() {
  static const E2eEnv* env = [] {
    const char* dir = std::getenv("ZUN_TEST_ENV_DIR");
    const std::string path =
        std::string(dir != nullptr ? dir : ZUN_TEST_ENV_DIR) +
        "/containerd.env";
    std::ifstream in(path);
    if (!in) {
      std::cerr << "containerd is not running: " << path
                << " is missing (run through ctest, which starts the "
                   "`containerd` fixture)\n";
      std::abort();
    }
    std::map<std::string, std::string> kv;
    std::string line;
    while (std::getline(in, line)) {
      size_t eq = line.find('=');
      if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
    }
    auto* e = new E2eEnv;
    e->cri_endpoint = kv["ZUN_TEST_CRI_ENDPOINT"];
    e->registry = kv["ZUN_TEST_REGISTRY"];
    e->cgroup_root = kv["ZUN_TEST_CGROUP_ROOT"];
    e->cri_dir = kv["ZUN_TEST_CRI_DIR"];
    return e;
  }();
  return *env;
}

}  // namespace zun::testing
