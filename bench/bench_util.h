// File: bench_util.h
// Measuring helpers of zun-bench: percentiles, a process's CPU time and
// memory from /proc, Prometheus samples from the agent's /metrics, and the
// moments capsules reached a status according to the database.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tests/support/scratch_db.h"

namespace zun::bench {

struct Summary {
  double median = 0;
  double p99 = 0;
  double min = 0;
  double max = 0;
  size_t n = 0;
};
Summary Summarize(std::vector<double> values);

struct ProcStats {
  double cpu_seconds = 0;   // user + system
  double rss_mib = 0;       // VmRSS
  double peak_rss_mib = 0;  // VmHWM
};
ProcStats ReadProcStats(int pid);

// CPU seconds of `pid`'s live threads, in nanoseconds' precision (the sum
// of /proc/PID/task/*/schedstat): for short windows, where utime and stime
// (10 ms ticks) would round a figure of a few ticks by a tick. A thread
// that exits between two readings takes its time with it: compare `tids`.
struct ThreadsCpu {
  double seconds = 0;
  std::set<std::string> tids;
  std::map<std::string, double> by_name;  // thread name -> seconds
};
ThreadsCpu ReadThreadsCpu(int pid);
// Milliseconds of CPU per thread name between two readings, divided by `per`
// (capsules, relists, ...).
nlohmann::ordered_json CpuMsByThread(const ThreadsCpu& before,
                                     const ThreadsCpu& after, double per);

// CPU seconds of `pid` and its live descendants.
double TreeCpuSeconds(int pid);
// The pid whose command line contains `needle` and whose parent does not
// (the root of a server's process tree); 0 if none.
int FindRootProcess(const std::string& needle);
// The postmaster of the PostgreSQL cluster in `data_dir` (its
// postmaster.pid), 0 if none.
int PostmasterPid(const std::string& data_dir);

// The value of `series` ("name" or "name{labels}") in the agent's /metrics
// on 127.0.0.1:`port`; -1 if absent or unreachable.
double Scrape(int port, const std::string& series);
// The sum of every sample whose series starts with `prefix` (e.g. a
// histogram's "_sum" over all label sets); -1 if unreachable.
double ScrapeSum(int port, const std::string& prefix);
// `series{label="v",...} x` lines of the agent's /metrics, by the value of
// `label`: {v -> x} (summed over the other labels).
std::map<std::string, double> ScrapeBy(int port, const std::string& series,
                                       const std::string& label);

// uuid -> when its row last became `status` (the row's updated_at, UTC),
// for capsule rows in `status`.
std::map<std::string, absl::Time> StatusTimes(testing::ScratchDatabase& db,
                                              const std::string& status);
int CountRows(testing::ScratchDatabase& db, const std::string& where);

// Ensures `dir` exists.
void MakeDir(const std::string& dir);

}  // namespace zun::bench
