// RabbitMQ restarts while casts keep arriving: the agent reconnects by
// itself, every capsule cast after the broker came back is handled, and
// nothing is processed twice. Uses its own broker (the shared one must not
// restart under other tests).
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/support/agent_harness.h"
#include "tests/support/capsule_checks.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

class PrivateBroker {
 public:
  // Each test its own port: ctest runs them side by side.
  explicit PrivateBroker(int port = 5702)
      : port_(port),
        base_("/tmp/zun-test-rmq-restart-" + std::to_string(port)) {
    Start();
  }
  ~PrivateBroker() {
    RunCommand({Script("stop-rabbitmq.sh"), base_, "--purge"},
               absl::Seconds(120))
        .IgnoreError();
  }
  void Start() {
    auto r =
        RunCommand({Script("start-rabbitmq.sh"), base_, std::to_string(port_)},
                   absl::Seconds(180));
    REQUIRE(r.ok());
    REQUIRE(r->exit_code == 0);
  }
  void Stop() {
    auto r =
        RunCommand({Script("stop-rabbitmq.sh"), base_}, absl::Seconds(120));
    REQUIRE(r.ok());
  }
  std::string url() const {
    return "rabbit://guest:guest@127.0.0.1:" + std::to_string(port_) + "/";
  }

 private:
  static std::string Script(const char* name) {
    return SourceDir() + "/scripts/" + name;
  }
  int port_;
  std::string base_;
};

// "sent <index> <unix time>" lines of the paced publisher.
std::map<int, double> SentTimes(const std::string& log) {
  std::map<int, double> out;
  std::istringstream in(ReadFile(log));
  std::string word;
  int index;
  double t;
  while (in >> word) {
    if (word == "sent" && in >> index >> t) out[index] = t;
  }
  return out;
}

// Rows of `n` capsules named <prefix><i>, and their container_create casts:
// the first `split` in `first`, the rest in `second`.
struct Casts {
  std::vector<capsule::Capsule> capsules;
  std::vector<nlohmann::json> first, second;
};
Casts MakeCasts(AgentHarness& h, const std::string& prefix, int split, int n) {
  Casts out;
  for (int i = 0; i < n; ++i) {
    out.capsules.push_back(
        h.CreateCapsuleRows(prefix + std::to_string(i), {"busybox"}));
    (i < split ? out.first : out.second)
        .push_back({{"method", "container_create"},
                    {"args", h.CreateArgs(out.capsules.back())}});
  }
  return out;
}

// Starts the paced publisher of `casts` (`interval` seconds apart; output in
// `log`, see SentTimes), with the client arguments `extra`.
std::unique_ptr<Subprocess> PublishPaced(
    AgentHarness& h, const std::string& url,
    const std::vector<nlohmann::json>& casts, const std::string& interval,
    const std::string& log, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   SourceDir() + "/tests/tools/oslo_client.py",
                                   "--url", url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--interval", interval, "cast-paced", "--file",
                           h.WriteCastFile(casts)});
  auto p = Subprocess::Start(argv, log, PyEnv());
  REQUIRE(p.ok());
  return *std::move(p);
}

TEST_CASE(
    "the agent rides out a RabbitMQ restart without losing or repeating work") {
  PrivateBroker broker;
  HarnessOptions o;
  o.amqp_url = broker.url();
  AgentHarness h(o);
  REQUIRE(h.WaitServing());

  // A paced stream runs across the restart (its casts between the stop and
  // the agent's new queue may be lost: the queues are not durable), and a
  // second stream starts once the agent serves again, so that casts after
  // the restart exist however long the reconnection takes.
  constexpr int kAcross = 40, kAfter = 20;
  const Casts work = MakeCasts(h, "r", kAcross, kAcross + kAfter);
  const std::vector<capsule::Capsule>& capsules = work.capsules;
  auto publish = [&](const std::vector<nlohmann::json>& casts,
                     const std::string& log) {
    return PublishPaced(h, broker.url(), casts, "0.15", log);
  };
  const std::string across_log = h.dir() + "/across.log";
  auto first = publish(work.first, across_log);
  REQUIRE(PollUntil([&] { return SentTimes(across_log).size() >= 10; }));

  broker.Stop();
  broker.Start();
  REQUIRE(h.WaitServing(absl::Seconds(120)));
  const double back = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  const std::string after_log = h.dir() + "/after.log";
  auto second = publish(work.second, after_log);

  for (auto* p : {&first, &second}) {
    auto code = (*p)->Wait(absl::Seconds(240));
    REQUIRE(code.ok());
    REQUIRE(*code == 0);
  }
  std::map<int, double> sent = SentTimes(across_log);
  REQUIRE(sent.size() == kAcross);
  for (const auto& [i, t] : SentTimes(after_log)) sent[kAcross + i] = t;
  REQUIRE(sent.size() == kAcross + kAfter);

  int after = 0;
  for (const auto& [i, t] : sent) {
    if (t <= back) continue;
    ++after;
    CAPTURE(i);
    CHECK(
        PollUntil([&] { return h.StatusOf(capsules[i].uuid()) == "Running"; }));
  }
  CHECK(after >= kAfter);
  // Nothing twice: one sandbox and one create event per running capsule.
  for (const auto& c : capsules) {
    if (h.StatusOf(c.uuid()) == "Running") CheckCreatedOnce(h, c);
  }
}

TEST_CASE(
    "durable and quorum queues keep every cast sent before, during and "
    "after a RabbitMQ restart") {
  const std::string mode = GENERATE(std::string("amqp_durable_queues"),
                                    std::string("rabbit_quorum_queue"));
  CAPTURE(mode);
  PrivateBroker broker(5704);
  const std::string rabbit = "[oslo_messaging_rabbit]\n" + mode + " = true\n";
  HarnessOptions o;
  o.amqp_url = broker.url();
  o.extra_config = rabbit;
  AgentHarness h(o);
  // The clients are configured as the control plane would be.
  const std::string client_conf = h.dir() + "/oslo-client.conf";
  std::ofstream(client_conf) << rabbit;
  const std::vector<std::string> durable = {"--config-file", client_conf};
  REQUIRE(h.WaitServing(absl::Seconds(60), durable));  // queues declared

  constexpr int kBefore = 10, kPaced = 30;
  const Casts work = MakeCasts(h, "d", kBefore, kBefore + kPaced);
  const std::vector<capsule::Capsule>& capsules = work.capsules;
  auto publish = [&](const std::vector<nlohmann::json>& casts,
                     const std::string& log) {
    return PublishPaced(h, broker.url(), casts, "0.1", log,
                        {"--config-file", client_conf});
  };
  // Before: the agent is down, the casts wait in the broker.
  REQUIRE(h.StopAgent().ok());
  const std::string before_log = h.dir() + "/before.log";
  auto first = publish(work.first, before_log);
  REQUIRE((*first->Wait(absl::Seconds(120))) == 0);
  REQUIRE(SentTimes(before_log).size() == kBefore);
  // During and after: a paced stream while the broker restarts.
  const std::string paced_log = h.dir() + "/paced.log";
  auto second = publish(work.second, paced_log);
  REQUIRE(PollUntil([&] { return SentTimes(paced_log).size() >= 5; }));
  broker.Stop();
  broker.Start();
  h.StartAgent();
  REQUIRE(h.WaitServing(absl::Seconds(120), durable));
  REQUIRE((*second->Wait(absl::Seconds(240))) == 0);
  REQUIRE(SentTimes(paced_log).size() == kPaced);
  for (const auto& c : capsules) {
    CAPTURE(c.uuid());
    CHECK(PollUntil([&] { return h.StatusOf(c.uuid()) == "Running"; }));
    CheckCreatedOnce(h, c);
  }
}

}  // namespace
}  // namespace zun::testing
