// File: vif_plugger.h
// Plugging a capsule's VIFs into its pod network namespace, as
// zun-cni-daemon does on CNI ADD / DEL / CHECK (contract §4.3, §5, §8.1).
//
// A VifPlugger works over netlink (no `ip` subprocesses). It creates a veth
// pair whose pod end is `ifname` (eth0, eth1, ...) inside the pod netns,
// with the port's MAC and the network's MTU, addresses and routes, and whose
// host end (vif.vif_name, "tap<port[:11]>") sits on the host side where the
// L2 backend picks it up.
//
// Namespaces: the host side is the namespace of the calling thread, which
// must be the daemon's own (no agent thread ever switches namespace: the
// pluggers enter a pod netns only on short-lived threads of their own).
//
// Threads: one VifPlugger per node, thread-safe. Calls for different VIFs
// may run concurrently (even on one bridge); calls for the same VIF must be
// serialised by the caller (the daemon does so per capsule).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "cni/vif.h"

namespace zun::cni {

class VifPlugger {
 public:
  virtual ~VifPlugger() = default;

  // Plugs `vif` into the netns at `netns_path` (a bind-mounted netns file
  // such as /var/run/netns/cni-..., or /proc/PID/ns/net) as `ifname`; with
  // `default_gateway` also adds a default route via each subnet gateway
  // (the first per address family wins).
  // Re-plugging is allowed: a host link named vif.vif_name left by an
  // earlier attempt (or plug) is deleted first. On failure nothing of the
  // veth pair is left behind (a bridge it created stays: it is shared).
  // Errors: NOT_FOUND when the netns does not exist; INVALID_ARGUMENT for a
  // malformed VIF (names, MAC, addresses) or when `netns_path` is the
  // daemon's own namespace; ALREADY_EXISTS when `ifname` exists in the netns
  // and is not ours; FAILED_PRECONDITION for a plugin this node cannot
  // serve (e.g. "ovs" without Open vSwitch) or a vif.bridge_name that exists
  // but is not a bridge; otherwise the code of the failing netlink step
  // (INTERNAL, PERMISSION_DENIED, ...), the message naming the step, the
  // interface and the kernel's reason.
  virtual absl::Status Plug(const Vif& vif, const std::string& netns_path,
                            const std::string& ifname,
                            bool default_gateway) = 0;

  // Removes what Plug made: the host end vif.vif_name (which takes its peer
  // with it) and, when the netns still exists, `ifname` there if it is a
  // veth with MAC vif.address. Never deletes the bridge (Neutron's agent
  // owns it and other pods use it). Idempotent: OK when already gone, when
  // the netns is gone, or when `netns_path` is stale or empty.
  virtual absl::Status Unplug(const Vif& vif, const std::string& netns_path,
                              const std::string& ifname) = 0;

  // CNI CHECK: OK when `ifname` is in the netns as Plug leaves it (a veth,
  // MAC, MTU, up, every fixed IP with its prefix) and its host end
  // vif.vif_name is up on vif.bridge_name. FAILED_PRECONDITION naming the
  // first difference; NOT_FOUND when the netns does not exist. Read-only.
  virtual absl::Status Check(const Vif& vif, const std::string& netns_path,
                             const std::string& ifname) = 0;
};

using VifPluggerPtr = std::unique_ptr<VifPlugger>;

// The node's plugger, dispatching on vif.plugin: "linux_bridge" to the
// Linux-bridge plugger; "ovs" gives FAILED_PRECONDITION (this node has no
// Open vSwitch yet; an OVS plugger can come later behind this interface);
// any other plugin INVALID_ARGUMENT.
VifPluggerPtr MakeVifPlugger();

}  // namespace zun::cni
