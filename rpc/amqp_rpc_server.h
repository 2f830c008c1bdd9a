// File: amqp_rpc_server.h
// An oslo.messaging RPC server on RabbitMQ that the Zun control plane cannot
// tell from zun-compute. It declares and consumes exactly what oslo declares
// for Target(topic, server) (../shared/spec/oslo-messaging-wire.md §4.2):
//   exchange  <control_exchange>        topic
//   queue     <topic>                   shared by every compute node
//   queue     <topic>.<server>          this node
//   exchange  <topic>_fanout            fanout, auto-delete
//   queue     <topic>_fanout_<uuid4hex> x-expires
// and replies to calls on the default exchange (mandatory, publisher
// confirms), with call-monitor heartbeats when the caller set _timeout.
//
// Threads: one AMQP thread owns the rabbit-c connection (reads, acks,
// publishes, AMQP heartbeats, reconnects with capped exponential backoff and
// jitter across the hosts of the transport URL). Other threads only push to
// its outbox through Delivery objects. Start/Stop from one controlling
// thread; Connected/Counters from any.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "rpc/amqp_connection.h"
#include "rpc/outbox.h"
#include "rpc/rpc_bus.h"
#include "rpc/transport_url.h"

namespace zun::rpc {

struct AmqpRpcOptions {
  TransportUrl url;
  AmqpTlsOptions tls;  // tls.enabled is also set by amqps:// or ?ssl=1
  std::string control_exchange = "zun";
  std::string topic = "zun-compute";
  std::string server;  // [DEFAULT] host
  // [oslo_messaging_rabbit]
  int heartbeat_timeout_threshold = 60;  // seconds; 0 disables
  uint16_t prefetch_count = 0;           // 0: unlimited (oslo's default)
  bool durable_queues = false;           // amqp_durable_queues
  bool auto_delete = false;              // amqp_auto_delete
  bool ha_queues = false;                // rabbit_ha_queues
  bool quorum_queues = false;            // rabbit_quorum_queue
  int transient_queues_ttl = 1800;       // seconds; 0: no x-expires
  absl::Duration connect_timeout = absl::Seconds(10);
  absl::Duration rpc_timeout = absl::Seconds(10);
  BackoffPolicy reconnect{absl::Milliseconds(200), absl::Seconds(30), 2.0, 0.3};
  // Replies to a queue that does not exist (the caller went away) are
  // retried this often, for this long, then dropped.
  absl::Duration reply_retry_interval = absl::Milliseconds(250);
  absl::Duration reply_retry_timeout = absl::Seconds(10);
  DecodeLimits limits;
  size_t dedup_window = 4096;  // recent _unique_ids remembered
  std::string connection_name = "zun-agent";
};

class AmqpRpcServer final : public RpcBus {
 public:
  AmqpRpcServer(AmqpRpcOptions options, Clock& clock);
  ~AmqpRpcServer() override;

  // RpcBus
  absl::Status Start(RpcHandler& handler) override;
  void Stop() override;
  bool Connected() const override { return connected_.load(); }
  RpcCounters Counters() const override;

  // The name of the current fanout queue ("" when disconnected).
  std::string FanoutQueueForTest() const;

 private:
  struct PendingReply {
    std::string reply_q;
    std::string msg_id;
    std::string unique_id;  // of the last published copy
    OrderedJson result;
    std::optional<RemoteError> failure;
    bool ending = true;
    bool returned = false;
    absl::Time first_attempt;
    absl::Time retry_at;
  };
  struct ActiveCall {
    std::string reply_q;
    absl::Duration interval;
    absl::Time next;
  };

  void Run();
  absl::Status Connect();
  absl::Status DeclareTopology();
  void Disconnect(const absl::Status& why);
  absl::Status Pump();
  void HandleEvent(const AmqpEvent& ev);
  void HandleDelivery(const AmqpEvent& ev);
  void ProcessOutbox();
  absl::Status PublishReply(PendingReply reply);
  void OnConfirm(uint64_t tag, bool multiple, bool ack);
  void SendDueHeartbeats();
  void RetryReturnedReplies();
  absl::Time NextTimer();
  // True if `ev` carries a _unique_id seen recently: then it was settled
  // already (acked as a duplicate) or waits for its first delivery's
  // settlement. Otherwise remembers the id and returns false.
  bool HandleDuplicate(const AmqpEvent& ev, const std::string& unique_id,
                       const std::string& method);
  // A delivery of `item.unique_id` was settled: copies that waited for it
  // get the same settlement. Returns false if the connection failed.
  bool SettleWaiting(const OutboxItem& item);
  void WaitForWork(absl::Duration max);
  void Wake();

  const AmqpRpcOptions options_;
  Clock& clock_;
  RpcHandler* handler_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  int wake_fd_ = -1;
  std::shared_ptr<Outbox> outbox_;

  // AMQP thread only.
  std::unique_ptr<AmqpConnection> conn_;
  uint64_t generation_ = 0;
  size_t next_host_ = 0;
  Backoff backoff_;
  std::string fanout_queue_;
  uint64_t publish_seq_ = 0;  // confirm sequence on the reply channel
  std::map<uint64_t, PendingReply> unconfirmed_;
  std::deque<PendingReply> to_publish_;      // due now
  std::deque<PendingReply> retry_queue_;     // returned replies, by retry_at
  std::map<std::string, ActiveCall> calls_;  // by msg_id
  std::map<std::string, absl::Time> obsolete_queues_;  // reply_q -> expiry
  // Dedup by _unique_id. A copy redelivered while its first delivery is
  // still being handled (the broker requeued it when a connection died)
  // waits and is settled as that one is, so it is neither run twice nor
  // lost. Kept across reconnects; `waiting` holds tags of the current
  // connection only.
  struct SeenMessage {
    bool settled = false;
    std::vector<uint64_t> waiting;
  };
  std::deque<std::string> seen_order_;
  std::unordered_map<std::string, SeenMessage> seen_;

  mutable absl::Mutex counters_mu_;
  RpcCounters counters_ ABSL_GUARDED_BY(counters_mu_);
  mutable absl::Mutex fanout_mu_;
  std::string fanout_name_copy_ ABSL_GUARDED_BY(fanout_mu_);
};

}  // namespace zun::rpc
