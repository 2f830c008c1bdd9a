#include "cni/cni_daemon.h"

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni/cni_protocol.h"
#include "common/logging.h"

namespace zun::cni {

namespace {

using nlohmann::json;

DaemonReply Fail(int status, const std::string& reason) {
  return DaemonReply{status, json{{"reason", reason}}};
}

std::string Env(const json& request, const char* key) {
  auto it = request.find(key);
  return it != request.end() && it->is_string() ? it->get<std::string>() : "";
}

// The VIFs in plug order: the default one as `default_ifname`, then the
// additional ones by name.
std::vector<std::pair<std::string, const Vif*>> Ordered(
    const CapsuleVifs& vifs, const std::string& default_ifname) {
  std::vector<std::pair<std::string, const Vif*>> out;
  out.emplace_back(default_ifname, &vifs.default_vif);
  for (const auto& [ifname, vif] : vifs.additional) {
    if (ifname != default_ifname) out.emplace_back(ifname, &vif);
  }
  return out;
}

// What a request from zun-cni says: the capsule (K8S_POD_NAME of CNI_ARGS),
// the sandbox, its netns and the interface name.
struct Request {
  std::string uuid;
  std::string sandbox;
  std::string netns;
  std::string ifname;
};

// The request of `body`, or null when it lacks the capsule, or (ADD and
// CHECK: `need_netns`) the netns or interface name. DEL may come with a
// stale or empty netns; its interface defaults to eth0.
std::optional<Request> ParseRequest(const json& body, bool need_netns) {
  absl::StatusOr<std::map<std::string, std::string>> args =
      ParseCniArgs(Env(body, "CNI_ARGS"));
  if (!args.ok() || !args->count("K8S_POD_NAME")) return std::nullopt;
  Request r{args->at("K8S_POD_NAME"), Env(body, "CNI_CONTAINERID"),
            Env(body, "CNI_NETNS"), Env(body, "CNI_IFNAME")};
  if (need_netns && (r.netns.empty() || r.ifname.empty())) return std::nullopt;
  if (r.ifname.empty()) r.ifname = "eth0";
  return r;
}

DaemonReply BadRequest(bool need_netns) {
  return Fail(400, need_netns ? "CNI_ARGS with K8S_POD_NAME, CNI_NETNS and "
                                "CNI_IFNAME are required"
                              : "CNI_ARGS with K8S_POD_NAME is required");
}

}  // namespace

CniDaemon::CniDaemon(db::CapsuleStore& store, VifPlugger& plugger,
                     openstack::NeutronClient& neutron, Clock& clock,
                     DaemonOptions options)
    : store_(store),
      plugger_(plugger),
      neutron_(neutron),
      clock_(clock),
      options_(std::move(options)) {}

void CniDaemon::Stop() { stop_.Latch(); }

absl::Mutex& CniDaemon::LockFor(const std::string& uuid) {
  absl::MutexLock l(&mu_);
  std::unique_ptr<absl::Mutex>& m = locks_[uuid];
  if (!m) m = std::make_unique<absl::Mutex>();
  return *m;
}

std::string CniDaemon::StatePath(const std::string& uuid) const {
  return absl::StrCat(options_.state_dir, "/", uuid, ".json");
}

absl::StatusOr<CapsuleVifs> CniDaemon::VifsFromRow(const std::string& uuid) {
  absl::StatusOr<capsule::Capsule> c = store_.LoadCapsule(uuid);
  if (!c.ok()) {
    return absl::Status(c.status().code(), absl::StrCat("capsule ", uuid, ": ",
                                                        c.status().message()));
  }
  absl::StatusOr<CapsuleVifs> vifs = ParseCniMetadata(c->record.cni_metadata);
  if (vifs.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(absl::StrCat(
        "capsule ", uuid,
        " has no cni_metadata: its agent bound no Neutron port ([network] "
        "driver must be cni)"));
  }
  return vifs;
}

absl::Status CniDaemon::WaitActive(const std::vector<std::string>& ids) {
  const absl::Time deadline = clock_.Now() + options_.vif_active_timeout;
  std::vector<std::pair<std::string, std::string>> filters;
  for (const std::string& id : ids) filters.emplace_back("id", id);
  filters.emplace_back("fields", "id");
  filters.emplace_back("fields", "status");
  std::string last = "not asked yet";
  for (;;) {
    absl::StatusOr<std::vector<json>> ports = neutron_.ListPorts(filters);
    if (ports.ok()) {
      std::vector<std::string> waiting;
      for (const std::string& id : ids) {
        std::string status = "missing";
        for (const json& p : *ports) {
          if (p.value("id", "") == id) status = p.value("status", "");
        }
        if (status != "ACTIVE") waiting.push_back(id + " " + status);
      }
      if (waiting.empty()) return absl::OkStatus();
      last = absl::StrJoin(waiting, ", ");
    } else {
      last = std::string(ports.status().message());
    }
    if (clock_.Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "Neutron did not report the port ACTIVE within ",
          absl::FormatDuration(options_.vif_active_timeout), " (", last, ")"));
    }
    if (clock_.WaitFor(options_.poll_interval, stop_)) {
      return absl::CancelledError("the daemon is stopping");
    }
  }
}

DaemonReply CniDaemon::Add(const json& body) {
  std::optional<Request> req = ParseRequest(body, true);
  if (!req) return BadRequest(true);
  const std::string& uuid = req->uuid;
  const std::string& netns = req->netns;
  const std::string& ifname = req->ifname;
  const std::string& sandbox = req->sandbox;
  absl::MutexLock l(&LockFor(uuid));
  absl::StatusOr<CapsuleVifs> vifs = VifsFromRow(uuid);
  if (!vifs.ok()) return Fail(500, std::string(vifs.status().message()));
  std::vector<std::pair<std::string, const Vif*>> order =
      Ordered(*vifs, ifname);
  json state{
      {"containerid", sandbox}, {"netns", netns}, {"vifs", json::object()}};
  std::vector<std::string> ids;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& [name, vif] = order[i];
    absl::Status s = plugger_.Plug(*vif, netns, name, i == 0);
    if (!s.ok()) {
      for (size_t j = 0; j < i; ++j) {
        plugger_.Unplug(*order[j].second, netns, order[j].first).IgnoreError();
      }
      ZUN_LOG(kMain, warn, "capsule {}: plugging port {} as {} failed: {}",
              uuid, vif->id, name, s.message());
      return Fail(500, absl::StrCat("plugging port ", vif->id, " as ", name,
                                    ": ", s.message()));
    }
    state["vifs"][name] = VifToPrimitive(*vif);
    ids.push_back(vif->id);
  }
  // Written before the wait: a DEL that follows a timed-out ADD, or comes
  // after a restart, finds what to unplug.
  const std::string path = StatePath(uuid);
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << state.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.close();
    if (!out || std::rename((path + ".tmp").c_str(), path.c_str()) != 0) {
      ZUN_LOG(kMain, warn, "capsule {}: cannot write {}", uuid, path);
    }
  }
  ZUN_LOG(kMain, info, "capsule {}: plugged {} into {}; waiting for ACTIVE",
          uuid, absl::StrJoin(ids, ", "), netns);
  if (absl::Status s = WaitActive(ids); !s.ok()) {
    ZUN_LOG(kMain, warn, "capsule {}: {}", uuid, s.message());
    return Fail(s.code() == absl::StatusCode::kDeadlineExceeded ? 504 : 500,
                std::string(s.message()));
  }
  Vif def = vifs->default_vif;
  def.active = true;
  json answer = VifToPrimitive(def);
  json extra = json::object();
  for (size_t i = 1; i < order.size(); ++i) {
    Vif v = *order[i].second;
    v.active = true;
    extra[order[i].first] = VifToPrimitive(v);
  }
  if (!extra.empty()) answer["zun_additional_vifs"] = std::move(extra);
  ZUN_LOG(kMain, info, "capsule {}: ports active", uuid);
  return DaemonReply{202, std::move(answer)};
}

DaemonReply CniDaemon::Del(const json& body) {
  std::optional<Request> req = ParseRequest(body, false);
  if (!req) return BadRequest(false);
  const std::string& uuid = req->uuid;
  const std::string& sandbox = req->sandbox;
  const std::string& netns = req->netns;
  const std::string& ifname = req->ifname;
  absl::MutexLock l(&LockFor(uuid));
  const std::string path = StatePath(uuid);
  std::ifstream in(path);
  json state = in ? json::parse(in, nullptr, false) : json();
  std::vector<std::pair<std::string, Vif>> plugged;
  if (state.is_object()) {
    if (!sandbox.empty() && state.value("containerid", "") != sandbox) {
      // A DEL for an earlier sandbox: the taps belong to the newer one.
      return DaemonReply{204, nullptr};
    }
    const json recorded = state.value("vifs", json::object());
    for (auto it = recorded.begin(); it != recorded.end(); ++it) {
      absl::StatusOr<Vif> v = VifFromPrimitive(it.value());
      if (v.ok()) plugged.emplace_back(it.key(), *std::move(v));
    }
  } else {
    absl::StatusOr<CapsuleVifs> vifs = VifsFromRow(uuid);
    if (!vifs.ok()) return DaemonReply{204, nullptr};  // nothing known
    for (const auto& [name, vif] : Ordered(*vifs, ifname)) {
      plugged.emplace_back(name, *vif);
    }
  }
  for (const auto& [name, vif] : plugged) {
    if (absl::Status s = plugger_.Unplug(vif, netns, name); !s.ok()) {
      return Fail(500,
                  absl::StrCat("unplugging port ", vif.id, ": ", s.message()));
    }
  }
  std::remove(path.c_str());
  ZUN_LOG(kMain, info, "capsule {}: unplugged", uuid);
  return DaemonReply{204, nullptr};
}

DaemonReply CniDaemon::Check(const json& body) {
  std::optional<Request> req = ParseRequest(body, true);
  if (!req) return BadRequest(true);
  const std::string& uuid = req->uuid;
  const std::string& netns = req->netns;
  const std::string& ifname = req->ifname;
  absl::MutexLock l(&LockFor(uuid));
  absl::StatusOr<CapsuleVifs> vifs = VifsFromRow(uuid);
  if (!vifs.ok()) return Fail(500, std::string(vifs.status().message()));
  for (const auto& [name, vif] : Ordered(*vifs, ifname)) {
    if (absl::Status s = plugger_.Check(*vif, netns, name); !s.ok()) {
      return Fail(500, absl::StrCat(name, ": ", s.message()));
    }
  }
  return DaemonReply{204, nullptr};
}

}  // namespace zun::cni
