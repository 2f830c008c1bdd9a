// File: net_support.h
// Helpers of the network tests (tests/net): scratch network namespaces and
// host links removed even when a test fails, hand-built VIFs, inspection of
// links, addresses and routes in a netns over netlink, and a bounded TCP
// exchange between two namespaces. Run as root. Names embed the test
// process's pid, so tests may run in parallel; addresses are private and
// live only inside namespaces the tests create.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cni/vif.h"

namespace zun::cni::testing {

// Network namespaces (`ip netns add`) and host links of one test; the
// destructor deletes them all, ignoring what is already gone.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  // Creates netns "zunnt-<pid>-<n>"; returns its path under /var/run/netns.
  std::string AddNetns();
  // Deletes a netns made by AddNetns (before the end of the test).
  void DeleteNetns(const std::string& path);
  // The test's bridge name ("brqzt<pid>"), deleted at teardown; absent at
  // construction.
  const std::string& bridge() const { return bridge_; }
  // "tapzt<pid>x<n>", deleted at teardown.
  std::string TapName(int n);
  // Deletes host link `name` at teardown too.
  void TrackLink(const std::string& name) { links_.push_back(name); }

 private:
  std::string bridge_;
  std::vector<std::string> netns_;
  std::vector<std::string> links_;
  int next_netns_ = 0;
};

// A linux_bridge VIFBridge with one IPv4 subnet `cidr` holding `ip`
// (gateway `gateway`, "" for none); port id "port-<tap>".
Vif BridgeVif(const std::string& tap, const std::string& bridge,
              const std::string& mac, const std::string& cidr,
              const std::string& ip, const std::string& gateway);

// Runs `ip ARGS...` (setup and teardown only); REQUIREs exit status 0.
void Ip(const std::vector<std::string>& args);

struct LinkState {
  bool exists = false;
  std::string type;  // "veth", "bridge", "" (plain)
  std::string mac;
  int mtu = 0;
  bool up = false;
  int ifindex = 0;
  int master = 0;  // ifindex of the bridge, 0 when none
};
// The link `name` in the netns at `netns_path` ("" for the host).
LinkState Link(const std::string& netns_path, const std::string& name);
// "10.0.0.5/24" strings of `ifname`'s addresses in the netns.
std::vector<std::string> Addresses(const std::string& netns_path,
                                   const std::string& ifname);
// The netns's main-table routes that have a gateway, as
// "<dst|default> via <gw> dev <ifname>".
std::vector<std::string> GatewayRoutes(const std::string& netns_path);
// The contents of /proc/sys/`key` seen from the netns, trimmed.
std::string ReadSysctl(const std::string& netns_path, const std::string& key);

// Connects from `client_ns` to a listener on `server_ip` in `server_ns`
// and sends a greeting back; OK when the client receives it before
// `timeout`. Sockets are created on threads inside each netns.
absl::Status TcpExchange(const std::string& client_ns,
                         const std::string& server_ns,
                         const std::string& server_ip, absl::Duration timeout);

}  // namespace zun::cni::testing
