#include "cni/bridge_plugger.h"

#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni/netlink.h"
#include "cni/netns.h"
#include "common/status_macros.h"

namespace zun::cni {
namespace {

constexpr int kDefaultMtu = 1500;

// A VIF's L3 configuration, parsed and checked before anything is created.
struct ParsedRoute {
  nl::AddrPtr dst;
  nl::AddrPtr gateway;
};
struct ParsedSubnet {
  int family = AF_UNSPEC;
  std::vector<nl::AddrPtr> ips;  // with the subnet's prefix length
  std::vector<ParsedRoute> routes;
  nl::AddrPtr gateway;  // null when the subnet has none
};
struct ParsedVif {
  nl::AddrPtr mac;
  int mtu = kDefaultMtu;
  std::vector<ParsedSubnet> subnets;
};

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or
// whitespace.
absl::Status ValidateIfName(const std::string& name, absl::string_view what) {
  bool ok = !name.empty() && name.size() < IFNAMSIZ && name != "." &&
            name != ".." && name.find_first_of("/: \t\n\r\f\v") == name.npos;
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " '", name, "' is not a valid interface name"));
}

absl::Status ValidateNames(const Vif& vif, const std::string& ifname) {
  if (vif.vif_class != VifClass::kBridge) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VIF ", vif.id, ": plugin linux_bridge needs a VIFBridge"));
  }
  ZUN_RETURN_IF_ERROR(ValidateIfName(vif.vif_name, "vif_name"));
  ZUN_RETURN_IF_ERROR(ValidateIfName(vif.bridge_name, "bridge_name"));
  return ValidateIfName(ifname, "ifname");
}

absl::StatusOr<nl::AddrPtr> ParseIp(const std::string& text, int family,
                                    absl::string_view what) {
  ZUN_ASSIGN_OR_RETURN(nl::AddrPtr addr, nl::ParseAddr(text, family));
  if (nl_addr_get_family(addr.get()) != family) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " '", text, "' is not in the subnet's address family"));
  }
  return addr;
}

absl::StatusOr<ParsedVif> ParseVif(const Vif& vif) {
  ParsedVif parsed;
  ZUN_ASSIGN_OR_RETURN(parsed.mac, nl::ParseAddr(vif.address, AF_LLC));
  if (nl_addr_get_len(parsed.mac.get()) != 6) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", vif.address, "' is not a MAC address"));
  }
  if (vif.network.mtu < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid MTU ", vif.network.mtu));
  }
  if (vif.network.mtu > 0) parsed.mtu = vif.network.mtu;
  for (const VifSubnet& subnet : vif.network.subnets) {
    ZUN_ASSIGN_OR_RETURN(nl::AddrPtr cidr,
                         nl::ParseAddr(subnet.cidr, AF_UNSPEC));
    ParsedSubnet p;
    p.family = nl_addr_get_family(cidr.get());
    if (p.family != AF_INET && p.family != AF_INET6) {
      return absl::InvalidArgumentError(
          absl::StrCat("subnet '", subnet.cidr, "' is not an IP prefix"));
    }
    for (const std::string& ip : subnet.ips) {
      ZUN_ASSIGN_OR_RETURN(nl::AddrPtr addr, ParseIp(ip, p.family, "IP"));
      nl_addr_set_prefixlen(addr.get(), nl_addr_get_prefixlen(cidr.get()));
      p.ips.push_back(std::move(addr));
    }
    for (const VifRoute& route : subnet.routes) {
      ParsedRoute r;
      ZUN_ASSIGN_OR_RETURN(r.dst, ParseIp(route.cidr, p.family, "route"));
      ZUN_ASSIGN_OR_RETURN(r.gateway,
                           ParseIp(route.gateway, p.family, "route gateway"));
      p.routes.push_back(std::move(r));
    }
    if (!subnet.gateway.empty()) {
      ZUN_ASSIGN_OR_RETURN(p.gateway,
                           ParseIp(subnet.gateway, p.family, "gateway"));
    }
    parsed.subnets.push_back(std::move(p));
  }
  return parsed;
}

bool IsType(rtnl_link* link, const char* type) {
  const char* t = rtnl_link_get_type(link);
  return t != nullptr && std::strcmp(t, type) == 0;
}

bool HasMac(rtnl_link* link, nl_addr* mac) {
  nl_addr* addr = rtnl_link_get_addr(link);
  return addr != nullptr && nl_addr_cmp(addr, mac) == 0;
}

absl::Status IgnoreExists(absl::Status s) {
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

// The ifindex of bridge `name`, created (STP off, forward delay 0, up) when
// absent. Neutron's agent may create it at the same moment: EEXIST from our
// creation means it won, and the bridge is looked up again.
absl::StatusOr<int> EnsureBridge(nl::RouteSocket& host,
                                 const std::string& name) {
  absl::StatusOr<nl::LinkPtr> bridge = host.GetLink(name);
  if (absl::IsNotFound(bridge.status())) {
    ZUN_RETURN_IF_ERROR(IgnoreExists(host.CreateBridge(name)));
    bridge = host.GetLink(name);
  }
  if (!bridge.ok()) return bridge.status();
  if (!IsType(bridge->get(), "bridge")) {
    const char* type = rtnl_link_get_type(bridge->get());
    return absl::FailedPreconditionError(
        absl::StrCat("bridge_name ", name, " exists but is a ",
                     type != nullptr ? type : "plain link", ", not a bridge"));
  }
  ZUN_RETURN_IF_ERROR(host.SetUp(bridge->get()));
  return rtnl_link_get_ifindex(bridge->get());
}

// Step 7: addresses, then host routes and the default routes, in the netns.
absl::Status ConfigureL3(nl::RouteSocket& pod, const nl::Netns& ns, int ifindex,
                         const std::string& ifname, const ParsedVif& parsed,
                         bool default_gateway) {
  for (const ParsedSubnet& subnet : parsed.subnets) {
    if (subnet.family == AF_INET6) {
      ZUN_RETURN_IF_ERROR(zun::Annotate(
          nl::WriteSysctl(
              ns, absl::StrCat("net/ipv6/conf/", ifname, "/disable_ipv6"), "0"),
          absl::StrCat("enabling IPv6 on ", ifname)));
    }
    for (const nl::AddrPtr& ip : subnet.ips) {
      ZUN_RETURN_IF_ERROR(
          IgnoreExists(pod.AddAddress(ifindex, ifname, ip.get())));
    }
  }
  for (const ParsedSubnet& subnet : parsed.subnets) {
    // EEXIST tolerated: the same destination from two subnets, first wins.
    for (const ParsedRoute& route : subnet.routes) {
      ZUN_RETURN_IF_ERROR(IgnoreExists(
          pod.AddRoute(ifindex, ifname, route.dst.get(), route.gateway.get())));
    }
    if (default_gateway && subnet.gateway) {
      ZUN_ASSIGN_OR_RETURN(
          nl::AddrPtr any,
          nl::ParseAddr(subnet.family == AF_INET ? "0.0.0.0/0" : "::/0",
                        subnet.family));
      ZUN_RETURN_IF_ERROR(IgnoreExists(
          pod.AddRoute(ifindex, ifname, any.get(), subnet.gateway.get())));
    }
  }
  return absl::OkStatus();
}

// Steps 4-7, once the veth pair exists.
absl::Status ConfigurePair(nl::RouteSocket& host, nl::RouteSocket& pod,
                           const nl::Netns& ns, const Vif& vif,
                           const std::string& ifname, const ParsedVif& parsed,
                           bool default_gateway) {
  ZUN_ASSIGN_OR_RETURN(nl::LinkPtr pod_link, pod.GetLink(ifname));
  ZUN_RETURN_IF_ERROR(pod.SetUp(pod_link.get()));
  ZUN_ASSIGN_OR_RETURN(nl::LinkPtr lo, pod.GetLink("lo"));
  ZUN_RETURN_IF_ERROR(pod.SetUp(lo.get()));

  ZUN_ASSIGN_OR_RETURN(nl::LinkPtr tap, host.GetLink(vif.vif_name));
  ZUN_RETURN_IF_ERROR(host.SetUp(tap.get()));
  ZUN_ASSIGN_OR_RETURN(int bridge, EnsureBridge(host, vif.bridge_name));
  ZUN_RETURN_IF_ERROR(host.Enslave(tap.get(), bridge));

  return ConfigureL3(pod, ns, rtnl_link_get_ifindex(pod_link.get()), ifname,
                     parsed, default_gateway);
}

class LinuxBridgePlugger final : public VifPlugger {
 public:
  // VifPlugger
  absl::Status Plug(const Vif& vif, const std::string& netns_path,
                    const std::string& ifname, bool default_gateway) override {
    return zun::Annotate(DoPlug(vif, netns_path, ifname, default_gateway),
                         absl::StrCat("plugging port ", vif.id, " as ", ifname,
                                      " into ", netns_path));
  }
  absl::Status Unplug(const Vif& vif, const std::string& netns_path,
                      const std::string& ifname) override {
    return zun::Annotate(DoUnplug(vif, netns_path, ifname),
                         absl::StrCat("unplugging port ", vif.id, " (", ifname,
                                      " in ", netns_path, ")"));
  }
  absl::Status Check(const Vif& vif, const std::string& netns_path,
                     const std::string& ifname) override {
    return zun::Annotate(DoCheck(vif, netns_path, ifname),
                         absl::StrCat("checking port ", vif.id, " (", ifname,
                                      " in ", netns_path, ")"));
  }

 private:
  static absl::Status DoPlug(const Vif& vif, const std::string& netns_path,
                             const std::string& ifname, bool default_gateway);
  static absl::Status DoUnplug(const Vif& vif, const std::string& netns_path,
                               const std::string& ifname);
  static absl::Status DoCheck(const Vif& vif, const std::string& netns_path,
                              const std::string& ifname);
};

absl::Status LinuxBridgePlugger::DoPlug(const Vif& vif,
                                        const std::string& netns_path,
                                        const std::string& ifname,
                                        bool default_gateway) {
  ZUN_RETURN_IF_ERROR(ValidateNames(vif, ifname));
  ZUN_ASSIGN_OR_RETURN(ParsedVif parsed, ParseVif(vif));
  ZUN_ASSIGN_OR_RETURN(nl::Netns ns, nl::Netns::Open(netns_path));
  if (ns.IsCurrent()) {
    return absl::InvalidArgumentError(
        "the netns is the daemon's own network namespace");
  }
  ZUN_ASSIGN_OR_RETURN(nl::RouteSocket host, nl::RouteSocket::Open());
  ZUN_ASSIGN_OR_RETURN(nl::RouteSocket pod, nl::RouteSocket::OpenIn(ns));

  // 1. A host link of that name is a leftover of an earlier attempt; its
  // veth peer in whichever netns goes with it.
  ZUN_RETURN_IF_ERROR(zun::Annotate(host.DeleteLink(vif.vif_name),
                                    "removing a leftover host link"));
  absl::StatusOr<nl::LinkPtr> clash = pod.GetLink(ifname);
  if (clash.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat(ifname, " already exists in the netns"));
  }
  if (!absl::IsNotFound(clash.status())) return clash.status();

  // 2-3. The pair, the pod end created directly in the netns with its MAC
  // and MTU (no temporary name in the host namespace, nothing to move).
  ZUN_RETURN_IF_ERROR(
      host.CreateVeth(vif.vif_name, ifname, ns, parsed.mac.get(), parsed.mtu));
  absl::Status s =
      ConfigurePair(host, pod, ns, vif, ifname, parsed, default_gateway);
  if (!s.ok()) {
    // Deleting the host end removes the pod end too.
    absl::Status cleanup = host.DeleteLink(vif.vif_name);
    if (!cleanup.ok()) {
      return absl::Status(
          s.code(), absl::StrCat(s.message(),
                                 "; removing the veth: ", cleanup.message()));
    }
  }
  return s;
}

absl::Status LinuxBridgePlugger::DoUnplug(const Vif& vif,
                                          const std::string& netns_path,
                                          const std::string& ifname) {
  ZUN_RETURN_IF_ERROR(ValidateIfName(vif.vif_name, "vif_name"));
  ZUN_ASSIGN_OR_RETURN(nl::RouteSocket host, nl::RouteSocket::Open());
  ZUN_RETURN_IF_ERROR(host.DeleteLink(vif.vif_name));

  if (netns_path.empty() || ifname.empty()) return absl::OkStatus();
  absl::StatusOr<nl::Netns> ns = nl::Netns::Open(netns_path);
  if (absl::IsNotFound(ns.status())) return absl::OkStatus();
  if (!ns.ok()) return ns.status();
  if (ns->IsCurrent()) return absl::OkStatus();  // never touch host links
  absl::StatusOr<nl::AddrPtr> mac = nl::ParseAddr(vif.address, AF_LLC);
  if (!mac.ok()) return absl::OkStatus();  // nothing can carry that MAC
  ZUN_ASSIGN_OR_RETURN(nl::RouteSocket pod, nl::RouteSocket::OpenIn(*ns));
  absl::StatusOr<nl::LinkPtr> link = pod.GetLink(ifname);
  if (absl::IsNotFound(link.status())) return absl::OkStatus();
  if (!link.ok()) return link.status();
  if (!IsType(link->get(), "veth") || !HasMac(link->get(), mac->get())) {
    return absl::OkStatus();  // not ours
  }
  return pod.DeleteLink(ifname);
}

absl::Status LinuxBridgePlugger::DoCheck(const Vif& vif,
                                         const std::string& netns_path,
                                         const std::string& ifname) {
  ZUN_RETURN_IF_ERROR(ValidateNames(vif, ifname));
  ZUN_ASSIGN_OR_RETURN(ParsedVif parsed, ParseVif(vif));
  ZUN_ASSIGN_OR_RETURN(nl::Netns ns, nl::Netns::Open(netns_path));
  ZUN_ASSIGN_OR_RETURN(nl::RouteSocket host, nl::RouteSocket::Open());
  ZUN_ASSIGN_OR_RETURN(nl::RouteSocket pod, nl::RouteSocket::OpenIn(ns));
  auto differs = [](auto&&... parts) {
    return absl::FailedPreconditionError(absl::StrCat(parts...));
  };

  absl::StatusOr<nl::LinkPtr> link = pod.GetLink(ifname);
  if (absl::IsNotFound(link.status())) {
    return differs(ifname, " is not in the netns");
  }
  if (!link.ok()) return link.status();
  rtnl_link* l = link->get();
  if (!IsType(l, "veth")) return differs(ifname, " is not a veth");
  if (!HasMac(l, parsed.mac.get())) {
    nl_addr* mac = rtnl_link_get_addr(l);
    return differs(ifname, " has MAC ",
                   mac != nullptr ? nl::AddrToString(mac) : "none", ", not ",
                   vif.address);
  }
  if (static_cast<int>(rtnl_link_get_mtu(l)) != parsed.mtu) {
    return differs(ifname, " has MTU ", rtnl_link_get_mtu(l), ", not ",
                   parsed.mtu);
  }
  if (!(rtnl_link_get_flags(l) & IFF_UP)) return differs(ifname, " is down");
  ZUN_ASSIGN_OR_RETURN(std::vector<std::string> have,
                       pod.ListAddresses(rtnl_link_get_ifindex(l)));
  for (const ParsedSubnet& subnet : parsed.subnets) {
    for (const nl::AddrPtr& ip : subnet.ips) {
      const std::string want = nl::AddrToString(ip.get());
      if (std::find(have.begin(), have.end(), want) == have.end()) {
        return differs(ifname, " lacks address ", want, " (has ",
                       have.empty() ? "none" : absl::StrJoin(have, ", "), ")");
      }
    }
  }

  absl::StatusOr<nl::LinkPtr> tap = host.GetLink(vif.vif_name);
  if (absl::IsNotFound(tap.status())) {
    return differs("host end ", vif.vif_name, " does not exist");
  }
  if (!tap.ok()) return tap.status();
  if (rtnl_link_get_link(l) != rtnl_link_get_ifindex(tap->get())) {
    return differs("host end ", vif.vif_name, " is not the peer of ", ifname);
  }
  if (!(rtnl_link_get_flags(tap->get()) & IFF_UP)) {
    return differs("host end ", vif.vif_name, " is down");
  }
  absl::StatusOr<nl::LinkPtr> bridge = host.GetLink(vif.bridge_name);
  if (absl::IsNotFound(bridge.status())) {
    return differs("bridge ", vif.bridge_name, " does not exist");
  }
  if (!bridge.ok()) return bridge.status();
  if (rtnl_link_get_master(tap->get()) !=
      rtnl_link_get_ifindex(bridge->get())) {
    return differs("host end ", vif.vif_name, " is not on bridge ",
                   vif.bridge_name);
  }
  return absl::OkStatus();
}

}  // namespace

VifPluggerPtr MakeLinuxBridgePlugger() {
  return std::make_unique<LinuxBridgePlugger>();
}

}  // namespace zun::cni
