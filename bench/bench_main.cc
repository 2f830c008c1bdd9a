// zun-bench: the benchmark scenarios (bench/scenarios.h). Run through
// `make bench` (scripts/bench.sh starts the servers and containerd):
//
//   zun-bench [--out FILE] [--only 1,2,3,4] [--quick]
//
// Prints a table and writes every figure as JSON to FILE (default
// build/bench/results.json). Figures are reported, never asserted.
#include <linux/magic.h>
#include <sys/vfs.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/scenarios.h"
#include "common/cli_args.h"
#include "common/logging.h"
#include "tests/support/e2e_env.h"
#include "tests/support/test_env.h"

namespace {

using zun::bench::Json;

std::string Num(const Json& v) {
  if (v.is_number_float()) {
    std::ostringstream s;
    s.precision(v.get<double>() < 10 ? 3 : 4);
    s << v.get<double>();
    return s.str();
  }
  return v.dump();
}

void PrintScenario(const Json& r) {
  std::cout << "\n== " << r.value("scenario", "?") << "\n";
  if (r.contains("skipped")) {
    std::cout << "   skipped: " << r["skipped"].get<std::string>() << "\n";
    return;
  }
  if (r.contains("error")) {
    std::cout << "   FAILED: " << r["error"].get<std::string>() << "\n";
  }
  if (r.contains("figures")) {
    for (const auto& [k, v] : r["figures"].items()) {
      if (v.is_object()) {
        std::string line;
        for (const auto& [sk, sv] : v.items()) {
          absl::StrAppend(&line, sk, " ", Num(sv), "  ");
        }
        std::cout << "   " << k << ": " << line << "\n";
      } else {
        std::cout << "   " << k << ": " << Num(v) << "\n";
      }
    }
  }
  if (r.contains("baseline")) {
    std::cout << "   baseline (" << r["baseline"]["what"].get<std::string>()
              << "): " << Num(r["baseline"]["value"]) << "\n";
  }
  if (r.contains("ratio")) {
    std::cout << "   measured " << Num(r["measured"]) << " -> ratio "
              << Num(r["ratio"]) << "\n";
  }
  if (r.contains("target")) {
    std::cout << "   target: " << r["target"].get<std::string>() << " -> "
              << (r.value("met", false) ? "met" : "NOT met") << "\n";
  }
}

// The filesystem of the scenarios' scratch directories (pod logs, the
// agents' state, fake-cri's log files).
std::string ScratchFs() {
  const std::string root = zun::testing::ScratchRoot();
  struct statfs fs;
  if (statfs(root.c_str(), &fs) != 0) return "?";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case TMPFS_MAGIC:
      return "tmpfs";
    case EXT4_SUPER_MAGIC:
      return absl::StrCat("ext2/3/4 (", root, ")");
    default:
      return absl::StrCat("filesystem 0x", absl::Hex(fs.f_type), " (", root,
                          ")");
  }
}

std::string Machine() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line, model;
  int cores = 0;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0 && model.empty()) {
      model = line.substr(line.find(':') + 2);
    }
    if (line.rfind("processor", 0) == 0) ++cores;
  }
  std::ifstream mem("/proc/meminfo");
  std::getline(mem, line);
  return absl::StrCat(cores, " cores (", model, "), ", line,
                      "; scratch directories on ", ScratchFs());
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<zun::CliArgs> args =
      zun::CliArgs::Parse(argc, argv, {"out", "only"}, {"quick", "help"});
  if (!args.ok() || args->Has("help")) {
    std::cerr
        << "usage: zun-bench [--out FILE] [--only 1,2,3,4,5,6] [--quick]\n";
    return args.ok() ? 0 : 2;
  }
  zun::log::Options lo;
  lo.level = spdlog::level::warn;
  zun::log::Init(lo);
  zun::bench::BenchConfig cfg;
  if (args->Has("quick")) {
    cfg.overhead_capsules = 200;
    cfg.concurrency_capsules = 50;
    cfg.containerd_capsules = 5;
    cfg.containerd_pairs = 3;
    cfg.steady_capsules = 100;
    cfg.steady_seconds = 6;
    cfg.fleet_sizes = {3, 6};
    cfg.fleet_capsules_per_node = 10;
    cfg.fleet_window_seconds = 20;
    cfg.fleet_settle_seconds = 10;
  }
  std::set<std::string> only;
  if (args->Has("only")) {
    for (absl::string_view s : absl::StrSplit(args->Get("only"), ',')) {
      only.insert(std::string(s));
    }
  }
  auto want = [&](const char* n) { return only.empty() || only.count(n); };
  const zun::testing::E2eEnv& env = zun::testing::E2eEnv::Get();
  cfg.cri_endpoint = env.cri_endpoint;
  cfg.cgroup_root = env.cgroup_root;

  Json results = Json::array();
  auto run = [&](Json r) {
    PrintScenario(r);
    std::cout.flush();
    results.push_back(std::move(r));
  };
  if (want("1")) run(zun::bench::AgentOverhead(cfg));
  if (want("2")) run(zun::bench::SlowRuntimeConcurrency(cfg));
  if (want("3")) run(zun::bench::RealContainerd(cfg));
  if (want("4") || want("5")) {
    Json recovery;
    run(zun::bench::SteadyStateAndRecovery(cfg, &recovery));
    run(std::move(recovery));
  }
  if (want("6")) run(zun::bench::Fleet(cfg));
  const std::string out = args->Get("out", "build/bench/results.json");
  Json doc = {{"machine", Machine()},
              {"date", absl::FormatTime(absl::RFC3339_sec, absl::Now(),
                                        absl::UTCTimeZone())},
              {"scenarios", results}};
  std::ofstream(out) << doc.dump(2) << "\n";
  std::cout << "\nresults: " << out << "\n";
  // A scenario that could not run, or whose capsules did not all reach
  // Running, failed: that is an error, not a missed target.
  int failed = 0;
  for (const Json& r : results) {
    const bool ran = !r.contains("skipped");
    const bool all = !r.contains("figures") || !r["figures"].is_object() ||
                     r["figures"].value("all_running", true);
    if (!ran || !all) {
      std::cout << "FAILED: " << r.value("scenario", "?") << "\n";
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}
