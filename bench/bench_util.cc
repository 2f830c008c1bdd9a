#include "bench/bench_util.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/http.h"

namespace zun::bench {

Summary Summarize(std::vector<double> v) {
  Summary s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const size_t i =
        static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())) - 1);
    return v[std::min(i, v.size() - 1)];
  };
  s.median = at(0.5);
  s.p99 = at(0.99);
  s.min = v.front();
  s.max = v.back();
  return s;
}

ProcStats ReadProcStats(int pid) {
  ProcStats p;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the ")" of the command name: state is field 3; utime and
  // stime are fields 14 and 15.
  const size_t close = line.rfind(')');
  if (close != std::string::npos) {
    std::vector<std::string> f =
        absl::StrSplit(line.substr(close + 2), ' ', absl::SkipEmpty());
    if (f.size() > 13) {
      double ut = 0, st = 0;
      (void)absl::SimpleAtod(f[11], &ut);
      (void)absl::SimpleAtod(f[12], &st);
      p.cpu_seconds = (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    double kb = 0;
    auto value = [&](const char* key) {
      return absl::StartsWith(line, key) &&
             absl::SimpleAtod(absl::StripAsciiWhitespace(absl::StripSuffix(
                                  line.substr(strlen(key)), "kB")),
                              &kb);
    };
    if (value("VmRSS:")) p.rss_mib = kb / 1024;
    if (value("VmHWM:")) p.peak_rss_mib = kb / 1024;
  }
  return p;
}

ThreadsCpu ReadThreadsCpu(int pid) {
  ThreadsCpu out;
  double ns = 0;
  std::error_code ec;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream f(task.path() / "schedstat");
    double run = 0;
    if (f >> run) {  // first field: time on the CPU, ns
      ns += run;
      out.tids.insert(task.path().filename().string());
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      out.by_name[name] += run / 1e9;
    }
  }
  out.seconds = ns / 1e9;
  return out;
}

nlohmann::ordered_json CpuMsByThread(const ThreadsCpu& before,
                                     const ThreadsCpu& after, double per) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [name, s] : after.by_name) {
    auto it = before.by_name.find(name);
    const double d = s - (it == before.by_name.end() ? 0 : it->second);
    out[name] = 1000 * d / per;
  }
  return out;
}

namespace {

struct ProcInfo {
  int ppid = 0;
  double cpu = 0;
  std::string cmdline;
};

std::map<int, ProcInfo> AllProcesses() {
  std::map<int, ProcInfo> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(e.path().filename().string(), &pid)) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::vector<std::string> f =
        absl::StrSplit(line.substr(close + 2), ' ', absl::SkipEmpty());
    if (f.size() < 13) continue;
    ProcInfo p;
    (void)absl::SimpleAtoi(f[1], &p.ppid);
    double ut = 0, st = 0;
    (void)absl::SimpleAtod(f[11], &ut);
    (void)absl::SimpleAtod(f[12], &st);
    p.cpu = (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::ifstream cmd(e.path() / "cmdline");
    std::getline(cmd, p.cmdline, '\n');
    std::replace(p.cmdline.begin(), p.cmdline.end(), '\0', ' ');
    out[pid] = std::move(p);
  }
  return out;
}

}  // namespace

double TreeCpuSeconds(int pid) {
  const std::map<int, ProcInfo> all = AllProcesses();
  double total = 0;
  std::vector<int> todo = {pid};
  while (!todo.empty()) {
    const int p = todo.back();
    todo.pop_back();
    auto it = all.find(p);
    if (it == all.end()) continue;
    total += it->second.cpu;
    for (const auto& [child, info] : all) {
      if (info.ppid == p) todo.push_back(child);
    }
  }
  return total;
}

int FindRootProcess(const std::string& needle) {
  const std::map<int, ProcInfo> all = AllProcesses();
  for (const auto& [pid, info] : all) {
    if (!absl::StrContains(info.cmdline, needle)) continue;
    auto parent = all.find(info.ppid);
    if (parent != all.end() &&
        absl::StrContains(parent->second.cmdline, needle)) {
      continue;
    }
    return pid;
  }
  return 0;
}

int PostmasterPid(const std::string& data_dir) {
  std::ifstream f(data_dir + "/postmaster.pid");
  std::string line;
  int pid = 0;
  if (std::getline(f, line) && absl::SimpleAtoi(line, &pid)) return pid;
  return 0;
}

double Scrape(int port, const std::string& series) {
  absl::StatusOr<testing::HttpResponse> r =
      testing::HttpRequest(port, "GET", "/metrics");
  if (!r.ok() || r->status != 200) return -1;
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double v = 0;
    if (absl::SimpleAtod(line.substr(series.size() + 1), &v)) return v;
  }
  return -1;
}

double ScrapeSum(int port, const std::string& prefix) {
  absl::StatusOr<testing::HttpResponse> r =
      testing::HttpRequest(port, "GET", "/metrics");
  if (!r.ok() || r->status != 200) return -1;
  double total = 0;
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    const size_t sp = line.rfind(' ');
    double v = 0;
    if (sp != absl::string_view::npos &&
        absl::SimpleAtod(line.substr(sp + 1), &v)) {
      total += v;
    }
  }
  return total;
}

std::map<std::string, double> ScrapeBy(int port, const std::string& series,
                                       const std::string& label) {
  std::map<std::string, double> out;
  absl::StatusOr<testing::HttpResponse> r =
      testing::HttpRequest(port, "GET", "/metrics");
  if (!r.ok() || r->status != 200) return out;
  const std::string key = label + "=\"";
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    if (!absl::StartsWith(line, series + "{")) continue;
    const size_t at = line.find(key);
    const size_t sp = line.rfind(' ');
    if (at == absl::string_view::npos || sp == absl::string_view::npos)
      continue;
    const size_t from = at + key.size();
    const size_t to = line.find('"', from);
    double v = 0;
    if (to == absl::string_view::npos ||
        !absl::SimpleAtod(line.substr(sp + 1), &v)) {
      continue;
    }
    out[std::string(line.substr(from, to - from))] += v;
  }
  return out;
}

std::map<std::string, absl::Time> StatusTimes(testing::ScratchDatabase& db,
                                              const std::string& status) {
  // When the row's last write committed (track_commit_timestamp, which
  // scripts/bench.sh turns on), else its updated_at: the start of that
  // transaction, earlier than the commit.
  const bool commit_ts =
      db.Query("SELECT current_setting('track_commit_timestamp') = 'on' AS on")
          .at(0)["on"]
          .value_or("f") == "t";
  const std::string at = commit_ts ? "pg_xact_commit_timestamp(xmin)"
                                   : "updated_at AT TIME ZONE 'UTC'";
  std::map<std::string, absl::Time> out;
  for (auto& row :
       db.Query("SELECT uuid, EXTRACT(EPOCH FROM " + at +
                ")::float8 * 1e6 AS us FROM container WHERE container_type = "
                "1 AND status = '" +
                status + "'")) {
    double us = 0;
    if (row["us"] && absl::SimpleAtod(*row["us"], &us)) {
      out[*row["uuid"]] = absl::FromUnixMicros(static_cast<int64_t>(us));
    }
  }
  return out;
}

int CountRows(testing::ScratchDatabase& db, const std::string& where) {
  auto rows = db.Query("SELECT count(*) AS n FROM container WHERE " + where);
  return std::stoi(*rows[0]["n"]);
}

void MakeDir(const std::string& dir) {
  std::filesystem::create_directories(dir);
}

}  // namespace zun::bench
