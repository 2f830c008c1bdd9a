// File: e2e_env.h
// Where e2e tests find the private containerd started by the `containerd`
// ctest fixture (scripts/test-containerd.sh writes containerd.env).
#pragma once

#include <string>

namespace zun::testing {

struct E2eEnv {
  std::string cri_endpoint;  // unix:///.../containerd.sock
  std::string registry;      // 127.0.0.1:PORT (plain HTTP)
  std::string cgroup_root;   // /zun-e2e (pod cgroups of our tests)
  std::string cri_dir;  // containerd's private state (CNI IPAM in cni/ipam)
  static const E2eEnv& Get();
};

}  // namespace zun::testing
