#include "bench/fleet.h"

#include <thread>

#include "absl/time/clock.h"
#include "bench/bench_util.h"
#include "rpc/py_json.h"
#include "rpc/rpc_caster.h"
#include "rpc/transport_url.h"
#include "rpc/zun_object.h"

namespace zun::bench {
namespace {

absl::StatusOr<rpc::RpcCaster> CasterFor(testing::AgentHarness& h) {
  absl::StatusOr<rpc::TransportUrl> url = rpc::ParseTransportUrl(h.amqp_url());
  if (!url.ok()) return url.status();
  rpc::CasterOptions o;
  o.url = *url;
  o.timeout = absl::Seconds(60);
  return rpc::RpcCaster(o);
}

rpc::OrderedJson Context() {
  return {{"request_id", "req-bench"},
          {"user_id", "bench"},
          {"project_id", "bench"},
          {"roles", rpc::OrderedJson::array({"admin"})}};
}

absl::Status Cast(testing::AgentHarness& h,
                  const std::vector<rpc::RpcCaster::Message>& messages,
                  std::vector<absl::Time>* sent, double per_second = 0) {
  absl::StatusOr<rpc::RpcCaster> caster = CasterFor(h);
  if (!caster.ok()) return caster.status();
  sent->assign(messages.size(), absl::InfinitePast());
  absl::Time start = absl::InfinitePast();
  return caster->CastMany(h.host(), messages, Context(), [&](size_t i) {
    if (per_second > 0) {
      if (i == 0) start = absl::Now();
      const absl::Time due =
          start + absl::Seconds(static_cast<double>(i) / per_second);
      const absl::Duration wait = due - absl::Now();
      if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
    }
    (*sent)[i] = absl::Now();
  });
}

}  // namespace

std::vector<capsule::Capsule> MakeCapsules(testing::AgentHarness& h,
                                           const FleetSpec& spec) {
  std::vector<capsule::Capsule> out;
  out.reserve(static_cast<size_t>(spec.capsules));
  for (int i = 0; i < spec.capsules; ++i) {
    capsule::Capsule c;
    for (int k = 0; k < spec.containers; ++k) {
      capsule::ContainerRecord child = testing::AgentHarness::Child(
          "c" + std::to_string(k), {"sleep", "3600"}, false, spec.image);
      child.image_pull_policy = spec.pull_policy;
      c.containers.push_back(std::move(child));
    }
    out.push_back(h.CreateCapsule(std::move(c)));
  }
  // A cloud's database has planner statistics (autovacuum keeps them); a
  // scratch database just filled has none for `container` until
  // autovacuum's next round, and plans made without them scan the table.
  // (The action tables are still empty here: statistics saying so would
  // mislead the planner once they fill.) Only then: an ANALYZE invalidates
  // every plan the agent's connections hold, and the next statement on
  // each is planned again, which a later phase would then measure.
  if (!h.db()
           .Query("SELECT 1 FROM pg_stat_user_tables WHERE relname = "
                  "'container' AND last_analyze IS NULL AND "
                  "last_autoanalyze IS NULL")
           .empty()) {
    h.db().Exec("ANALYZE container");
  }
  return out;
}

absl::Status CastCreates(testing::AgentHarness& h,
                         const std::vector<capsule::Capsule>& capsules,
                         std::vector<absl::Time>* sent, double per_second) {
  std::vector<rpc::RpcCaster::Message> messages;
  for (const capsule::Capsule& c : capsules) {
    messages.push_back({"container_create", rpc::OrderedJson(h.CreateArgs(c))});
  }
  return Cast(h, messages, sent, per_second);
}

absl::Status CastDeletes(testing::AgentHarness& h,
                         const std::vector<capsule::Capsule>& capsules,
                         std::vector<absl::Time>* sent) {
  std::vector<rpc::RpcCaster::Message> messages;
  for (const capsule::Capsule& c : capsules) {
    if (absl::Status s = h.api().MarkDeleting(c.uuid()); !s.ok()) return s;
    rpc::OrderedJson args = {{"container", rpc::EncodeCapsule(c, "1.4")},
                             {"force", false}};
    messages.push_back({"container_delete", std::move(args)});
  }
  return Cast(h, messages, sent);
}

bool WaitRows(testing::AgentHarness& h, const std::string& where, int n,
              absl::Duration timeout, absl::Duration poll) {
  const absl::Time deadline = absl::Now() + timeout;
  while (CountRows(h.db(), where) != n) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(poll));
  }
  return true;
}

std::vector<double> RunningLatenciesMs(
    testing::AgentHarness& h, const std::vector<capsule::Capsule>& capsules,
    const std::vector<absl::Time>& sent, absl::Time* last_running) {
  const std::map<std::string, absl::Time> at = StatusTimes(h.db(), "Running");
  std::vector<double> out;
  *last_running = absl::InfinitePast();
  for (size_t i = 0; i < capsules.size(); ++i) {
    auto it = at.find(capsules[i].uuid());
    if (it == at.end()) continue;
    out.push_back(absl::ToDoubleMilliseconds(it->second - sent[i]));
    *last_running = std::max(*last_running, it->second);
  }
  return out;
}

}  // namespace zun::bench
