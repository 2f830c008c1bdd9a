#include "node/host_info.h"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace zun::node {
namespace {

// kB values of /proc/meminfo (or a node's meminfo) by key.
std::map<std::string, int64_t> ReadMeminfo(const std::string& path) {
  std::map<std::string, int64_t> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // "MemTotal:  1234 kB" or "Node 0 MemTotal:  1234 kB"
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    if (size_t sp = key.rfind(' '); sp != std::string::npos)
      key = key.substr(sp + 1);
    std::istringstream rest(line.substr(colon + 1));
    int64_t kb = 0;
    if (rest >> kb) out[key] = kb;
  }
  return out;
}

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}
std::vector<int> ParseCpuList(const std::string& text) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(absl::StripAsciiWhitespace(text),
                                               ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> r =
        absl::StrSplit(part, absl::MaxSplits('-', 1));
    int lo = 0, hi = 0;
    if (!absl::SimpleAtoi(r.first, &lo)) continue;
    hi = lo;
    if (!r.second.empty() && !absl::SimpleAtoi(r.second, &hi)) continue;
    for (int i = lo; i <= hi && i - lo < 4096; ++i) out.push_back(i);
  }
  return out;
}

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

HostInfo ReadHostInfo(const std::string& root, const std::string& disk_path) {
  HostInfo h;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  std::vector<int> online =
      ParseCpuList(ReadLine(root + "/sys/devices/system/cpu/online"));
  h.cpus =
      !online.empty() ? static_cast<int64_t>(online.size()) : (n > 0 ? n : 1);
  auto mem = ReadMeminfo(root + "/proc/meminfo");
  h.mem_total_mib = mem["MemTotal"] / 1024;
  h.mem_free_mib = mem["MemFree"] / 1024;
  h.mem_available_mib =
      (mem.count("MemAvailable") ? mem["MemAvailable"] : mem["MemFree"]) / 1024;
  struct statvfs vfs;
  if (statvfs(disk_path.c_str(), &vfs) != 0) statvfs("/", &vfs);
  const double block = static_cast<double>(vfs.f_frsize);
  h.disk_total_gb = static_cast<int64_t>(
      block * static_cast<double>(vfs.f_blocks) / (1 << 30));
  h.disk_used_gb = static_cast<int64_t>(
      block * static_cast<double>(vfs.f_blocks - vfs.f_bfree) / (1 << 30));
  struct utsname u;
  if (uname(&u) == 0) {
    h.architecture = u.machine;
    h.kernel_version = u.release;
  }
  std::ifstream osr(root + "/etc/os-release");
  std::string line;
  while (std::getline(osr, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
        v = v.substr(1, v.size() - 2);
      h.os = v;
    }
  }
  for (int node = 0; node < 1024; ++node) {
    const std::string dir =
        root + "/sys/devices/system/node/node" + std::to_string(node);
    std::ifstream probe(dir + "/cpulist");
    if (!probe) break;
    NumaNode nn;
    nn.id = node;
    nn.cpus = ParseCpuList(ReadLine(dir + "/cpulist"));
    auto nm = ReadMeminfo(dir + "/meminfo");
    nn.mem_total_mib = nm["MemTotal"] / 1024;
    nn.mem_available_mib = nm["MemFree"] / 1024;
    h.numa.push_back(nn);
  }
  if (h.numa.empty()) {  // no NUMA information: one node with everything
    NumaNode nn;
    for (int i = 0; i < h.cpus; ++i) nn.cpus.push_back(i);
    nn.mem_total_mib = h.mem_total_mib;
    nn.mem_available_mib = h.mem_available_mib;
    h.numa.push_back(nn);
  }
  return h;
}

}  // namespace zun::node
