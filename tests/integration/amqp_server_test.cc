// AmqpRpcServer in-process against the real RabbitMQ, with a test handler:
// replies, duplicates, malformed input, vanished reply queues, call-monitor
// heartbeats and requeues, observed on the wire through a raw AMQP probe.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/uuid.h"
#include "rpc/amqp_rpc_server.h"
#include "tests/support/amqp_probe.h"
#include "tests/support/poll.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_env.h"

namespace zun::testing {
namespace {

using rpc::OrderedJson;

// Replies to "echo" with its args; "slow" replies after 2.5 s from another
// thread; "requeue_once" drops the first delivery (requeued) and replies to
// the redelivery; "hold" keeps the delivery unsettled in `held`.
class TestHandler : public rpc::RpcHandler {
 public:
  ~TestHandler() override {
    for (auto& t : threads_) t.join();
  }
  void OnMessage(rpc::IncomingMessage msg,
                 std::unique_ptr<rpc::Delivery> d) override {
    ++messages_;
    if (msg.method == "echo") {
      d->Reply(OrderedJson::parse(msg.args.dump()));
    } else if (msg.method == "slow") {
      std::shared_ptr<rpc::Delivery> sd(std::move(d));
      absl::MutexLock l(&mu_);
      threads_.emplace_back([sd] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2500));
        sd->Reply("done");
      });
    } else if (msg.method == "hold") {
      absl::MutexLock l(&mu_);
      held_ = std::move(d);
    } else if (msg.method == "requeue_once") {
      if (requeued_.exchange(true)) {
        d->Reply("second time");
      }  // else: dropped unsettled -> requeued
    } else {
      d->Fail(rpc::NoSuchMethod(msg.method));
    }
  }
  std::atomic<int> messages_{0};
  std::unique_ptr<rpc::Delivery> TakeHeld() {
    absl::MutexLock l(&mu_);
    return std::move(held_);
  }
  bool Holding() {
    absl::MutexLock l(&mu_);
    return held_ != nullptr;
  }

 private:
  std::unique_ptr<rpc::Delivery> held_;
  std::atomic<bool> requeued_{false};
  absl::Mutex mu_;
  std::vector<std::thread> threads_;
};

struct ServerFixture {
  ServerFixture() : server_name("amqp-" + NewUuid4Hex().substr(0, 8)) {
    rpc::AmqpRpcOptions o;
    o.url = *rpc::ParseTransportUrl(TestEnv::Get().amqp_url);
    o.server = server_name;
    o.reply_retry_timeout = absl::Seconds(1);
    o.reply_retry_interval = absl::Milliseconds(100);
    server = std::make_unique<rpc::AmqpRpcServer>(o, RealClock::Default());
    REQUIRE(server->Start(handler).ok());
    REQUIRE(PollUntil([&] { return server->Connected(); }));
    auto p = AmqpProbe::Connect(TestEnv::Get().amqp_url);
    REQUIRE(p.ok());
    probe = *std::move(p);
    auto q = probe->ReplyQueue();
    REQUIRE(q.ok());
    reply_q = *q;
  }
  ~ServerFixture() { server->Stop(); }

  std::string Call(const std::string& method, OrderedJson args,
                   const std::string& msg_id, const std::string& unique_id,
                   std::optional<int> timeout = std::nullopt,
                   const std::string& reply_to = "") {
    rpc::OutgoingRequest r;
    r.method = method;
    r.args = std::move(args);
    r.unique_id = unique_id;
    r.msg_id = msg_id;
    r.reply_q = reply_to.empty() ? reply_q : reply_to;
    r.context = OrderedJson{{"request_id", "req-" + msg_id}};
    std::string body = rpc::EncodeRequest(r);
    if (timeout) {
      // Re-encode with a call-monitor timeout (_timeout).
      OrderedJson outer = OrderedJson::parse(body);
      OrderedJson inner =
          OrderedJson::parse(outer["oslo.message"].get<std::string>());
      inner["_timeout"] = *timeout;
      outer["oslo.message"] = rpc::PyDumps(inner);
      body = rpc::PyDumps(outer);
    }
    return body;
  }

  std::string server_name;
  TestHandler handler;
  std::unique_ptr<rpc::AmqpRpcServer> server;
  std::unique_ptr<AmqpProbe> probe;
  std::string reply_q;
};

nlohmann::json Inner(const std::string& reply) {
  return nlohmann::json::parse(
      nlohmann::json::parse(reply)["oslo.message"].get<std::string>());
}

TEST_CASE("a call gets exactly one final reply in oslo's format") {
  ServerFixture f;
  const std::string rk = "zun-compute." + f.server_name;
  REQUIRE(
      f.probe->Publish("zun", rk, f.Call("echo", {{"x", 1}}, "m1", "u1")).ok());
  auto replies = f.probe->ReadReplies(absl::Seconds(30), 1, absl::Seconds(1));
  REQUIRE(replies.size() == 1);
  nlohmann::json r = Inner(replies[0]);
  CHECK(r["_msg_id"] == "m1");
  CHECK(r["ending"] == true);
  CHECK(r["failure"].is_null());
  CHECK(r["result"]["x"] == 1);
  CHECK(r["_unique_id"].get<std::string>().size() == 32);
  CHECK(r["_unique_id"] != "u1");
  CHECK(PollUntil([&] { return f.server->Counters().replies == 1; }));
}

TEST_CASE("a duplicate _unique_id is dropped and counted") {
  ServerFixture f;
  const std::string rk = "zun-compute." + f.server_name;
  const std::string body = f.Call("echo", {{"x", 2}}, "m2", "dup-1");
  REQUIRE(f.probe->Publish("zun", rk, body).ok());
  REQUIRE(f.probe->Publish("zun", rk, body).ok());
  auto replies = f.probe->ReadReplies(absl::Seconds(30), 1, absl::Seconds(1));
  CHECK(replies.size() == 1);
  CHECK(f.server->Counters().duplicates == 1);
  CHECK(f.handler.messages_ == 1);
}

TEST_CASE("malformed messages are rejected, counted, and serving goes on") {
  ServerFixture f;
  const std::string rk = "zun-compute." + f.server_name;
  const std::vector<std::string> bad_bodies = {
      "garbage", "{\"oslo.version\": \"2.0\"}",
      "{\"oslo.version\": \"9.0\", \"oslo.message\": \"{}\"}",
      std::string(5 << 20, 'x'), "[[[[1]]]]"};
  for (const std::string& bad : bad_bodies) {
    REQUIRE(f.probe->Publish("zun", rk, bad).ok());
  }
  REQUIRE(
      f.probe->Publish("zun", rk, f.Call("echo", {{"ok", true}}, "m3", "u3"))
          .ok());
  auto replies = f.probe->ReadReplies(absl::Seconds(30), 1, absl::Seconds(1));
  REQUIRE(replies.size() == 1);
  CHECK(Inner(replies[0])["result"]["ok"] == true);
  CHECK(f.server->Counters().malformed == 5);
  CHECK(f.server->Connected());
}

TEST_CASE("a reply to a vanished queue is retried, then dropped and counted") {
  ServerFixture f;
  const std::string rk = "zun-compute." + f.server_name;
  REQUIRE(
      f.probe
          ->Publish("zun", rk,
                    f.Call("echo", {}, "m4", "u4", std::nullopt, "reply_gone"))
          .ok());
  REQUIRE(PollUntil([&] { return f.server->Counters().replies_dropped == 1; },
                    absl::Seconds(10)));
  // Still serving.
  REQUIRE(f.probe->Publish("zun", rk, f.Call("echo", {}, "m5", "u5")).ok());
  CHECK(f.probe->ReadReplies(absl::Seconds(30), 1, absl::Seconds(1)).size() ==
        1);
}

TEST_CASE("a call with _timeout gets ending:false heartbeats until its reply") {
  ServerFixture f;
  const std::string rk = "zun-compute." + f.server_name;
  REQUIRE(f.probe->Publish("zun", rk, f.Call("slow", {}, "m6", "u6", 2)).ok());
  auto replies = f.probe->ReadReplies(
      absl::Seconds(30), [](const std::vector<std::string>& got) {
        return !got.empty() && Inner(got.back())["ending"] == true;
      });
  REQUIRE(replies.size() >= 2);
  for (size_t i = 0; i + 1 < replies.size(); ++i) {
    nlohmann::json hb = Inner(replies[i]);
    CHECK(hb["ending"] == false);
    CHECK(hb["result"].is_null());
    CHECK(hb["_msg_id"] == "m6");
  }
  nlohmann::json last = Inner(replies.back());
  CHECK(last["ending"] == true);
  CHECK(last["result"] == "done");
}

TEST_CASE("an unsettled delivery is requeued and handled on redelivery") {
  ServerFixture f;
  const std::string rk = "zun-compute." + f.server_name;
  REQUIRE(
      f.probe->Publish("zun", rk, f.Call("requeue_once", {}, "m7", "u7")).ok());
  auto replies = f.probe->ReadReplies(absl::Seconds(30), 1, absl::Seconds(1));
  REQUIRE(replies.size() == 1);
  CHECK(Inner(replies[0])["result"] == "second time");
  CHECK(f.handler.messages_ == 2);
}

// `rabbitmqctl` on the shared test broker.
absl::StatusOr<CommandResult> Ctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {TestEnv::Get().rmq_base + "/rabbitmqctl",
                                   "-q"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, absl::Seconds(60));
}

// Closes, from the broker's side, the connection whose name ends in
// `suffix`.
bool CloseConnection(const std::string& suffix) {
  auto list = Ctl(
      {"--no-table-headers", "list_connections", "pid", "client_properties"});
  if (!list.ok() || list->exit_code != 0) return false;
  for (absl::string_view line : absl::StrSplit(list->output, '\n')) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() == 2 &&
        absl::StrContains(cols[1], absl::StrCat(suffix, "\"}"))) {
      auto r = Ctl({"close_connection", cols[0], "test"});
      return r.ok() && r->exit_code == 0;
    }
  }
  return false;
}

TEST_CASE(
    "a copy redelivered while its first delivery is being handled waits and "
    "is settled with it") {
  ServerFixture f;
  const std::string rk = "zun-compute." + f.server_name;
  REQUIRE(f.probe->Publish("zun", rk, f.Call("hold", {}, "m8", "u8")).ok());
  REQUIRE(PollUntil([&] { return f.handler.Holding(); }));
  // The connection dies with the delivery unacked: the broker requeues it
  // and delivers the copy on the next connection.
  REQUIRE(CloseConnection(":" + f.server_name));
  REQUIRE(PollUntil([&] { return f.server->Counters().duplicates == 1; }));
  CHECK(f.handler.messages_ == 1);  // not handed out a second time
  // The first delivery's reply settles the copy too: one reply, nothing
  // left in the queue, ready or unacknowledged.
  f.handler.TakeHeld()->Reply("held");
  auto replies = f.probe->ReadReplies(absl::Seconds(30), 1, absl::Seconds(1));
  REQUIRE(replies.size() == 1);
  CHECK(Inner(replies[0])["result"] == "held");
  CHECK(PollUntil([&] {
    auto q = Ctl({"--no-table-headers", "list_queues", "name", "messages"});
    if (!q.ok()) return false;
    for (absl::string_view line : absl::StrSplit(q->output, '\n')) {
      std::vector<std::string> cols = absl::StrSplit(line, '\t');
      if (cols.size() == 2 && cols[0] == rk) return cols[1] == "0";
    }
    return false;
  }));
  CHECK(f.handler.messages_ == 1);
}

}  // namespace
}  // namespace zun::testing
