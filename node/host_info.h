// File: host_info.h
// Facts about this machine for the compute_node inventory: CPUs, memory,
// disk, NUMA nodes, architecture, OS and kernel. `ReadHostInfo` reads them
// from /proc, /sys, statvfs and uname (paths rooted at `root` so tests can
// use a fake tree). Thread-safe (stateless).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zun::node {

struct NumaNode {
  int id = 0;
  std::vector<int> cpus;
  int64_t mem_total_mib = 0;
  int64_t mem_available_mib = 0;
};

struct HostInfo {
  int64_t cpus = 0;
  int64_t mem_total_mib = 0;
  int64_t mem_free_mib = 0;
  int64_t mem_available_mib = 0;
  int64_t disk_total_gb = 0;  // of the filesystem holding `disk_path`
  int64_t disk_used_gb = 0;
  std::string architecture;    // uname machine, e.g. x86_64
  std::string os;              // /etc/os-release PRETTY_NAME
  std::string kernel_version;  // uname release
  std::vector<NumaNode> numa;
};

// `root` prefixes /proc, /sys and /etc ("" for the real ones); `disk_path`
// is measured with statvfs (falls back to "/").
HostInfo ReadHostInfo(const std::string& root, const std::string& disk_path);

}  // namespace zun::node
