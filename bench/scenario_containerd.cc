// Scenario 3: capsules on a real containerd, through the agent and as the
// same CRI calls issued directly, one at a time and five at a time,
// alternating batch by batch.
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "bench/fleet.h"
#include "bench/scenarios.h"
#include "capsule/mapper.h"
#include "common/uuid.h"
#include "node/host_fs.h"
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
      !node::MakeDirs(sb->log_directory, 0755).ok()) {
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

// One batch of `width` direct creates (width threads); the batch's time
// in ms. The sandboxes go to `ids` (for removal later); a failed call sets
// `failed`.
double DirectBatch(cri::CriClient& cri, const capsule::MapperOptions& m,
                   int width, std::vector<std::string>* ids, bool* failed) {
  absl::Mutex mu;
  std::vector<capsule::Capsule> caps;
  for (int i = 0; i < width; ++i) caps.push_back(DirectCapsule());
  std::vector<std::string> batch(caps.size());
  const absl::Time t0 = absl::Now();
  std::vector<std::thread> threads;
  for (size_t i = 0; i < caps.size(); ++i) {
    threads.emplace_back([&, i] {
      bool f = false;
      batch[i] = DirectCreate(cri, caps[i], m, &f);
      absl::MutexLock l(&mu);
      *failed = *failed || f;
    });
  }
  for (auto& t : threads) t.join();
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  ids->insert(ids->end(), batch.begin(), batch.end());
  return ms;
}

// One batch of `width` casts through the agent, waited for: the time from
// the first cast to the commit of the batch's last Running row, ms (< 0
// when the batch did not reach Running). The end is polled every 50 ms:
// the times come from commit timestamps, and a faster poll takes CPU from
// containerd (a 2 ms poll slowed its calls by a quarter on two cores).
double AgentBatch(AgentHarness& h, int width,
                  std::vector<capsule::Capsule>* all, absl::Time* end) {
  FleetSpec spec;
  spec.capsules = width;
  spec.image = kImage;
  spec.pull_policy = "ifnotpresent";
  std::vector<capsule::Capsule> caps = MakeCapsules(h, spec);
  std::vector<absl::Time> sent;
  if (!CastCreates(h, caps, &sent).ok()) return -1;
  all->insert(all->end(), caps.begin(), caps.end());
  if (!WaitRows(h, "container_type = 1 AND status = 'Running'",
                static_cast<int>(all->size()), absl::Minutes(2),
                absl::Milliseconds(50))) {
    return -1;
  }
  absl::Time last;
  RunningLatenciesMs(h, caps, sent, &last);
  *end = last;
  return absl::ToDoubleMilliseconds(last - sent.front());
}

// The quiet time the runtime gets after every batch, whichever arm ran it.
// An agent batch ends at its last Running commit, which the bench sees only
// at its next poll (up to 50 ms later); a direct batch ends when its calls
// return. Without a common gap, direct batches started after that poll's
// delay and agent batches straight after a direct one, into whatever
// containerd was still finishing.
constexpr absl::Duration kSettle = absl::Milliseconds(100);

// `total` capsules in batches of `width`, alternating between the direct
// calls and the agent batch by batch (the first of each pair rotating), so
// that both see the same runtime state: the same number of pods already
// running, the same drift. Everything is removed at the end; any failed
// direct call, or an agent batch not Running, fails the scenario.
struct Alternated {
  std::vector<double> direct, agent;
  // The agent's CRI time by call while creating (not deleting), ms per
  // capsule.
  Json agent_calls = Json::object();
};
absl::StatusOr<Alternated> Alternate(AgentHarness& h,
                                     const capsule::MapperOptions& m, int total,
                                     int width, int metrics_port) {
  Alternated out;
  bool failed = false;
  std::vector<std::string> ids;
  std::vector<capsule::Capsule> all;
  const std::string series = "zun_agent_cri_request_duration_seconds_sum";
  std::map<std::string, double> agent_ms;
  for (int done = 0, round = 0; done < total; done += width, ++round) {
    const int w = std::min(width, total - done);
    for (int k = 0; k < 2 && !failed; ++k) {
      if ((round + k) % 2 == 0) {
        out.direct.push_back(DirectBatch(h.cri(), m, w, &ids, &failed));
        absl::SleepFor(kSettle);
        continue;
      }
      const std::map<std::string, double> c0 =
          ScrapeBy(metrics_port, series, "method");
      absl::Time end;
      const double ms = AgentBatch(h, w, &all, &end);
      absl::SleepFor(end + kSettle - absl::Now());  // <= 0: no wait
      for (const auto& [call, s] : ScrapeBy(metrics_port, series, "method")) {
        const auto before = c0.find(call);
        agent_ms[call] +=
            1000 * (s - (before == c0.end() ? 0 : before->second));
      }
      if (ms < 0) failed = true;
      out.agent.push_back(ms);
    }
  }
  for (const auto& [call, ms] : agent_ms) {
    if (ms > 0) out.agent_calls[call] = ms / total;
  }
  std::vector<absl::Time> dsent;
  CastDeletes(h, all, &dsent).IgnoreError();
  const bool deleted = WaitRows(h, "container_type = 1", 0, absl::Minutes(5));
  for (const std::string& id : ids) {
    if (id.empty()) continue;
    failed = failed || !h.cri().StopPodSandbox(id).ok() ||
             !h.cri().RemovePodSandbox(id).ok();
  }
  if (failed || !deleted) {
    return absl::InternalError(
        "a direct CRI call failed, or an agent batch did not reach Running "
        "or was not deleted (see containerd and the agent's log)");
  }
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
  if (!Alternate(h, m, 1, 1, o.metrics_port).ok()) {
    out["skipped"] = "the CRI sequence failed on containerd";
    return out;
  }
  absl::StatusOr<Alternated> one = Alternate(h, m, n, 1, o.metrics_port);
  absl::StatusOr<Alternated> five = Alternate(h, m, n, 5, o.metrics_port);
  if (!one.ok() || !five.ok()) {
    out["skipped"] = (one.ok() ? five : one).status().ToString();
    return out;
  }
  const Summary agent1 = Summarize(one->agent),
                direct1 = Summarize(one->direct);
  const Summary agent5 = Summarize(five->agent),
                direct5 = Summarize(five->direct);
  // The same agent configured without seccomp, for the comparison with the
  // minimal calls (which set no profile).
  HarnessOptions ou = o;
  ou.metrics_port = testing::FreeTcpPort();
  ou.extra_config = "[compute]\nseccomp_profile = unconfined\n";
  AgentHarness hu(ou);
  if (!hu.WaitServing(absl::Seconds(120))) {
    out["skipped"] = "the unconfined agent did not serve";
    return out;
  }
  absl::StatusOr<Json> pairs =
      InterleavedPairs(h, hu, m, cfg.containerd_pairs, o.metrics_port);
  if (!pairs.ok()) {
    out["skipped"] =
        absl::StrCat("interleaved rounds failed: ", pairs.status().ToString());
    return out;
  }
  out["figures"] = {{"capsules", n},
                    // Every batch of the agent reached Running (else the
                    // scenario is skipped, which fails zun-bench).
                    {"all_running", true},
                    {"one_at_a_time_agent_ms",
                     {{"median", agent1.median}, {"p99", agent1.p99}}},
                    {"agent_cri_ms_per_capsule_by_call", one->agent_calls},
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
  const double same_config =
      (*pairs)["agent_vs_same_config_ratio"]["median"].get<double>();
  const double unconfined =
      (*pairs)["agent_unconfined_vs_minimal_ratio"]["median"].get<double>();
  // Like for like: the agent against the same calls with the same configs,
  // and the agent configured without seccomp against the minimal calls
  // (which set no profile). The default agent against the minimal calls is
  // reported too (interleaved.agent_vs_minimal_ratio); the difference is
  // the runtime applying the RuntimeDefault profile.
  out["target"] =
      "agent <= 1.10x direct one at a time and interleaved with the same "
      "configs; the agent without seccomp <= 1.10x the minimal four calls; "
      "<= 1.15x five at a time";
  out["met"] = agent1.median <= 1.10 * direct1.median && same_config <= 1.10 &&
               unconfined <= 1.10 && agent5.median <= 1.15 * direct5.median;
  return out;
}

}  // namespace zun::bench
