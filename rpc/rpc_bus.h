// File: rpc_bus.h
// `RpcBus` is the seam between the agent and the message bus: it delivers
// decoded oslo.messaging requests to an `RpcHandler` and carries acks and
// replies back. Implementations: AmqpRpcServer (RabbitMQ) and, in tests,
// FakeRpcBus (rpc/fake_rpc_bus.h).
//
// Delivery semantics (docs/delivery.md): oslo.messaging acks on receipt
// (at-most-once). zun-agent acks a request only once the request is
// recorded durably: container_create after the capsule is claimed in the
// database (host and task_state written), every other method on receipt
// (its intent is already in the database, or it is a call whose caller
// waits). A request whose Delivery is dropped without an ack is requeued by
// the broker and redelivered; duplicates are suppressed by _unique_id and the
// operations are idempotent, so nothing is processed twice.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "rpc/oslo_codec.h"

namespace zun::rpc {

// The handle of one received request. Thread-safe: any thread may settle it,
// exactly once (later calls are ignored). Destroying it unsettled requeues
// the message (basic.reject requeue=true).
class Delivery {
 public:
  virtual ~Delivery() = default;
  // Acknowledges the message (it will not be redelivered).
  virtual void Ack() = 0;
  // Rejects without requeue (the broker drops it).
  virtual void Reject() = 0;
  // Calls only (no-op for casts): sends the single final reply with this
  // result, or this failure. Acks too if not yet acked.
  virtual void Reply(OrderedJson result) = 0;
  virtual void Fail(RemoteError error) = 0;
  // True when the broker says this is the message's first delivery (the
  // AMQP redelivered flag is clear); false when it may have been delivered
  // before (to this consumer or another, which may have begun the work).
  virtual bool first_delivery() const { return false; }
};

// Receives requests. OnMessage runs on the bus thread and must not block:
// hand the work to another thread and settle the Delivery from there.
class RpcHandler {
 public:
  virtual ~RpcHandler() = default;
  virtual void OnMessage(IncomingMessage message,
                         std::unique_ptr<Delivery> delivery) = 0;
};

// Counters an operator alerts on (read with relaxed loads).
struct RpcCounters {
  uint64_t received = 0;
  uint64_t malformed = 0;        // rejected: undecodable, too big, too deep
  uint64_t duplicates = 0;       // dropped by _unique_id
  uint64_t replies = 0;          // final replies confirmed by the broker
  uint64_t replies_dropped = 0;  // reply queue gone after bounded retries
  uint64_t heartbeats = 0;       // ending:false replies sent
  uint64_t reconnects = 0;
  uint64_t connection_errors = 0;
};

class RpcBus {
 public:
  virtual ~RpcBus() = default;
  // Starts consuming and delivering to `handler` (which must outlive the
  // bus). Returns at once; the bus connects (and reconnects) by itself.
  virtual absl::Status Start(RpcHandler& handler) = 0;
  // Stops consuming, deletes the fanout queue, sends what is queued (acks,
  // replies) within a short deadline and closes the connection. Idempotent.
  virtual void Stop() = 0;
  // True while connected and consuming.
  virtual bool Connected() const = 0;
  virtual RpcCounters Counters() const = 0;
};

}  // namespace zun::rpc
