// File: netlink.h
// Small RAII helpers over libnl-3 / libnl-route-3 for the VIF pluggers:
// NETLINK_ROUTE sockets opened inside a given network namespace (netns.h),
// and the link, address and route operations plugging needs.
//
// A netlink socket stays bound to the namespace it was created in, so a
// RouteSocket opened in a pod netns (on a short-lived thread inside it) may
// then be used from any thread.
//
// Errors: absl::Status whose message names the operation and the interface,
// then the kernel's reason: its errno text and, when the kernel gives one,
// its extended-ack message ("Nexthop has invalid gateway"); for failures
// inside libnl, libnl's text (nl_geterror). Codes as ErrnoStatus (netns.h):
// no such link NOT_FOUND, exists ALREADY_EXISTS, EPERM PERMISSION_DENIED,
// EINVAL INVALID_ARGUMENT, anything else INTERNAL.
//
// Threads: a RouteSocket (like the nl_sock it owns) is thread-compatible:
// one user at a time; open one per operation.
#pragma once

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "cni/netns.h"

namespace zun::cni::nl {

struct SockFree {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkPut {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrPut {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkPut>;
using AddrPtr = std::unique_ptr<nl_addr, AddrPut>;

// The status of a negative libnl return code `err`: "<what>: <libnl text>"
// (RouteSocket methods report the kernel's errno instead when they can).
absl::Status NlError(int err, absl::string_view what);

// `text` ("10.0.0.5", "10.0.0.0/24", "fd00::1", "fa:16:3e:00:00:01") parsed
// for `family` (AF_INET/AF_INET6/AF_LLC, or AF_UNSPEC to guess).
// INVALID_ARGUMENT naming `text` when it does not parse.
absl::StatusOr<AddrPtr> ParseAddr(const std::string& text, int family);
// "10.0.0.5/24" (prefix always shown), "fa:16:3e:00:00:01" for MACs.
std::string AddrToString(const nl_addr* addr);

// A NETLINK_ROUTE socket bound to one namespace, with the operations the
// pluggers use. Interfaces are named by `name` in messages.
class RouteSocket {
 public:
  // In the namespace of the calling thread (the host, for agent threads).
  static absl::StatusOr<RouteSocket> Open();
  // Inside `ns` (created on a thread in it, through Netns::Run).
  static absl::StatusOr<RouteSocket> OpenIn(const Netns& ns);

  nl_sock* get() const { return sock_.get(); }
  // The status of libnl code `err` returned by the last request on this
  // socket: the kernel's errno and extended-ack text when the kernel
  // refused it, else NlError(err, what).
  absl::Status Error(int err, absl::string_view what);

  // The link named `name`; NOT_FOUND when there is none.
  absl::StatusOr<LinkPtr> GetLink(const std::string& name);
  // Deletes the link `name`; OK when there is none (idempotent).
  absl::Status DeleteLink(const std::string& name);
  // Sets IFF_UP on `link` when it is not already up.
  absl::Status SetUp(rtnl_link* link);
  // Makes `master_ifindex` the master (bridge) of `link`.
  absl::Status Enslave(rtnl_link* link, int master_ifindex);

  // Creates a veth pair: `host_name` here, `peer_name` created directly in
  // `peer_ns` with MAC `peer_mac`; both with `mtu`. Neither end is up.
  absl::Status CreateVeth(const std::string& host_name,
                          const std::string& peer_name, const Netns& peer_ns,
                          nl_addr* peer_mac, int mtu);
  // Creates bridge `name` with STP off and forward_delay 0, up.
  // ALREADY_EXISTS when a link of that name exists.
  absl::Status CreateBridge(const std::string& name);

  // Adds `local` (with its prefix length) to interface `ifindex`.
  absl::Status AddAddress(int ifindex, const std::string& ifname,
                          nl_addr* local);
  // The addresses of `ifindex`, as AddrToString() prints them.
  absl::StatusOr<std::vector<std::string>> ListAddresses(int ifindex);
  // Adds the route `dst` via `gateway` on `ifindex` (main table, exclusive:
  // ALREADY_EXISTS when one with that destination exists).
  absl::Status AddRoute(int ifindex, const std::string& ifname, nl_addr* dst,
                        nl_addr* gateway);

 private:
  // What the kernel said about the last request it refused.
  struct KernelError {
    int err = 0;          // its errno; 0 when none
    std::string message;  // its extended-ack text, if any
  };
  static int OnKernelError(sockaddr_nl* who, nlmsgerr* e, void* arg);

  RouteSocket(nl_sock* sock, std::unique_ptr<KernelError> error);

  std::unique_ptr<nl_sock, SockFree> sock_;
  std::unique_ptr<KernelError> kernel_error_;  // stable address: the callback's
};

}  // namespace zun::cni::nl
