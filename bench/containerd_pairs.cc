// Scenario 3's interleaved rounds: the same one-container capsule started
// five ways on the same containerd, in rotating order, each removed before
// the next (as the outside review measured it):
//   minimal  RunPodSandbox, ImageStatus, CreateContainer, StartContainer
//            from a plain client with bare configs;
//   config   the same four calls with the configs the agent builds (DNS,
//            cgroup parent, log directory, seccomp, capabilities ...);
//   unconfined  as config, without the RuntimeDefault seccomp profiles
//            (what the profile costs the runtime);
//   agent    a container_create cast until the capsule row's Running write
//            commits;
//   agent polled  the same, timed as the outside review did (the row
//            polled every 2 ms until it reads Running);
//   agent unconfined  a second agent, configured with
//            `[compute] seccomp_profile = unconfined`, timed as "agent".
// minimal -> config is what the agent's configuration costs in the
// runtime; config -> agent (and unconfined -> agent unconfined) is the
// agent's own overhead; agent -> agent polled is what a 2 ms poller takes
// from containerd on two cores.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "bench/fleet.h"
#include "bench/scenarios.h"
#include "capsule/mapper.h"
#include "common/uuid.h"
#include "node/host_fs.h"

namespace zun::bench {
namespace {

constexpr char kImage[] = "localhost/busybox:latest";

// Per-call times of the direct arms, ms per call.
using CallTimes = std::map<std::string, std::vector<double>>;

// The four calls, every result checked; the sandbox is removed afterwards.
// Returns the time of the four calls in ms; each call's time goes to
// `calls`.
absl::StatusOr<double> DirectOnce(cri::CriClient& cri,
                                  const cri::PodSandboxConfig& sb,
                                  cri::ContainerConfig cc, CallTimes& calls) {
  const absl::Time t0 = absl::Now();
  absl::Time mark = t0;
  auto lap = [&](const char* call) {
    const absl::Time now = absl::Now();
    calls[call].push_back(absl::ToDoubleMilliseconds(now - mark));
    mark = now;
  };
  absl::StatusOr<std::string> id = cri.RunPodSandbox(sb, "");
  if (!id.ok()) return id.status();
  lap("RunPodSandbox");
  absl::Status s = absl::OkStatus();
  absl::StatusOr<std::optional<cri::ImageInfo>> img = cri.ImageStatus(kImage);
  lap("ImageStatus");
  if (!img.ok()) {
    s = img.status();
  } else if (!img->has_value()) {
    s = absl::NotFoundError(absl::StrCat(kImage, " is not in containerd"));
  } else {
    cc.image = (*img)->id;
    absl::StatusOr<std::string> cid = cri.CreateContainer(*id, cc, sb);
    lap("CreateContainer");
    s = cid.ok() ? cri.StartContainer(*cid) : cid.status();
    lap("StartContainer");
  }
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  absl::Status stop = cri.StopPodSandbox(*id);
  absl::Status rm = cri.RemovePodSandbox(*id);
  if (!s.ok()) return s;
  if (!stop.ok()) return stop;
  if (!rm.ok()) return rm;
  return ms;
}

absl::StatusOr<double> Minimal(cri::CriClient& cri, const std::string& dir,
                               CallTimes& calls) {
  cri::PodSandboxConfig sb;
  sb.uid = NewUuid4();
  sb.name = "minimal-" + sb.uid.substr(0, 8);
  sb.namespace_ = "zun-bench";
  sb.log_directory = dir + "/" + sb.uid;
  cri::ContainerConfig cc;
  cc.name = "c0";
  cc.command = {"sleep", "3600"};
  cc.log_path = "c0.log";
  if (absl::Status s = node::MakeDirs(sb.log_directory, 0750); !s.ok()) {
    return s;
  }
  return DirectOnce(cri, sb, cc, calls);
}

absl::StatusOr<double> SameConfig(cri::CriClient& cri,
                                  const capsule::MapperOptions& m, bool seccomp,
                                  CallTimes& calls) {
  capsule::Capsule c;
  c.record.uuid = NewUuid4();
  c.record.name = "config-" + c.record.uuid.substr(0, 8);
  c.record.restart_policy = {{"Name", "always"}, {"MaximumRetryCount", "0"}};
  c.containers.push_back(
      testing::AgentHarness::Child("c0", {"sleep", "3600"}, false, kImage));
  absl::StatusOr<cri::PodSandboxConfig> sb =
      capsule::BuildSandboxConfig(c, m, 0);
  if (!sb.ok()) return sb.status();
  if (absl::Status s = node::MakeDirs(sb->log_directory, 0750); !s.ok()) {
    return s;
  }
  absl::StatusOr<cri::ContainerConfig> cc =
      capsule::BuildContainerConfig(c, c.containers[0], m, kImage, 0);
  if (!cc.ok()) return cc.status();
  if (!seccomp) {
    sb->seccomp.reset();
    cc->seccomp.reset();
  }
  return DirectOnce(cri, *sb, *cc, calls);
}

// The agent, timed two ways:
//   ours     to the commit of the Running write (its commit timestamp),
//            the end found by a light poll (every 50 ms, so that the poll
//            takes no CPU from containerd);
//   outside  as the outside review did: the capsule's row polled every
//            2 ms until it reads Running, timed when the poll sees it.
// Returns ms.
absl::StatusOr<double> ThroughAgent(testing::AgentHarness& h, bool outside) {
  FleetSpec spec;
  spec.containers = 1;
  spec.image = kImage;
  spec.pull_policy = "ifnotpresent";
  std::vector<capsule::Capsule> caps = MakeCapsules(h, spec);
  std::vector<absl::Time> sent;
  if (absl::Status s = CastCreates(h, caps, &sent); !s.ok()) return s;
  const std::string where = outside
                                ? absl::StrCat("uuid = '", caps.front().uuid(),
                                               "' AND status = 'Running'")
                                : "container_type = 1 AND status = 'Running'";
  if (!WaitRows(h, where, 1, absl::Minutes(1),
                absl::Milliseconds(outside ? 2 : 50))) {
    return absl::DeadlineExceededError("the capsule did not reach Running");
  }
  const absl::Time seen = absl::Now();
  absl::Time last;
  std::vector<double> l = RunningLatenciesMs(h, caps, sent, &last);
  std::vector<absl::Time> dsent;
  if (absl::Status s = CastDeletes(h, caps, &dsent); !s.ok()) return s;
  if (!WaitRows(h, "container_type = 1", 0, absl::Minutes(1),
                absl::Milliseconds(10))) {
    return absl::DeadlineExceededError("the capsule was not deleted");
  }
  if (outside) return absl::ToDoubleMilliseconds(seen - sent.front());
  if (l.empty()) return absl::InternalError("no Running time recorded");
  return l.front();
}

}  // namespace

absl::StatusOr<Json> InterleavedPairs(testing::AgentHarness& h,
                                      testing::AgentHarness& unconfined,
                                      const capsule::MapperOptions& m,
                                      int rounds, int metrics_port) {
  // minimal, config, unconfined, agent, agent timed the outside way, the
  // agent configured without seccomp
  constexpr int kArms = 6;
  std::vector<double> t[kArms], ratio, own, outside, bare, bare_own;
  const std::string dir = h.dir() + "/minimal-logs";
  node::MakeDirs(dir, 0750).IgnoreError();
  const std::string series = "zun_agent_cri_request_duration_seconds_sum";
  std::map<std::string, double> cri0;
  CallTimes direct[3];                 // minimal, config, unconfined
  for (int r = 0; r <= rounds; ++r) {  // round 0 warms up, untimed
    if (r == 1) cri0 = ScrapeBy(metrics_port, series, "method");
    double ms[kArms] = {0, 0, 0, 0, 0, 0};
    for (int k = 0; k < kArms; ++k) {
      // Rotate the order so that none is always first after a delete.
      const int arm = (r + k) % kArms;
      CallTimes scratch;
      CallTimes& calls = r == 0 || arm >= 3 ? scratch : direct[arm];
      absl::StatusOr<double> one =
          arm == 0   ? Minimal(h.cri(), dir, calls)
          : arm == 1 ? SameConfig(h.cri(), m, true, calls)
          : arm == 2 ? SameConfig(h.cri(), m, false, calls)
          : arm == 5 ? ThroughAgent(unconfined, false)
                     : ThroughAgent(h, arm == 4);
      if (!one.ok()) return one.status();
      ms[arm] = *one;
    }
    if (r == 0) continue;
    for (int a = 0; a < kArms; ++a) t[a].push_back(ms[a]);
    ratio.push_back(ms[3] / ms[0]);
    own.push_back(ms[3] / ms[1]);
    outside.push_back(ms[4] / ms[0]);
    bare.push_back(ms[5] / ms[0]);
    bare_own.push_back(ms[5] / ms[2]);
  }
  // What the agent spent in each CRI call (its own metrics), per capsule,
  // create and delete.
  Json calls = Json::object();
  for (const auto& [method, seconds] :
       ScrapeBy(metrics_port, series, "method")) {
    const double d = seconds - cri0[method];
    if (d > 0) calls[method] = 1000 * d / (2 * rounds);  // two agent arms
  }
  // The direct arms' mean per call, comparable with the agent's.
  Json direct_calls = Json::object();
  const char* arm_names[3] = {"minimal", "config", "unconfined"};
  for (int a = 0; a < 3; ++a) {
    Json j = Json::object();
    for (const auto& [call, v] : direct[a]) {
      double sum = 0;
      for (double x : v) sum += x;
      j[call] = v.empty() ? 0.0 : sum / v.size();
    }
    direct_calls[arm_names[a]] = j;
  }
  const Summary r = Summarize(ratio), o = Summarize(own),
                w = Summarize(outside), b = Summarize(bare),
                bo = Summarize(bare_own);
  return Json{
      {"rounds", rounds},
      {"minimal_direct_ms_median", Summarize(t[0]).median},
      {"agent_config_direct_ms_median", Summarize(t[1]).median},
      {"agent_config_unconfined_direct_ms_median", Summarize(t[2]).median},
      {"agent_ms_median", Summarize(t[3]).median},
      {"agent_polled_2ms_ms_median", Summarize(t[4]).median},
      {"agent_unconfined_ms_median", Summarize(t[5]).median},
      {"agent_vs_minimal_ratio",
       {{"median", r.median}, {"min", r.min}, {"max", r.max}}},
      {"agent_vs_same_config_ratio",
       {{"median", o.median}, {"min", o.min}, {"max", o.max}}},
      {"agent_unconfined_vs_minimal_ratio",
       {{"median", b.median}, {"min", b.min}, {"max", b.max}}},
      {"agent_unconfined_vs_same_config_ratio",
       {{"median", bo.median}, {"min", bo.min}, {"max", bo.max}}},
      {"agent_polled_2ms_vs_minimal_ratio",
       {{"median", w.median}, {"min", w.min}, {"max", w.max}}},
      {"agent_cri_ms_per_capsule_by_call", calls},
      {"direct_cri_ms_mean_by_call", direct_calls}};
}

}  // namespace zun::bench
