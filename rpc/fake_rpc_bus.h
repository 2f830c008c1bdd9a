// File: fake_rpc_bus.h
// The in-memory RpcBus for tests: the test hands it decoded requests, it
// delivers them to the handler as the AMQP bus thread would, and records
// how the handler settled each one (ack, reject, reply, failure, or dropped
// unsettled, which the broker would requeue).
//
// FakeRpcBus is thread-safe; so is every DeliveryRecord (the handler may
// settle from any thread; the test waits with WaitSettled).
#pragma once

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rpc/rpc_bus.h"

namespace zun::rpc {

// How a delivery ended, as the broker and the caller see it.
enum class Settled {
  kPending,   // not yet (a call acked but not yet answered is pending)
  kAck,       // a cast acknowledged
  kReject,    // rejected, not requeued
  kReply,     // a call answered with a result (and acked)
  kFail,      // a call answered with a failure (and acked)
  kRequeued,  // dropped unsettled: the broker would redeliver it
};

// What happened to one delivered message, settled the way AmqpDelivery
// settles: the first of ack, reject or requeue counts with the broker; a
// call's reply or failure acks too and only the first one is sent.
class DeliveryRecord {
 public:
  explicit DeliveryRecord(bool is_call) : is_call_(is_call) {}
  void Ack();
  void Reject();
  void Requeue();  // only if not yet acked or rejected
  void Answer(std::optional<OrderedJson> result,
              std::optional<RemoteError> error);
  // Waits until final (a cast acked, a call answered, or either rejected
  // or requeued) or `timeout` passes; returns how() then.
  Settled WaitSettled(absl::Duration timeout) const;
  Settled how() const;
  bool acked() const;
  std::optional<OrderedJson> result() const;
  std::optional<RemoteError> error() const;
  // Answers after the first (the bus drops them; a handler bug to test).
  int extra_answers() const;

 private:
  Settled HowLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const bool is_call_;
  mutable absl::Mutex mu_;
  bool acked_ ABSL_GUARDED_BY(mu_) = false;
  bool rejected_ ABSL_GUARDED_BY(mu_) = false;
  bool requeued_ ABSL_GUARDED_BY(mu_) = false;
  bool answered_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<OrderedJson> result_ ABSL_GUARDED_BY(mu_);
  std::optional<RemoteError> error_ ABSL_GUARDED_BY(mu_);
  int extra_answers_ ABSL_GUARDED_BY(mu_) = 0;
};

// One delivered message's handle, settling into its record. Thread-safe.
class FakeDelivery final : public Delivery {
 public:
  FakeDelivery(std::shared_ptr<DeliveryRecord> record, bool first_delivery)
      : record_(std::move(record)), first_delivery_(first_delivery) {}
  ~FakeDelivery() override { record_->Requeue(); }  // if still unsettled

  void Ack() override { record_->Ack(); }
  void Reject() override { record_->Reject(); }
  void Reply(OrderedJson result) override {
    record_->Answer(std::move(result), std::nullopt);
  }
  void Fail(RemoteError error) override {
    record_->Answer(std::nullopt, std::move(error));
  }
  bool first_delivery() const override { return first_delivery_; }

 private:
  std::shared_ptr<DeliveryRecord> record_;
  const bool first_delivery_;
};

class FakeRpcBus final : public RpcBus {
 public:
  absl::Status Start(RpcHandler& handler) override;
  void Stop() override;
  bool Connected() const override;
  RpcCounters Counters() const override;

  // Delivers `msg` to the handler (on the caller's thread, as the bus
  // thread would). FAILED_PRECONDITION unless started. The record shows how
  // the handler settles it.
  absl::StatusOr<std::shared_ptr<const DeliveryRecord>> Deliver(
      IncomingMessage msg, bool first_delivery = true);

 private:
  mutable absl::Mutex mu_;
  RpcHandler* handler_ ABSL_GUARDED_BY(mu_) = nullptr;
  RpcCounters counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::rpc
