#include "agent/rpc_endpoint.h"

#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "rpc/zun_object.h"

namespace zun::agent {
namespace {

// Public methods of Zun's compute Manager that zun-agent does not serve
// (the capsule path needs none of them): callers get a Zun error, not
// NoSuchMethod, because the method does exist on a zun-compute.
const std::set<std::string>& UnsupportedZunMethods() {
  static const auto* m = new std::set<std::string>{"container_rebuild",
                                                   "container_reboot",
                                                   "container_stop",
                                                   "container_start",
                                                   "container_pause",
                                                   "container_unpause",
                                                   "container_logs",
                                                   "container_exec",
                                                   "container_exec_resize",
                                                   "container_kill",
                                                   "container_update",
                                                   "resize_container",
                                                   "container_attach",
                                                   "container_resize",
                                                   "container_top",
                                                   "container_get_archive",
                                                   "container_put_archive",
                                                   "container_stats",
                                                   "container_commit",
                                                   "add_security_group",
                                                   "remove_security_group",
                                                   "image_delete",
                                                   "image_pull",
                                                   "image_search",
                                                   "network_detach",
                                                   "network_attach",
                                                   "network_create",
                                                   "network_delete"};
  return *m;
}

constexpr char kCapsulesOnly[] =
    "this node runs capsules only: plain containers need a zun-compute "
    "with the Docker driver (keep capsule nodes in their own availability "
    "zone)";

db::ActionContext ActionCtx(const rpc::IncomingMessage& msg) {
  return db::ActionContext{msg.context.request_id, msg.context.user_id,
                           msg.context.project_id};
}

// The uuid of the `container` argument (a Capsule primitive).
absl::StatusOr<capsule::Capsule> CapsuleArg(const rpc::IncomingMessage& msg) {
  auto it = msg.args.find("container");
  if (it == msg.args.end() || it->is_null()) {
    return absl::InvalidArgumentError("missing argument 'container'");
  }
  return rpc::DecodeCapsule(*it);
}

}  // namespace

bool VersionCompatible(const std::string& have, const std::string& want) {
  std::vector<std::string> h = absl::StrSplit(have, '.');
  std::vector<std::string> w = absl::StrSplit(want, '.');
  int hmaj = 0, hmin = 0, wmaj = 0, wmin = 0;
  if (h.empty() || w.empty() || !absl::SimpleAtoi(h[0], &hmaj) ||
      !absl::SimpleAtoi(w[0], &wmaj)) {
    return false;
  }
  if (h.size() > 1 && !absl::SimpleAtoi(h[1], &hmin)) return false;
  if (w.size() > 1 && !absl::SimpleAtoi(w[1], &wmin)) return false;
  return hmaj == wmaj && hmin >= wmin;
}

RpcEndpoint::RpcEndpoint(CapsuleOps& ops, KeyedExecutor& executor)
    : ops_(ops), executor_(executor) {}

void RpcEndpoint::Count(const std::string& method, const char* outcome) {
  absl::MutexLock l(&mu_);
  ++counts_[absl::StrCat(method, "/", outcome)];
}

std::map<std::string, uint64_t> RpcEndpoint::Counts() const {
  absl::MutexLock l(&mu_);
  return counts_;
}

void RpcEndpoint::Invalid(const rpc::IncomingMessage& msg,
                          rpc::Delivery& delivery, const std::string& why) {
  Count(msg.method, "invalid");
  ZUN_LOG(kRpc, warn, "[req {}] invalid {} ({}): {}", msg.context.request_id,
          msg.method, msg.is_call() ? "call" : "cast", why);
  if (msg.is_call()) {
    delivery.Fail(rpc::ZunError("Invalid", why, 400));
  } else {
    delivery.Ack();
  }
}

void RpcEndpoint::OnMessage(rpc::IncomingMessage msg,
                            std::unique_ptr<rpc::Delivery> delivery) {
  if (shutting_down_.load()) {
    Count(msg.method, "requeued");
    return;  // destroying the delivery requeues it
  }
  if (!msg.ns.empty() || !VersionCompatible("1.0", msg.version)) {
    Count(msg.method, "unsupported_version");
    ZUN_LOG(kRpc, warn, "[req {}] {} asks for version '{}' namespace '{}'",
            msg.context.request_id, msg.method, msg.version, msg.ns);
    if (msg.is_call()) {
      delivery->Fail(rpc::UnsupportedVersion(msg.version, msg.method));
    } else {
      delivery->Ack();
    }
    return;
  }
  if (msg.method == "container_create")
    return HandleCreate(msg, std::move(delivery));
  if (msg.method == "container_delete")
    return HandleDelete(msg, std::move(delivery));
  if (msg.method == "container_show")
    return HandleShow(msg, std::move(delivery));
  if (!msg.method.empty() && msg.method[0] != '_' &&
      UnsupportedZunMethods().count(msg.method)) {
    Count(msg.method, "unsupported");
    ZUN_LOG(kRpc, warn, "[req {}] {} is not served by zun-agent ({})",
            msg.context.request_id, msg.method,
            msg.is_call() ? "call" : "cast");
    if (msg.is_call()) {
      delivery->Fail(rpc::ZunError(
          "ZunException",
          absl::StrCat("zun-agent (a capsule-only compute agent) does not "
                       "implement ",
                       msg.method),
          501));
    } else {
      delivery->Ack();
    }
    return;
  }
  Count(msg.method, "no_such_method");
  ZUN_LOG(kRpc, warn, "[req {}] no such method '{}'", msg.context.request_id,
          msg.method);
  if (msg.is_call()) {
    delivery->Fail(rpc::NoSuchMethod(msg.method));
  } else {
    delivery->Ack();
  }
}

void RpcEndpoint::HandleCreate(rpc::IncomingMessage& msg,
                               std::unique_ptr<rpc::Delivery> delivery) {
  if (auto it = msg.args.find("container"); it != msg.args.end()) {
    absl::StatusOr<rpc::ObjectHeader> h = rpc::PeekObject(*it);
    if (h.ok() && h->name == "Container") {
      // A plain container scheduled here: refused like a failed claim,
      // so the row does not stay Creating and the capacity goes back.
      absl::StatusOr<capsule::ContainerRecord> rec =
          rpc::DecodeContainerRecord(*it);
      if (!rec.ok()) {
        return Invalid(msg, *delivery, std::string(rec.status().message()));
      }
      Count(msg.method, "refused");
      delivery->Ack();
      executor_.Submit(rec->uuid,
                       [this, uuid = rec->uuid, ctx = ActionCtx(msg)] {
                         ops_.Refuse(uuid, ctx, kCapsulesOnly);
                       });
      return;
    }
  }
  absl::StatusOr<capsule::Capsule> c = CapsuleArg(msg);
  if (!c.ok())
    return Invalid(msg, *delivery, std::string(c.status().message()));
  CreateHints hints;
  if (auto nets = msg.args.find("requested_networks"); nets != msg.args.end()) {
    hints.networks = ParseRequestedNetworks(*nets);
  }
  if (!hints.networks.empty()) hints.network = hints.networks[0].network;
  hints.first_delivery = delivery->first_delivery();
  const std::string uuid = c->uuid();
  Count(msg.method, "dispatched");
  std::shared_ptr<rpc::Delivery> d(std::move(delivery));
  executor_.Submit(uuid,
                   [this, uuid, ctx = ActionCtx(msg), hints, d]() mutable {
                     ops_.Create(uuid, ctx, hints, [d] { d->Ack(); });
                   });
}

void RpcEndpoint::HandleDelete(rpc::IncomingMessage& msg,
                               std::unique_ptr<rpc::Delivery> delivery) {
  absl::StatusOr<capsule::Capsule> c = CapsuleArg(msg);
  if (!c.ok())
    return Invalid(msg, *delivery, std::string(c.status().message()));
  bool force = false;
  if (auto f = msg.args.find("force"); f != msg.args.end() && !f->is_null()) {
    if (!f->is_boolean())
      return Invalid(msg, *delivery, "'force' is not a boolean");
    force = f->get<bool>();
  }
  const std::string uuid = c->uuid();
  Count(msg.method, "dispatched");
  // The API wrote task_state = container_deleting before casting: the intent
  // is durable already, and recovery finishes a delete we do not.
  delivery->Ack();
  ops_.RequestCancel(uuid);  // a create in progress stops and rolls back
  executor_.Submit(uuid, [this, uuid, force, ctx = ActionCtx(msg)] {
    ops_.Delete(uuid, force, ctx).IgnoreError();
  });
}

void RpcEndpoint::HandleShow(rpc::IncomingMessage& msg,
                             std::unique_ptr<rpc::Delivery> delivery) {
  auto it = msg.args.find("container");
  if (it == msg.args.end() || it->is_null()) {
    return Invalid(msg, *delivery, "missing argument 'container'");
  }
  absl::StatusOr<capsule::ContainerRecord> rec =
      rpc::DecodeContainerRecord(*it);
  if (!rec.ok())
    return Invalid(msg, *delivery, std::string(rec.status().message()));
  absl::StatusOr<rpc::ObjectHeader> header = rpc::PeekObject(*it);
  const std::string version = header.ok() ? header->version : "1.4";
  const std::string uuid = rec->uuid;
  Count(msg.method, "dispatched");
  std::shared_ptr<rpc::Delivery> d(std::move(delivery));
  executor_.Submit(uuid, [this, uuid, version, d] {
    absl::StatusOr<capsule::Capsule> c = ops_.Show(uuid);
    if (c.ok()) {
      d->Reply(rpc::EncodeCapsule(*c, version));
    } else if (c.status().code() == absl::StatusCode::kNotFound) {
      d->Fail(rpc::ZunError(
          "ContainerNotFound",
          absl::StrCat("Container ", uuid, " could not be found."), 404,
          rpc::OrderedJson{{"container", uuid}}));
    } else {
      d->Fail(rpc::ZunError(
          "ZunException",
          absl::StrCat("Unexpected error: ", c.status().message()), 500));
    }
  });
}

}  // namespace zun::agent
