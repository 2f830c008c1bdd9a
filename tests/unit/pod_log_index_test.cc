#include "agent/pod_log_index.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "node/host_fs.h"
#include "tests/support/test_env.h"

namespace zun::agent {
namespace {

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("the pod log index finds a capsule's directories under every name") {
  testing::ScopedTempDir dir("pli");
  const std::string root = dir.path() + "/logs";
  const std::string u1 = "0b7e6a0e-1111-4c1f-9a55-000000000001";
  const std::string u2 = "0b7e6a0e-2222-4c1f-9a55-000000000002";
  // Left by an earlier run of the agent: found by the first Take's listing.
  REQUIRE(node::MakeDirs(root + "/default_old_" + u1, 0750).ok());
  REQUIRE(node::MakeDirs(root + "/default_other_" + u2, 0750).ok());
  REQUIRE(node::MakeDirs(root + "/no-separator", 0750).ok());
  PodLogIndex index(root);
  // Made by this run, before and after the listing.
  index.Add(u1, root + "/default_new_" + u1);
  index.Add(u1, root + "/default_new_" + u1);  // idempotent
  CHECK(Sorted(index.Take(u1)) ==
        std::vector<std::string>{root + "/default_new_" + u1,
                                 root + "/default_old_" + u1});
  CHECK(index.Take(u1).empty());  // forgotten once taken
  index.Add(u1, root + "/default_again_" + u1);
  CHECK(index.Take(u1) ==
        std::vector<std::string>{root + "/default_again_" + u1});
  CHECK(index.Take(u2) ==
        std::vector<std::string>{root + "/default_other_" + u2});
  CHECK(index.Take("no-separator").empty());
  CHECK(index.Take("separator").empty());
}

TEST_CASE("a pod log index without a root stays empty") {
  PodLogIndex index("");
  index.Add("u", "/x/a_u");
  CHECK(index.Take("u").empty());
}

TEST_CASE("a pod log index over a missing root holds what is added") {
  testing::ScopedTempDir dir("pli");
  PodLogIndex index(dir.path() + "/absent");
  CHECK(index.Take("u").empty());
  index.Add("u", dir.path() + "/absent/a_u");
  CHECK(index.Take("u") ==
        std::vector<std::string>{dir.path() + "/absent/a_u"});
}

}  // namespace
}  // namespace zun::agent
