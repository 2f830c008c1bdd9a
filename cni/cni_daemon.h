// File: cni_daemon.h
// What zun-cni-daemon does for one CNI request from zun-cni (the HTTP
// bodies of upstream's /addNetwork and /delNetwork, plus our
// /checkNetwork): the capsule uuid comes from CNI_ARGS K8S_POD_NAME, its
// VIFs from the capsule row's `cni_metadata` (written by the agent before
// RunPodSandbox).
//
// ADD plugs every VIF (eth0 = CNI_IFNAME with the default route, then
// eth1, ...), records what it plugged in `state_dir`/<uuid>.json, waits
// until Neutron reports each of the capsule's own ports ACTIVE (polled by
// port id, so one capsule's port never answers for another's), and answers
// 202 with the default VIF's primitive (active) plus
// "zun_additional_vifs". 504 when a port stays inactive for
// vif_active_timeout; 500 when the capsule, its metadata or a plug fails
// (nothing of a failed plug stays); 400 for a malformed request. Failure
// bodies are {"reason": "..."}.
// DEL unplugs what the state file (else the row) names and answers 204;
// a DEL for an older sandbox than the one recorded is ignored (its taps
// are the new sandbox's now). Idempotent; the state file makes it work
// across a restart of the daemon between ADD and DEL.
// CHECK answers 204 when every VIF is plugged as ADD left it, else 500.
//
// Thread-safe: requests for different capsules run concurrently; requests
// for one capsule are serialised.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cni/vif_plugger.h"
#include "common/clock.h"
#include "db/capsule_store.h"
#include "nlohmann/json.hpp"
#include "openstack/neutron.h"

namespace zun::cni {

struct DaemonOptions {
  absl::Duration vif_active_timeout = absl::Seconds(60);
  absl::Duration poll_interval = absl::Seconds(1);  // Neutron status polls
  std::string state_dir = "/var/lib/zun/cni";
};

struct DaemonReply {
  int status = 500;
  nlohmann::json body;  // null: empty body
};

class CniDaemon {
 public:
  CniDaemon(db::CapsuleStore& store, VifPlugger& plugger,
            openstack::NeutronClient& neutron, Clock& clock,
            DaemonOptions options);

  DaemonReply Add(const nlohmann::json& request);
  DaemonReply Del(const nlohmann::json& request);
  DaemonReply Check(const nlohmann::json& request);

  // Makes waits for ACTIVE give up (shutdown).
  void Stop();

 private:
  absl::Mutex& LockFor(const std::string& uuid);
  absl::StatusOr<CapsuleVifs> VifsFromRow(const std::string& uuid);
  absl::Status WaitActive(const std::vector<std::string>& port_ids);
  std::string StatePath(const std::string& uuid) const;

  db::CapsuleStore& store_;
  VifPlugger& plugger_;
  openstack::NeutronClient& neutron_;
  Clock& clock_;
  const DaemonOptions options_;
  Waker stop_;  // latched by Stop(); every ACTIVE wait watches it
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<absl::Mutex>> locks_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace zun::cni
