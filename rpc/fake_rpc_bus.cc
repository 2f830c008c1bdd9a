#include "rpc/fake_rpc_bus.h"

namespace zun::rpc {

void DeliveryRecord::Ack() {
  absl::MutexLock l(&mu_);
  if (!rejected_ && !requeued_) acked_ = true;
}

void DeliveryRecord::Reject() {
  absl::MutexLock l(&mu_);
  if (!acked_ && !requeued_) rejected_ = true;
}

void DeliveryRecord::Requeue() {
  absl::MutexLock l(&mu_);
  if (!acked_ && !rejected_) requeued_ = true;
}

void DeliveryRecord::Answer(std::optional<OrderedJson> result,
                            std::optional<RemoteError> error) {
  absl::MutexLock l(&mu_);
  if (!rejected_ && !requeued_) acked_ = true;
  if (!is_call_) return;  // a cast has no reply queue: the ack only
  if (answered_) {
    ++extra_answers_;
    return;
  }
  answered_ = true;
  result_ = std::move(result);
  error_ = std::move(error);
}

Settled DeliveryRecord::HowLocked() const {
  if (rejected_) return Settled::kReject;
  if (requeued_) return Settled::kRequeued;
  if (answered_) return error_ ? Settled::kFail : Settled::kReply;
  if (acked_ && !is_call_) return Settled::kAck;
  return Settled::kPending;
}

Settled DeliveryRecord::WaitSettled(absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto final = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return HowLocked() != Settled::kPending;
  };
  mu_.AwaitWithTimeout(absl::Condition(&final), timeout);
  return HowLocked();
}

Settled DeliveryRecord::how() const {
  absl::MutexLock l(&mu_);
  return HowLocked();
}

bool DeliveryRecord::acked() const {
  absl::MutexLock l(&mu_);
  return acked_;
}

std::optional<OrderedJson> DeliveryRecord::result() const {
  absl::MutexLock l(&mu_);
  return result_;
}

std::optional<RemoteError> DeliveryRecord::error() const {
  absl::MutexLock l(&mu_);
  return error_;
}

int DeliveryRecord::extra_answers() const {
  absl::MutexLock l(&mu_);
  return extra_answers_;
}

absl::Status FakeRpcBus::Start(RpcHandler& handler) {
  absl::MutexLock l(&mu_);
  handler_ = &handler;
  return absl::OkStatus();
}

void FakeRpcBus::Stop() {
  absl::MutexLock l(&mu_);
  handler_ = nullptr;
}

bool FakeRpcBus::Connected() const {
  absl::MutexLock l(&mu_);
  return handler_ != nullptr;
}

RpcCounters FakeRpcBus::Counters() const {
  absl::MutexLock l(&mu_);
  return counters_;
}

absl::StatusOr<std::shared_ptr<const DeliveryRecord>> FakeRpcBus::Deliver(
    IncomingMessage msg, bool first_delivery) {
  RpcHandler* handler = nullptr;
  {
    absl::MutexLock l(&mu_);
    if (handler_ == nullptr) {
      return absl::FailedPreconditionError("the fake bus is not started");
    }
    handler = handler_;
    ++counters_.received;
  }
  auto record = std::make_shared<DeliveryRecord>(msg.is_call());
  handler->OnMessage(std::move(msg),
                     std::make_unique<FakeDelivery>(record, first_delivery));
  return std::shared_ptr<const DeliveryRecord>(record);
}

}  // namespace zun::rpc
