// Scenario 3: capsules on a real containerd, through the agent and as the
// same CRI calls issued directly, one at a time and five at a time.
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/host_fs.h"
#include "bench/bench_util.h"
#include "bench/fleet.h"
#include "bench/scenarios.h"
#include "capsule/mapper.h"
#include "common/uuid.h"
#include "tests/support/http.h"

namespace zun::bench {
namespace {

using testing::AgentHarness;
using testing::HarnessOptions;

constexpr char kImage[] = "localhost/busybox:latest";

// The CRI calls the agent makes to create a capsule, issued directly:
// list (for leftovers), run the sandbox, check the image, create and start
// the containers (concurrently), read the sandbox status. Returns the
// sandbox id ("" on failure).
std::string DirectCreate(cri::CriClient& cri, const capsule::Capsule& c,
                         const capsule::MapperOptions& m, bool* failed) {
  cri::SandboxFilter mine;
  mine.labels = capsule::SandboxOwnerLabels(m.host, c.uuid());
  absl::StatusOr<cri::PodSandboxConfig> sb =
      capsule::BuildSandboxConfig(c, m, 0);
  if (!cri.ListPodSandbox(mine).ok() || !sb.ok() ||
      !agent::MakeDirs(sb->log_directory, 0755).ok()) {
    *failed = true;
    return "";
  }
  absl::StatusOr<std::string> id = cri.RunPodSandbox(*sb, "");
  if (!id.ok()) {
    *failed = true;
    return "";
  }
  absl::StatusOr<std::optional<cri::ImageInfo>> img = cri.ImageStatus(kImage);
  if (!img.ok() || !img->has_value()) {
    *failed = true;
    return *id;
  }
  std::vector<std::thread> starts;
  std::vector<absl::Status> started(c.containers.size());
  for (size_t i = 0; i < c.containers.size(); ++i) {
    starts.emplace_back([&, i] {
      auto cfg =
          capsule::BuildContainerConfig(c, c.containers[i], m, (*img)->id, 0);
      if (!cfg.ok()) {
        started[i] = cfg.status();
        return;
      }
      absl::StatusOr<std::string> cid = cri.CreateContainer(*id, *cfg, *sb);
      started[i] = cid.ok() ? cri.StartContainer(*cid) : cid.status();
    });
  }
  for (auto& t : starts) t.join();
  // Every call's result counts: a failed one fails the baseline (the
  // sandbox is still returned, so that it is removed).
  bool ok = cri.PodSandboxStatus(*id).ok();
  for (const absl::Status& s : started) ok = ok && s.ok();
  if (!ok) {
    *failed = true;
  }
  return *id;
}

capsule::Capsule DirectCapsule() {
  capsule::Capsule c;
  c.record.uuid = NewUuid4();
  c.record.name = "direct-" + c.record.uuid.substr(0, 8);
  c.record.restart_policy = {{"Name", "always"}, {"MaximumRetryCount", "0"}};
  for (int k = 0; k < 2; ++k) {
    capsule::ContainerRecord child = AgentHarness::Child(
        "c" + std::to_string(k), {"sleep", "3600"}, false, kImage);
    c.containers.push_back(std::move(child));
  }
  return c;
}

// Runs `batches` of `width` direct creates (width threads); returns the
// time of each batch in ms, and removes the pods afterwards. Any failed
// call (of a create or of the removal) fails the whole baseline.
absl::StatusOr<std::vector<double>> DirectBatches(
    cri::CriClient& cri, const capsule::MapperOptions& m, int total,
    int width) {
  std::vector<double> out;
  bool failed = false;
  absl::Mutex mu;
  std::vector<std::string> ids;
  for (int done = 0; done < total; done += width) {
    std::vector<capsule::Capsule> caps;
    for (int i = 0; i < width && done + i < total; ++i) {
      caps.push_back(DirectCapsule());
    }
    std::vector<std::string> batch(caps.size());
    const absl::Time t0 = absl::Now();
    std::vector<std::thread> threads;
    for (size_t i = 0; i < caps.size(); ++i) {
      threads.emplace_back([&, i] {
        bool f = false;
        batch[i] = DirectCreate(cri, caps[i], m, &f);
        absl::MutexLock l(&mu);
        failed = failed || f;
      });
    }
    for (auto& t : threads) t.join();
    out.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    ids.insert(ids.end(), batch.begin(), batch.end());
  }
  for (const std::string& id : ids) {
    if (id.empty()) continue;
    failed = failed || !cri.StopPodSandbox(id).ok() ||
             !cri.RemovePodSandbox(id).ok();
  }
  if (failed) {
    return absl::InternalError("a direct CRI call failed (see containerd)");
  }
  return out;
}

// The agent: batches of `width` casts, each batch waited for; the time
// from a batch's first cast to its last Running row, ms.
std::vector<double> AgentBatches(AgentHarness& h, int total, int width) {
  std::vector<double> out;
  std::vector<capsule::Capsule> all;
  for (int done = 0; done < total; done += width) {
    FleetSpec spec;
    spec.capsules = std::min(width, total - done);
    spec.image = kImage;
    spec.pull_policy = "ifnotpresent";
    std::vector<capsule::Capsule> caps = MakeCapsules(h, spec);
    std::vector<absl::Time> sent;
    if (!CastCreates(h, caps, &sent).ok()) break;
    all.insert(all.end(), caps.begin(), caps.end());
    if (!WaitRows(h, "container_type = 1 AND status = 'Running'",
                  static_cast<int>(all.size()), absl::Minutes(2),
                  absl::Milliseconds(5))) {
      break;
    }
    absl::Time last;
    RunningLatenciesMs(h, caps, sent, &last);
    out.push_back(absl::ToDoubleMilliseconds(last - sent.front()));
  }
  std::vector<absl::Time> dsent;
  CastDeletes(h, all, &dsent).IgnoreError();
  WaitRows(h, "container_type = 1", 0, absl::Minutes(5));
  return out;
}

}  // namespace

Json RealContainerd(const BenchConfig& cfg) {
  Json out = {{"scenario", "3. real containerd"}};
  if (cfg.cri_endpoint.empty()) {
    out["skipped"] = "no containerd";
    return out;
  }
  HarnessOptions o;
  o.default_settings = true;
  o.cri_endpoint = cfg.cri_endpoint;
  o.cgroup_root = cfg.cgroup_root;
  o.cri_request_timeout_s = 60;
  o.metrics_port = testing::FreeTcpPort();
  AgentHarness h(o);
  if (!h.WaitServing(absl::Seconds(120))) return out;
  capsule::MapperOptions m;
  m.host = "bench-direct-" + NewUuid4Hex().substr(0, 6);
  m.log_root = h.dir() + "/direct-logs";
  m.cgroup_root = cfg.cgroup_root;
  const int n = cfg.containerd_capsules;
  // Warm up both paths once (first-use costs of containerd).
  if (!DirectBatches(h.cri(), m, 1, 1).ok()) {
    out["skipped"] = "the direct CRI sequence failed on containerd";
    return out;
  }
  AgentBatches(h, 1, 1);
  absl::StatusOr<std::vector<double>> d1 = DirectBatches(h.cri(), m, n, 1);
  const std::string cri_sum = "zun_agent_cri_request_duration_seconds_sum";
  const double cri0 = ScrapeSum(o.metrics_port, cri_sum);
  const Summary agent1 = Summarize(AgentBatches(h, n, 1));
  const double cri1 = ScrapeSum(o.metrics_port, cri_sum);
  absl::StatusOr<std::vector<double>> d5 = DirectBatches(h.cri(), m, n, 5);
  if (!d1.ok() || !d5.ok()) {
    out["skipped"] = "the direct CRI sequence failed on containerd";
    return out;
  }
  const Summary direct1 = Summarize(*d1);
  const Summary direct5 = Summarize(*d5);
  const Summary agent5 = Summarize(AgentBatches(h, n, 5));
  absl::StatusOr<Json> pairs =
      InterleavedPairs(h, m, cfg.containerd_pairs, o.metrics_port);
  if (!pairs.ok()) {
    out["skipped"] =
        absl::StrCat("interleaved rounds failed: ", pairs.status().ToString());
    return out;
  }
  out["figures"] = {
      {"capsules", n},
      // Every batch of the agent reached Running (else zun-bench fails).
      {"all_running", static_cast<int>(agent1.n) == n &&
                          static_cast<int>(agent5.n) == (n + 4) / 5},
      {"one_at_a_time_agent_ms",
       {{"median", agent1.median}, {"p99", agent1.p99}}},
      {"agent_cri_time_ms_per_capsule_incl_delete", 1000 * (cri1 - cri0) / n},
      {"one_at_a_time_direct_ms",
       {{"median", direct1.median}, {"p99", direct1.p99}}},
      {"five_at_a_time_agent_ms_per_batch",
       {{"median", agent5.median}, {"p99", agent5.p99}}},
      {"five_at_a_time_direct_ms_per_batch",
       {{"median", direct5.median}, {"p99", direct5.p99}}},
      {"five_at_a_time_ratio", agent5.median / direct5.median},
      {"interleaved", *pairs}};
  out["baseline"] = {
      {"what", "the same CRI calls issued directly, one capsule, median ms"},
      {"value", direct1.median}};
  out["measured"] = agent1.median;
  out["ratio"] = agent1.median / direct1.median;
  const double pair_ratio =
      (*pairs)["agent_vs_minimal_ratio"]["median"].get<double>();
  out["target"] =
      "agent <= 1.10x direct one at a time (the agent's CRI sequence, and "
      "interleaved against the minimal four calls), <= 1.15x five at a time";
  out["met"] = agent1.median <= 1.10 * direct1.median && pair_ratio <= 1.10 &&
               agent5.median <= 1.15 * direct5.median;
  return out;
}

}  // namespace zun::bench
