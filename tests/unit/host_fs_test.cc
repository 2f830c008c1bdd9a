#include "node/host_fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "tests/support/test_env.h"

namespace zun::node {
namespace {

bool Exists(const std::string& p) {
  struct stat st;
  return lstat(p.c_str(), &st) == 0;
}

TEST_CASE("a tree is removed under its root, symlinks removed, not followed") {
  testing::ScopedTempDir dir("hfs");
  const std::string root = dir.path() + "/logs";
  const std::string pod = root + "/ns_pod_u1";
  REQUIRE(MakeDirs(pod + "/c/deeper", 0750).ok());
  std::ofstream(pod + "/c/0.log") << "line\n";
  std::ofstream(pod + "/c/deeper/x") << "x";
  // Outside the root: reached only through symlinks, which must stay.
  REQUIRE(MakeDirs(dir.path() + "/outside", 0750).ok());
  std::ofstream(dir.path() + "/outside/keep") << "keep";
  REQUIRE(symlink((dir.path() + "/outside").c_str(),
                  (pod + "/c/link").c_str()) == 0);
  REQUIRE(symlink((dir.path() + "/outside/keep").c_str(),
                  (pod + "/file-link").c_str()) == 0);
  REQUIRE(MakeDirs(root + "/ns_other_u2", 0750).ok());

  REQUIRE(RemoveTreeUnder(root, pod).ok());
  CHECK_FALSE(Exists(pod));
  CHECK(Exists(dir.path() + "/outside/keep"));
  CHECK(Exists(root + "/ns_other_u2"));
  CHECK(RemoveTreeUnder(root, pod).ok());  // gone already
  // A symlink itself as the target: the link goes, its target stays.
  REQUIRE(symlink((dir.path() + "/outside").c_str(),
                  (root + "/ns_link_u3").c_str()) == 0);
  REQUIRE(RemoveTreeUnder(root, root + "/ns_link_u3").ok());
  CHECK_FALSE(Exists(root + "/ns_link_u3"));
  CHECK(Exists(dir.path() + "/outside/keep"));
}

TEST_CASE("paths outside the root are refused, the root itself too") {
  testing::ScopedTempDir dir("hfs");
  const std::string root = dir.path() + "/logs";
  REQUIRE(MakeDirs(root, 0750).ok());
  CHECK(RemoveTreeUnder(root, root).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(RemoveTreeUnder(root, root + "/../x").code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(RemoveTreeUnder(root, "relative").code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Exists(root));
}

TEST_CASE("a tree deeper than the recursion bound is removed") {
  testing::ScopedTempDir dir("hfs");
  const std::string root = dir.path() + "/vol";
  std::string p = root + "/v1";
  for (int i = 0; i < 150; ++i) p += "/d";
  REQUIRE(MakeDirs(p, 0750).ok());
  std::ofstream(p + "/leaf") << "x";
  REQUIRE(RemoveTreeUnder(root, root + "/v1").ok());
  CHECK_FALSE(Exists(root + "/v1"));
  CHECK(Exists(root));
}

}  // namespace
}  // namespace zun::node
