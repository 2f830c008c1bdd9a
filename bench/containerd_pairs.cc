// Scenario 3's interleaved pairs: the same one-container capsule started
// three ways on the same containerd, in rotating order, each removed before
// the next (as the outside review measured it):
//   minimal  RunPodSandbox, ImageStatus, CreateContainer, StartContainer
//            from a plain client with bare configs;
//   config   the same four calls with the configs the agent builds (DNS,
//            cgroup parent, log directory, seccomp, capabilities ...);
//   unconfined  as config, without the RuntimeDefault seccomp profiles
//            (what the profile costs the runtime);
//   agent    a container_create cast until the capsule row's Running write
//            commits.
// minimal -> config is what the agent's configuration costs in the
// runtime; config -> agent is the agent's own overhead.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/host_fs.h"
#include "bench/bench_util.h"
#include "bench/fleet.h"
#include "bench/scenarios.h"
#include "capsule/mapper.h"
#include "common/uuid.h"

namespace zun::bench {
namespace {

constexpr char kImage[] = "localhost/busybox:latest";

// The four calls, every result checked; the sandbox is removed afterwards.
// Returns the time of the four calls in ms.
absl::StatusOr<double> DirectOnce(cri::CriClient& cri,
                                  const cri::PodSandboxConfig& sb,
                                  cri::ContainerConfig cc) {
  const absl::Time t0 = absl::Now();
  absl::StatusOr<std::string> id = cri.RunPodSandbox(sb, "");
  if (!id.ok()) return id.status();
  absl::Status s = absl::OkStatus();
  absl::StatusOr<std::optional<cri::ImageInfo>> img = cri.ImageStatus(kImage);
  if (!img.ok()) {
    s = img.status();
  } else if (!img->has_value()) {
    s = absl::NotFoundError(absl::StrCat(kImage, " is not in containerd"));
  } else {
    cc.image = (*img)->id;
    absl::StatusOr<std::string> cid = cri.CreateContainer(*id, cc, sb);
    s = cid.ok() ? cri.StartContainer(*cid) : cid.status();
  }
  const double ms = absl::ToDoubleMilliseconds(absl::Now() - t0);
  absl::Status stop = cri.StopPodSandbox(*id);
  absl::Status rm = cri.RemovePodSandbox(*id);
  if (!s.ok()) return s;
  if (!stop.ok()) return stop;
  if (!rm.ok()) return rm;
  return ms;
}

absl::StatusOr<double> Minimal(cri::CriClient& cri, const std::string& dir) {
  cri::PodSandboxConfig sb;
  sb.uid = NewUuid4();
  sb.name = "minimal-" + sb.uid.substr(0, 8);
  sb.namespace_ = "zun-bench";
  sb.log_directory = dir + "/" + sb.uid;
  cri::ContainerConfig cc;
  cc.name = "c0";
  cc.command = {"sleep", "3600"};
  cc.log_path = "c0.log";
  if (absl::Status s = agent::MakeDirs(sb.log_directory, 0750); !s.ok()) {
    return s;
  }
  return DirectOnce(cri, sb, cc);
}

absl::StatusOr<double> SameConfig(cri::CriClient& cri,
                                  const capsule::MapperOptions& m,
                                  bool seccomp) {
  capsule::Capsule c;
  c.record.uuid = NewUuid4();
  c.record.name = "config-" + c.record.uuid.substr(0, 8);
  c.record.restart_policy = {{"Name", "always"}, {"MaximumRetryCount", "0"}};
  c.containers.push_back(
      testing::AgentHarness::Child("c0", {"sleep", "3600"}, false, kImage));
  absl::StatusOr<cri::PodSandboxConfig> sb =
      capsule::BuildSandboxConfig(c, m, 0);
  if (!sb.ok()) return sb.status();
  if (absl::Status s = agent::MakeDirs(sb->log_directory, 0750); !s.ok()) {
    return s;
  }
  absl::StatusOr<cri::ContainerConfig> cc =
      capsule::BuildContainerConfig(c, c.containers[0], m, kImage, 0);
  if (!cc.ok()) return cc.status();
  if (!seccomp) {
    sb->seccomp.reset();
    cc->seccomp.reset();
  }
  return DirectOnce(cri, *sb, *cc);
}

absl::StatusOr<double> ThroughAgent(testing::AgentHarness& h) {
  FleetSpec spec;
  spec.containers = 1;
  spec.image = kImage;
  spec.pull_policy = "ifnotpresent";
  std::vector<capsule::Capsule> caps = MakeCapsules(h, spec);
  std::vector<absl::Time> sent;
  if (absl::Status s = CastCreates(h, caps, &sent); !s.ok()) return s;
  if (!WaitRows(h, "container_type = 1 AND status = 'Running'", 1,
                absl::Minutes(1), absl::Milliseconds(2))) {
    return absl::DeadlineExceededError("the capsule did not reach Running");
  }
  absl::Time last;
  std::vector<double> l = RunningLatenciesMs(h, caps, sent, &last);
  std::vector<absl::Time> dsent;
  if (absl::Status s = CastDeletes(h, caps, &dsent); !s.ok()) return s;
  if (!WaitRows(h, "container_type = 1", 0, absl::Minutes(1),
                absl::Milliseconds(10))) {
    return absl::DeadlineExceededError("the capsule was not deleted");
  }
  if (l.empty()) return absl::InternalError("no Running time recorded");
  return l.front();
}

}  // namespace

absl::StatusOr<Json> InterleavedPairs(testing::AgentHarness& h,
                                      const capsule::MapperOptions& m,
                                      int rounds, int metrics_port) {
  constexpr int kArms = 4;  // minimal, config, unconfined, agent
  std::vector<double> t[kArms], ratio, own;
  const std::string dir = h.dir() + "/minimal-logs";
  agent::MakeDirs(dir, 0750).IgnoreError();
  const std::string series = "zun_agent_cri_request_duration_seconds_sum";
  std::map<std::string, double> cri0;
  for (int r = 0; r <= rounds; ++r) {  // round 0 warms up, untimed
    if (r == 1) cri0 = ScrapeBy(metrics_port, series, "method");
    double ms[kArms] = {0, 0, 0, 0};
    for (int k = 0; k < kArms; ++k) {
      // Rotate the order so that none is always first after a delete.
      const int arm = (r + k) % kArms;
      absl::StatusOr<double> one = arm == 0   ? Minimal(h.cri(), dir)
                                   : arm == 1 ? SameConfig(h.cri(), m, true)
                                   : arm == 2 ? SameConfig(h.cri(), m, false)
                                              : ThroughAgent(h);
      if (!one.ok()) return one.status();
      ms[arm] = *one;
    }
    if (r == 0) continue;
    for (int a = 0; a < kArms; ++a) t[a].push_back(ms[a]);
    ratio.push_back(ms[3] / ms[0]);
    own.push_back(ms[3] / ms[1]);
  }
  // What the agent spent in each CRI call (its own metrics), per capsule,
  // create and delete.
  Json calls = Json::object();
  for (const auto& [method, seconds] :
       ScrapeBy(metrics_port, series, "method")) {
    const double d = seconds - cri0[method];
    if (d > 0) calls[method] = 1000 * d / rounds;
  }
  const Summary r = Summarize(ratio), o = Summarize(own);
  return Json{
      {"rounds", rounds},
      {"minimal_direct_ms_median", Summarize(t[0]).median},
      {"agent_config_direct_ms_median", Summarize(t[1]).median},
      {"agent_config_unconfined_direct_ms_median", Summarize(t[2]).median},
      {"agent_ms_median", Summarize(t[3]).median},
      {"agent_vs_minimal_ratio",
       {{"median", r.median}, {"min", r.min}, {"max", r.max}}},
      {"agent_vs_same_config_ratio",
       {{"median", o.median}, {"min", o.min}, {"max", o.max}}},
      {"agent_cri_ms_per_capsule_by_call", calls}};
}

}  // namespace zun::bench
