#include "rpc/outbox.h"

namespace zun::rpc {

void Outbox::Push(OutboxItem item) {
  {
    absl::MutexLock l(&mu_);
    if (closed_) return;
    items_.push_back(std::move(item));
  }
  wake_();
}

std::vector<OutboxItem> Outbox::Drain() {
  absl::MutexLock l(&mu_);
  std::vector<OutboxItem> out;
  out.swap(items_);
  return out;
}

void Outbox::Close() {
  absl::MutexLock l(&mu_);
  closed_ = true;
  items_.clear();
}

AmqpDelivery::AmqpDelivery(std::shared_ptr<Outbox> outbox, uint64_t generation,
                           uint64_t tag, const IncomingMessage& msg,
                           bool redelivered)
    : outbox_(std::move(outbox)),
      generation_(generation),
      tag_(tag),
      unique_id_(msg.unique_id),
      msg_id_(msg.msg_id),
      reply_q_(msg.reply_q),
      redelivered_(redelivered) {}

AmqpDelivery::~AmqpDelivery() {
  if (!settled_.load()) Settle(OutboxItem::Kind::kRequeue);
}

void AmqpDelivery::Settle(OutboxItem::Kind kind) {
  if (settled_.exchange(true)) return;
  OutboxItem item;
  item.kind = kind;
  item.generation = generation_;
  item.delivery_tag = tag_;
  item.unique_id = unique_id_;
  if (msg_id_) item.msg_id = *msg_id_;
  outbox_->Push(std::move(item));
}

void AmqpDelivery::Ack() { Settle(OutboxItem::Kind::kAck); }
void AmqpDelivery::Reject() { Settle(OutboxItem::Kind::kReject); }

void AmqpDelivery::Reply(OrderedJson result) {
  Ack();
  if (!msg_id_ || replied_.exchange(true)) return;
  OutboxItem item;
  item.kind = OutboxItem::Kind::kReply;
  item.msg_id = *msg_id_;
  item.reply_q = *reply_q_;
  item.result = std::move(result);
  outbox_->Push(std::move(item));
}

void AmqpDelivery::Fail(RemoteError error) {
  Ack();
  if (!msg_id_ || replied_.exchange(true)) return;
  OutboxItem item;
  item.kind = OutboxItem::Kind::kReply;
  item.msg_id = *msg_id_;
  item.reply_q = *reply_q_;
  item.failure = std::move(error);
  outbox_->Push(std::move(item));
}

}  // namespace zun::rpc
