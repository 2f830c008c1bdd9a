#include "rpc/amqp_rpc_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/thread_util.h"
#include "common/uuid.h"

namespace zun::rpc {
namespace {

constexpr uint16_t kConsumeChannel = 1;
constexpr uint16_t kReplyChannel = 2;
constexpr int kMaxEventsPerPump = 256;
constexpr size_t kMaxObsoleteQueues = 200;

// The _unique_id inside a reply body we published (for Basic.Return).
std::string ReplyUniqueId(const std::string& body) {
  nlohmann::json outer = nlohmann::json::parse(body, nullptr, false);
  if (!outer.is_object()) return "";
  auto m = outer.find("oslo.message");
  if (m == outer.end() || !m->is_string()) return "";
  nlohmann::json inner =
      nlohmann::json::parse(m->get<std::string>(), nullptr, false);
  if (!inner.is_object()) return "";
  auto u = inner.find("_unique_id");
  return u != inner.end() && u->is_string() ? u->get<std::string>() : "";
}

}  // namespace

AmqpRpcServer::AmqpRpcServer(AmqpRpcOptions options, Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      backoff_(options_.reconnect,
               static_cast<uint64_t>(absl::ToUnixNanos(clock.Now()))) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  outbox_ = std::make_shared<Outbox>([this] { Wake(); });
}

AmqpRpcServer::~AmqpRpcServer() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status AmqpRpcServer::Start(RpcHandler& handler) {
  if (thread_.joinable())
    return absl::FailedPreconditionError("already started");
  if (options_.url.hosts.empty()) {
    return absl::InvalidArgumentError("no AMQP host to connect to");
  }
  if (options_.server.empty()) {
    return absl::InvalidArgumentError("the RPC server name (host) is empty");
  }
  handler_ = &handler;
  thread_ = std::thread([this] {
    SetCurrentThreadName("amqp");
    Run();
  });
  return absl::OkStatus();
}

void AmqpRpcServer::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  Wake();
  thread_.join();
  outbox_->Close();
}

RpcCounters AmqpRpcServer::Counters() const {
  absl::MutexLock l(&counters_mu_);
  return counters_;
}

std::string AmqpRpcServer::FanoutQueueForTest() const {
  absl::MutexLock l(&fanout_mu_);
  return fanout_name_copy_;
}

void AmqpRpcServer::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
}

void AmqpRpcServer::WaitForWork(absl::Duration max) {
  pollfd p{wake_fd_, POLLIN, 0};
  const int ms = static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(max), 0, 60000));
  poll(&p, 1, ms);
  uint64_t v;
  while (read(wake_fd_, &v, sizeof(v)) > 0) {
  }
}

void AmqpRpcServer::Run() {
  while (!stopping_.load()) {
    if (!conn_) {
      absl::Status s = Connect();
      if (!s.ok()) {
        const absl::Duration delay = backoff_.Next();
        {
          absl::MutexLock l(&counters_mu_);
          ++counters_.connection_errors;
        }
        ZUN_LOG(kRpc, warn, "AMQP connection failed ({}); retrying in {}",
                s.message(), absl::FormatDuration(delay));
        conn_.reset();
        WaitForWork(delay);
        continue;
      }
      backoff_.Reset();
    }
    ProcessOutbox();
    SendDueHeartbeats();
    RetryReturnedReplies();
    while (conn_ && !to_publish_.empty()) {
      PendingReply r = std::move(to_publish_.front());
      to_publish_.pop_front();
      if (absl::Status s = PublishReply(std::move(r)); !s.ok()) {
        Disconnect(s);
      }
    }
    if (!conn_) continue;
    if (absl::Status s = Pump(); !s.ok()) Disconnect(s);
  }
  // Shutdown: flush acks and replies, wait briefly for their confirms, drop
  // the fanout queue (as oslo does), close.
  if (conn_) {
    ProcessOutbox();
    while (conn_ && !to_publish_.empty()) {
      PendingReply r = std::move(to_publish_.front());
      to_publish_.pop_front();
      if (!PublishReply(std::move(r)).ok()) break;
    }
    const absl::Time deadline = clock_.Now() + absl::Seconds(2);
    while (conn_ && !unconfirmed_.empty() && clock_.Now() < deadline) {
      absl::StatusOr<AmqpEvent> ev = conn_->Read(absl::Milliseconds(100));
      if (!ev.ok()) break;
      if (ev->kind == AmqpEvent::Kind::kPublishAck ||
          ev->kind == AmqpEvent::Kind::kPublishNack ||
          ev->kind == AmqpEvent::Kind::kReturn) {
        HandleEvent(*ev);
      }
    }
    if (conn_ && !fanout_queue_.empty()) {
      conn_->DeleteQueue(kConsumeChannel, fanout_queue_).IgnoreError();
    }
    if (conn_) conn_->Close();
    conn_.reset();
  }
  connected_.store(false);
}

absl::Status AmqpRpcServer::Connect() {
  const AmqpHost& host =
      options_.url.hosts[next_host_ % options_.url.hosts.size()];
  ++next_host_;
  AmqpConnectOptions co;
  co.host = host;
  co.vhost = options_.url.vhost;
  co.tls = options_.tls;
  co.tls.enabled = options_.tls.enabled || options_.url.ssl;
  co.heartbeat_seconds = options_.heartbeat_timeout_threshold;
  co.connect_timeout = options_.connect_timeout;
  co.rpc_timeout = options_.rpc_timeout;
  co.connection_name = absl::StrCat(options_.connection_name, ":", getpid(),
                                    ":", options_.server);
  absl::StatusOr<std::unique_ptr<AmqpConnection>> c = AmqpConnection::Open(co);
  if (!c.ok()) return c.status();
  conn_ = *std::move(c);
  if (absl::Status s = conn_->OpenChannel(kConsumeChannel); !s.ok()) return s;
  if (absl::Status s = conn_->OpenChannel(kReplyChannel); !s.ok()) return s;
  if (absl::Status s = conn_->ConfirmSelect(kReplyChannel); !s.ok()) return s;
  if (options_.prefetch_count > 0) {
    if (absl::Status s = conn_->Qos(kConsumeChannel, options_.prefetch_count);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = DeclareTopology(); !s.ok()) return s;
  ++generation_;
  publish_seq_ = 0;
  // Replies that were in flight on the old connection go out again (with
  // fresh _unique_ids, so a caller that did get them drops the copy).
  for (auto& [seq, r] : unconfirmed_) {
    if (r.ending) to_publish_.push_back(std::move(r));
  }
  unconfirmed_.clear();
  connected_.store(true);
  {
    absl::MutexLock l(&counters_mu_);
    if (generation_ > 1) ++counters_.reconnects;
  }
  ZUN_LOG(kRpc, info,
          "consuming from AMQP {}:{} vhost '{}' as '{}': queues {}, {}.{}, {}",
          host.host, host.port, options_.url.vhost, host.user, options_.topic,
          options_.topic, options_.server, fanout_queue_);
  return absl::OkStatus();
}

absl::Status AmqpRpcServer::DeclareTopology() {
  AmqpArgs topic_args;
  if (options_.ha_queues) topic_args["x-ha-policy"] = std::string("all");
  if (options_.quorum_queues)
    topic_args["x-queue-type"] = std::string("quorum");
  const bool durable = options_.durable_queues || options_.quorum_queues;
  const ExchangeSpec topic_exchange{options_.control_exchange, "topic", durable,
                                    options_.auto_delete};
  const std::string server_queue =
      absl::StrCat(options_.topic, ".", options_.server);
  for (const std::string& q : {options_.topic, server_queue}) {
    if (absl::Status s =
            conn_->DeclareExchange(kConsumeChannel, topic_exchange);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = conn_->DeclareQueue(
            kConsumeChannel,
            QueueSpec{q, durable, false, options_.auto_delete, topic_args});
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            conn_->BindQueue(kConsumeChannel, q, options_.control_exchange, q);
        !s.ok()) {
      return s;
    }
  }
  const std::string fanout_exchange = absl::StrCat(options_.topic, "_fanout");
  if (absl::Status s = conn_->DeclareExchange(
          kConsumeChannel,
          ExchangeSpec{fanout_exchange, "fanout", false, true});
      !s.ok()) {
    return s;
  }
  AmqpArgs fanout_args;
  if (options_.transient_queues_ttl > 0) {
    fanout_args["x-expires"] =
        static_cast<int32_t>(options_.transient_queues_ttl * 1000);
  }
  if (options_.ha_queues) fanout_args["x-ha-policy"] = std::string("all");
  fanout_queue_ = absl::StrCat(fanout_exchange, "_", NewUuid4Hex());
  if (absl::Status s = conn_->DeclareQueue(
          kConsumeChannel,
          QueueSpec{fanout_queue_, false, false, false, fanout_args});
      !s.ok()) {
    return s;
  }
  if (absl::Status s = conn_->BindQueue(kConsumeChannel, fanout_queue_,
                                        fanout_exchange, options_.topic);
      !s.ok()) {
    return s;
  }
  {
    absl::MutexLock l(&fanout_mu_);
    fanout_name_copy_ = fanout_queue_;
  }
  for (const std::string& q : {options_.topic, server_queue, fanout_queue_}) {
    absl::StatusOr<std::string> tag = conn_->Consume(kConsumeChannel, q, "");
    if (!tag.ok()) return tag.status();
  }
  return absl::OkStatus();
}

void AmqpRpcServer::Disconnect(const absl::Status& why) {
  if (!conn_) return;
  ZUN_LOG(kRpc, warn, "AMQP connection lost: {}; reconnecting", why.message());
  {
    absl::MutexLock l(&counters_mu_);
    ++counters_.connection_errors;
  }
  connected_.store(false);
  conn_.reset();
  fanout_queue_.clear();
  {
    absl::MutexLock l(&fanout_mu_);
    fanout_name_copy_.clear();
  }
  // Unacked deliveries of this connection are requeued by the broker: the
  // copies waiting here come back again. Ids stay known, so a message
  // handled (or still being handled) is not run a second time.
  for (auto& [id, seen] : seen_) seen.waiting.clear();
}

absl::Time AmqpRpcServer::NextTimer() {
  absl::Time next = clock_.Now() + absl::Seconds(1);
  for (const auto& [id, call] : calls_) next = std::min(next, call.next);
  if (!to_publish_.empty()) next = clock_.Now();
  if (!retry_queue_.empty())
    next = std::min(next, retry_queue_.front().retry_at);
  return next;
}

absl::Status AmqpRpcServer::Pump() {
  if (!conn_->HasBufferedInput()) {
    const absl::Duration wait =
        std::max(absl::ZeroDuration(), NextTimer() - clock_.Now());
    pollfd fds[2] = {{conn_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    poll(fds, 2, static_cast<int>(absl::ToInt64Milliseconds(wait)) + 1);
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      while (read(wake_fd_, &v, sizeof(v)) > 0) {
      }
    }
  }
  // Read whatever is there (this also services AMQP heartbeats).
  for (int i = 0; i < kMaxEventsPerPump && conn_; ++i) {
    absl::StatusOr<AmqpEvent> ev = conn_->Read(absl::ZeroDuration());
    if (!ev.ok()) return ev.status();
    if (ev->kind == AmqpEvent::Kind::kNone) break;
    HandleEvent(*ev);
  }
  return absl::OkStatus();
}

void AmqpRpcServer::HandleEvent(const AmqpEvent& ev) {
  switch (ev.kind) {
    case AmqpEvent::Kind::kDelivery:
      HandleDelivery(ev);
      return;
    case AmqpEvent::Kind::kPublishAck:
      OnConfirm(ev.delivery_tag, ev.multiple, true);
      return;
    case AmqpEvent::Kind::kPublishNack:
      OnConfirm(ev.delivery_tag, ev.multiple, false);
      return;
    case AmqpEvent::Kind::kReturn: {
      const std::string uid = ReplyUniqueId(ev.body);
      for (auto& [seq, r] : unconfirmed_) {
        if (r.unique_id == uid) r.returned = true;
      }
      ZUN_LOG(kRpc, debug, "reply to '{}' returned: {} {}", ev.routing_key,
              ev.reply_code, ev.reply_text);
      return;
    }
    case AmqpEvent::Kind::kChannelClosed:
    case AmqpEvent::Kind::kConnectionClosed:
      Disconnect(absl::UnavailableError(absl::StrCat(
          "server closed the ",
          ev.kind == AmqpEvent::Kind::kChannelClosed ? "channel" : "connection",
          ": ", ev.reply_code, " ", ev.reply_text)));
      return;
    case AmqpEvent::Kind::kConsumerCancelled:
      Disconnect(absl::UnavailableError(
          absl::StrCat("consumer '", ev.consumer_tag,
                       "' cancelled by the server (queue deleted?)")));
      return;
    case AmqpEvent::Kind::kNone:
    case AmqpEvent::Kind::kOther:
      return;
  }
}

void AmqpRpcServer::HandleDelivery(const AmqpEvent& ev) {
  {
    absl::MutexLock l(&counters_mu_);
    ++counters_.received;
  }
  absl::StatusOr<IncomingMessage> msg = DecodeMessage(ev.body, options_.limits);
  if (!msg.ok()) {
    {
      absl::MutexLock l(&counters_mu_);
      ++counters_.malformed;
    }
    ZUN_LOG(kRpc, warn,
            "rejecting malformed message (delivery {} on '{}', {} bytes): {}",
            ev.delivery_tag, ev.routing_key, ev.body.size(),
            msg.status().message());
    if (absl::Status s = conn_->Reject(kConsumeChannel, ev.delivery_tag, false);
        !s.ok()) {
      Disconnect(s);
    }
    return;
  }
  if (!msg->unique_id.empty() &&
      HandleDuplicate(ev, msg->unique_id, msg->method)) {
    return;
  }
  if (msg->is_call() && msg->timeout && *msg->timeout / 2 >= 1) {
    const absl::Duration interval = absl::Seconds(*msg->timeout / 2);
    calls_[*msg->msg_id] =
        ActiveCall{*msg->reply_q, interval, clock_.Now() + interval};
  }
  auto delivery = std::make_unique<AmqpDelivery>(
      outbox_, generation_, ev.delivery_tag, *msg, ev.redelivered);
  handler_->OnMessage(*std::move(msg), std::move(delivery));
}

bool AmqpRpcServer::HandleDuplicate(const AmqpEvent& ev, const std::string& id,
                                    const std::string& method) {
  auto it = seen_.find(id);
  if (it == seen_.end()) {
    seen_[id];
    seen_order_.push_back(id);
    // Forget the oldest settled ids; one still being handled stays.
    while (seen_order_.size() > options_.dedup_window) {
      auto front = seen_.find(seen_order_.front());
      if (front != seen_.end() && !front->second.settled) break;
      if (front != seen_.end()) seen_.erase(front);
      seen_order_.pop_front();
    }
    return false;
  }
  {
    absl::MutexLock l(&counters_mu_);
    ++counters_.duplicates;
  }
  if (!it->second.settled) {
    ZUN_LOG(kRpc, info,
            "message '{}' ({}) redelivered while still being handled: it is "
            "settled with the first delivery",
            id, method);
    it->second.waiting.push_back(ev.delivery_tag);
    return true;
  }
  ZUN_LOG(kRpc, info, "dropping duplicate message '{}' ({})", id, method);
  if (absl::Status s = conn_->Ack(kConsumeChannel, ev.delivery_tag); !s.ok()) {
    Disconnect(s);
  }
  return true;
}

bool AmqpRpcServer::SettleWaiting(const OutboxItem& item) {
  auto it = seen_.find(item.unique_id);
  if (it == seen_.end()) return true;
  std::vector<uint64_t> waiting = std::move(it->second.waiting);
  const bool requeue = item.kind == OutboxItem::Kind::kRequeue;
  // A requeued message runs again when it comes back.
  if (requeue) {
    seen_.erase(it);
  } else {
    it->second.settled = true;
    it->second.waiting.clear();
  }
  for (uint64_t tag : waiting) {
    if (!conn_) return true;
    absl::Status s = item.kind == OutboxItem::Kind::kAck
                         ? conn_->Ack(kConsumeChannel, tag)
                         : conn_->Reject(kConsumeChannel, tag, requeue);
    if (!s.ok()) {
      Disconnect(s);
      return false;
    }
  }
  return true;
}

void AmqpRpcServer::ProcessOutbox() {
  for (OutboxItem& item : outbox_->Drain()) {
    if (item.kind == OutboxItem::Kind::kReply) {
      calls_.erase(item.msg_id);
      PendingReply r;
      r.reply_q = std::move(item.reply_q);
      r.msg_id = std::move(item.msg_id);
      r.result = std::move(item.result);
      r.failure = std::move(item.failure);
      r.first_attempt = clock_.Now();
      to_publish_.push_back(std::move(r));
      continue;
    }
    if (!item.unique_id.empty() && !SettleWaiting(item)) return;
    if (item.kind != OutboxItem::Kind::kAck && !item.msg_id.empty()) {
      calls_.erase(item.msg_id);  // no reply will come: stop heartbeats
    }
    if (!conn_ || item.generation != generation_) continue;  // broker requeued
    absl::Status s =
        item.kind == OutboxItem::Kind::kAck
            ? conn_->Ack(kConsumeChannel, item.delivery_tag)
            : conn_->Reject(kConsumeChannel, item.delivery_tag,
                            item.kind == OutboxItem::Kind::kRequeue);
    if (!s.ok()) {
      Disconnect(s);
      return;
    }
  }
}

absl::Status AmqpRpcServer::PublishReply(PendingReply r) {
  const absl::Time now = clock_.Now();
  for (auto it = obsolete_queues_.begin(); it != obsolete_queues_.end();) {
    it = it->second < now ? obsolete_queues_.erase(it) : std::next(it);
  }
  if (obsolete_queues_.count(r.reply_q)) {
    absl::MutexLock l(&counters_mu_);
    if (r.ending) ++counters_.replies_dropped;
    return absl::OkStatus();
  }
  r.unique_id = NewUuid4Hex();
  r.returned = false;
  const std::string body =
      EncodeReply(r.msg_id, r.unique_id, r.result,
                  r.failure ? &*r.failure : nullptr, r.ending);
  PublishProps props;
  if (absl::Status s =
          conn_->Publish(kReplyChannel, "", r.reply_q, true, body, props);
      !s.ok()) {
    to_publish_.push_front(std::move(r));
    return s;
  }
  unconfirmed_[++publish_seq_] = std::move(r);
  return absl::OkStatus();
}

void AmqpRpcServer::OnConfirm(uint64_t tag, bool multiple, bool ack) {
  auto end = unconfirmed_.upper_bound(tag);
  auto begin = multiple ? unconfirmed_.begin() : unconfirmed_.find(tag);
  if (begin == unconfirmed_.end()) return;
  const absl::Time now = clock_.Now();
  for (auto it = begin; it != end;) {
    PendingReply r = std::move(it->second);
    it = unconfirmed_.erase(it);
    if (ack && !r.returned) {
      absl::MutexLock l(&counters_mu_);
      if (r.ending)
        ++counters_.replies;
      else
        ++counters_.heartbeats;
      continue;
    }
    if (!r.ending) continue;  // a lost heartbeat is not worth a retry
    if (now - r.first_attempt < options_.reply_retry_timeout) {
      r.retry_at = now + options_.reply_retry_interval;
      retry_queue_.push_back(std::move(r));
      continue;
    }
    ZUN_LOG(kRpc, warn,
            "dropping the reply to call '{}': reply queue '{}' is gone",
            r.msg_id, r.reply_q);
    if (obsolete_queues_.size() < kMaxObsoleteQueues) {
      obsolete_queues_[r.reply_q] = now + absl::Seconds(60);
    }
    absl::MutexLock l(&counters_mu_);
    ++counters_.replies_dropped;
  }
}

void AmqpRpcServer::SendDueHeartbeats() {
  if (!conn_) return;
  const absl::Time now = clock_.Now();
  for (auto& [msg_id, call] : calls_) {
    if (call.next > now) continue;
    call.next = now + call.interval;
    PendingReply hb;
    hb.reply_q = call.reply_q;
    hb.msg_id = msg_id;
    hb.ending = false;
    hb.first_attempt = now;
    to_publish_.push_back(std::move(hb));
  }
}

void AmqpRpcServer::RetryReturnedReplies() {
  const absl::Time now = clock_.Now();
  while (!retry_queue_.empty() && retry_queue_.front().retry_at <= now) {
    to_publish_.push_back(std::move(retry_queue_.front()));
    retry_queue_.pop_front();
  }
}

}  // namespace zun::rpc
