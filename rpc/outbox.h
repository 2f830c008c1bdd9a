// File: outbox.h  (internal to rpc/)
// Work handed to the AMQP thread by other threads: settling deliveries
// (ack / reject / requeue) and publishing replies. Deliveries hold a
// shared_ptr to the outbox, so one that outlives the server is harmless:
// once the outbox is closed, pushes are dropped.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rpc/oslo_codec.h"
#include "rpc/rpc_bus.h"

namespace zun::rpc {

struct OutboxItem {
  enum class Kind { kAck, kReject, kRequeue, kReply };
  Kind kind = Kind::kAck;
  // Settling: which delivery, on which connection.
  uint64_t generation = 0;
  uint64_t delivery_tag = 0;
  std::string unique_id;  // of the request (forgotten by dedup on requeue)
  // Replies (and, for settled calls, which call stops its heartbeats).
  std::string msg_id;
  std::string reply_q;
  OrderedJson result;
  std::optional<RemoteError> failure;
};

class Outbox {
 public:
  // `wake` is called after each push (to interrupt the AMQP thread's poll).
  explicit Outbox(std::function<void()> wake) : wake_(std::move(wake)) {}

  void Push(OutboxItem item);
  std::vector<OutboxItem> Drain();
  // After Close(), Push drops items.
  void Close();

 private:
  std::function<void()> wake_;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<OutboxItem> items_ ABSL_GUARDED_BY(mu_);
};

// Delivery implementation for AMQP: settles through the outbox.
class AmqpDelivery final : public Delivery {
 public:
  AmqpDelivery(std::shared_ptr<Outbox> outbox, uint64_t generation,
               uint64_t tag, const IncomingMessage& msg, bool redelivered);
  ~AmqpDelivery() override;

  void Ack() override;
  void Reject() override;
  void Reply(OrderedJson result) override;
  void Fail(RemoteError error) override;
  bool first_delivery() const override { return !redelivered_; }

 private:
  void Settle(OutboxItem::Kind kind);

  std::shared_ptr<Outbox> outbox_;
  const uint64_t generation_;
  const uint64_t tag_;
  const std::string unique_id_;
  const std::optional<std::string> msg_id_;
  const std::optional<std::string> reply_q_;
  const bool redelivered_;
  std::atomic<bool> settled_{false};
  std::atomic<bool> replied_{false};
};

}  // namespace zun::rpc
