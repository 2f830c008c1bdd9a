// File: rpc_endpoint.h
// The zun-compute RPC endpoint: dispatches decoded oslo.messaging requests
// to capsule operations, the way oslo's dispatcher does for Zun's
// compute Manager (endpoint version 1.0, no namespace):
//   - a namespace or an incompatible version -> UnsupportedVersion;
//   - an unknown or private ("_x") method -> NoSuchMethod;
//   - container_create / container_delete (casts, a Capsule) and
//     container_show (call) -> the capsule operations, keyed by uuid;
//   - every other zun-compute method (image_search, network_create, ...)
//     -> a zun.common.exception failure for calls, a logged and counted drop
//     for casts.
// OnMessage runs on the bus thread and never blocks: work goes to the
// KeyedExecutor. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/capsule_ops.h"
#include "agent/keyed_executor.h"
#include "rpc/rpc_bus.h"

namespace zun::agent {

class RpcEndpoint final : public rpc::RpcHandler {
 public:
  RpcEndpoint(CapsuleOps& ops, KeyedExecutor& executor);

  // rpc::RpcHandler
  void OnMessage(rpc::IncomingMessage msg,
                 std::unique_ptr<rpc::Delivery> delivery) override;

  // From now on requests are left unacknowledged (the broker requeues them).
  void BeginShutdown() { shutting_down_.store(true); }

  // Messages by "<method>/<outcome>" (dispatched, unsupported, invalid,
  // no_such_method, unsupported_version, requeued).
  std::map<std::string, uint64_t> Counts() const;

 private:
  void Count(const std::string& method, const char* outcome);
  void HandleCreate(rpc::IncomingMessage& msg,
                    std::unique_ptr<rpc::Delivery> delivery);
  void HandleDelete(rpc::IncomingMessage& msg,
                    std::unique_ptr<rpc::Delivery> delivery);
  void HandleShow(rpc::IncomingMessage& msg,
                  std::unique_ptr<rpc::Delivery> delivery);
  // Rejects a request whose arguments are unusable: failure for calls,
  // counted drop for casts.
  void Invalid(const rpc::IncomingMessage& msg, rpc::Delivery& delivery,
               const std::string& why);

  CapsuleOps& ops_;
  KeyedExecutor& executor_;
  std::atomic<bool> shutting_down_{false};
  mutable absl::Mutex mu_;
  std::map<std::string, uint64_t> counts_ ABSL_GUARDED_BY(mu_);
};

// Whether an endpoint at version `have` serves a request for `want`
// (oslo's version_is_compatible: same major, minor not newer).
bool VersionCompatible(const std::string& have, const std::string& want);

}  // namespace zun::agent
