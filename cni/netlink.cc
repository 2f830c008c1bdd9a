#include "cni/netlink.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/link/veth.h>
#include <sys/socket.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"

namespace zun::cni::nl {
namespace {

struct RouteFree {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct RtnlAddrFree {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct CacheFree {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
struct MsgFree {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};

}  // namespace

absl::Status NlError(int err, absl::string_view what) {
  std::string msg = absl::StrCat(what, ": ", nl_geterror(err));
  switch (err < 0 ? -err : err) {
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return absl::NotFoundError(msg);
    case NLE_EXIST:
      return absl::AlreadyExistsError(msg);
    case NLE_PERM:
      return absl::PermissionDeniedError(msg);
    case NLE_INVAL:
    case NLE_RANGE:
    case NLE_AF_MISMATCH:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::StatusOr<AddrPtr> ParseAddr(const std::string& text, int family) {
  nl_addr* addr = nullptr;
  if (text.empty() || nl_addr_parse(text.c_str(), family, &addr) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a valid address"));
  }
  return AddrPtr(addr);
}

std::string AddrToString(const nl_addr* addr) {
  const int family = nl_addr_get_family(addr);
  if (family == AF_INET || family == AF_INET6) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(family, nl_addr_get_binary_addr(addr), buf, sizeof(buf));
    return absl::StrCat(buf, "/", nl_addr_get_prefixlen(addr));
  }
  char buf[128] = {};
  return nl_addr2str(addr, buf, sizeof(buf));
}

// --- RouteSocket

RouteSocket::RouteSocket(nl_sock* sock, std::unique_ptr<KernelError> error)
    : sock_(sock), kernel_error_(std::move(error)) {}

int RouteSocket::OnKernelError(sockaddr_nl* /*who*/, nlmsgerr* e, void* arg) {
  auto* out = static_cast<KernelError*>(arg);
  out->err = -e->error;
  out->message.clear();
  // libnl hands over the payload of the NLMSG_ERROR message; its header
  // (flags, length) sits right before it. With NETLINK_EXT_ACK the kernel
  // appends attributes after the (capped) copy of the request.
  const auto* hdr = reinterpret_cast<const nlmsghdr*>(
      reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
  if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return NL_STOP;
  size_t offset = sizeof(nlmsgerr);
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
    offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
  }
  offset = NLMSG_ALIGN(offset);
  const size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
  if (offset >= payload) return NL_STOP;
  nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
  auto* attrs = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(e) + offset);
  if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs,
                static_cast<int>(payload - offset), nullptr) == 0 &&
      tb[NLMSGERR_ATTR_MSG] != nullptr) {
    out->message = nla_get_string(tb[NLMSGERR_ATTR_MSG]);
  }
  return NL_STOP;  // libnl then returns the error, as without a callback
}

absl::Status RouteSocket::Error(int err, absl::string_view what) {
  KernelError said = std::exchange(*kernel_error_, KernelError{});
  if (said.err == 0 || nl_syserr2nlerr(said.err) != std::abs(err)) {
    return NlError(err, what);
  }
  absl::Status s = ErrnoStatus(said.err, what);
  if (said.message.empty()) return s;
  return absl::Status(s.code(),
                      absl::StrCat(s.message(), " (", said.message, ")"));
}

absl::StatusOr<RouteSocket> RouteSocket::Open() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return absl::ResourceExhaustedError("nl_socket_alloc");
  RouteSocket result(sock, std::make_unique<KernelError>());
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    return NlError(err, "connecting a NETLINK_ROUTE socket");
  }
  nl_socket_modify_err_cb(sock, NL_CB_CUSTOM, &RouteSocket::OnKernelError,
                          result.kernel_error_.get());
  // The kernel's reason in words, and no copy of the request in errors.
  // Best effort: kernels without these options just omit the text.
  const int one = 1;
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_EXT_ACK, &one,
             sizeof(one));
  setsockopt(nl_socket_get_fd(sock), SOL_NETLINK, NETLINK_CAP_ACK, &one,
             sizeof(one));
  return result;
}

absl::StatusOr<RouteSocket> RouteSocket::OpenIn(const Netns& ns) {
  absl::StatusOr<RouteSocket> result = absl::InternalError("not run");
  absl::Status run = ns.Run([&] {
    result = Open();
    return result.status();
  });
  if (!run.ok()) {
    return absl::Status(run.code(),
                        absl::StrCat("netns ", ns.path(), ": ", run.message()));
  }
  return result;
}

absl::StatusOr<LinkPtr> RouteSocket::GetLink(const std::string& name) {
  rtnl_link* link = nullptr;
  if (int err = rtnl_link_get_kernel(get(), 0, name.c_str(), &link); err < 0) {
    return Error(err, absl::StrCat("looking up ", name));
  }
  return LinkPtr(link);
}

absl::Status RouteSocket::DeleteLink(const std::string& name) {
  absl::StatusOr<LinkPtr> link = GetLink(name);
  if (absl::IsNotFound(link.status())) return absl::OkStatus();
  if (!link.ok()) return link.status();
  int err = rtnl_link_delete(get(), link->get());
  if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
    return Error(err, absl::StrCat("deleting ", name));
  }
  return absl::OkStatus();
}

absl::Status RouteSocket::SetUp(rtnl_link* link) {
  if (rtnl_link_get_flags(link) & IFF_UP) return absl::OkStatus();
  LinkPtr changes(rtnl_link_alloc());
  if (!changes) return absl::ResourceExhaustedError("rtnl_link_alloc");
  rtnl_link_set_flags(changes.get(), IFF_UP);
  if (int err = rtnl_link_change(get(), link, changes.get(), 0); err < 0) {
    return Error(err,
                 absl::StrCat("setting ", rtnl_link_get_name(link), " up"));
  }
  return absl::OkStatus();
}

absl::Status RouteSocket::Enslave(rtnl_link* link, int master_ifindex) {
  int err = rtnl_link_enslave_ifindex(get(), master_ifindex,
                                      rtnl_link_get_ifindex(link));
  if (err < 0) {
    return Error(err, absl::StrCat("enslaving ", rtnl_link_get_name(link),
                                   " to ifindex ", master_ifindex));
  }
  return absl::OkStatus();
}

absl::Status RouteSocket::CreateVeth(const std::string& host_name,
                                     const std::string& peer_name,
                                     const Netns& peer_ns, nl_addr* peer_mac,
                                     int mtu) {
  LinkPtr veth(rtnl_link_veth_alloc());
  if (!veth) return absl::ResourceExhaustedError("rtnl_link_veth_alloc");
  LinkPtr peer(rtnl_link_veth_get_peer(veth.get()));  // a new reference
  rtnl_link_set_name(veth.get(), host_name.c_str());
  rtnl_link_set_mtu(veth.get(), static_cast<unsigned int>(mtu));
  rtnl_link_set_name(peer.get(), peer_name.c_str());
  rtnl_link_set_mtu(peer.get(), static_cast<unsigned int>(mtu));
  rtnl_link_set_addr(peer.get(), peer_mac);
  rtnl_link_set_ns_fd(peer.get(), peer_ns.fd());
  int err = rtnl_link_add(get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0) {
    return Error(err, absl::StrCat("creating veth ", host_name, " (peer ",
                                   peer_name, " in ", peer_ns.path(), ")"));
  }
  return absl::OkStatus();
}

absl::Status RouteSocket::CreateBridge(const std::string& name) {
  // libnl 3.7 has no setters for the bridge's IFLA_BR_* attributes, so the
  // RTM_NEWLINK is built by hand: kind bridge, STP off, forward delay 0, up.
  std::unique_ptr<nl_msg, MsgFree> msg(
      nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL));
  if (!msg) return absl::ResourceExhaustedError("nlmsg_alloc_simple");
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;
  nlattr* info = nullptr;
  nlattr* data = nullptr;
  if (nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
      nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0 ||
      (info = nla_nest_start(msg.get(), IFLA_LINKINFO)) == nullptr ||
      nla_put_string(msg.get(), IFLA_INFO_KIND, "bridge") < 0 ||
      (data = nla_nest_start(msg.get(), IFLA_INFO_DATA)) == nullptr ||
      nla_put_u32(msg.get(), IFLA_BR_FORWARD_DELAY, 0) < 0 ||
      nla_put_u32(msg.get(), IFLA_BR_STP_STATE, 0) < 0) {
    return absl::InternalError(
        absl::StrCat("building the request to create bridge ", name));
  }
  nla_nest_end(msg.get(), data);
  nla_nest_end(msg.get(), info);
  // nl_send_sync frees the message whatever happens.
  if (int err = nl_send_sync(get(), msg.release()); err < 0) {
    return Error(err, absl::StrCat("creating bridge ", name));
  }
  return absl::OkStatus();
}

absl::Status RouteSocket::AddAddress(int ifindex, const std::string& ifname,
                                     nl_addr* local) {
  std::unique_ptr<rtnl_addr, RtnlAddrFree> addr(rtnl_addr_alloc());
  if (!addr) return absl::ResourceExhaustedError("rtnl_addr_alloc");
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  if (int err = rtnl_addr_set_local(addr.get(), local); err < 0) {
    return Error(err, absl::StrCat("address ", AddrToString(local)));
  }
  if (int err = rtnl_addr_add(get(), addr.get(), NLM_F_EXCL); err < 0) {
    return Error(err, absl::StrCat("adding address ", AddrToString(local),
                                   " to ", ifname));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> RouteSocket::ListAddresses(
    int ifindex) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(get(), &raw); err < 0) {
    return Error(err, "listing addresses");
  }
  std::unique_ptr<nl_cache, CacheFree> cache(raw);
  std::vector<std::string> result;
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(obj);
    if (rtnl_addr_get_ifindex(addr) != ifindex) continue;
    nl_addr* local = rtnl_addr_get_local(addr);
    if (local == nullptr) continue;
    AddrPtr copy(nl_addr_clone(local));
    if (!copy) return absl::ResourceExhaustedError("nl_addr_clone");
    nl_addr_set_prefixlen(copy.get(), rtnl_addr_get_prefixlen(addr));
    result.push_back(AddrToString(copy.get()));
  }
  return result;
}

absl::Status RouteSocket::AddRoute(int ifindex, const std::string& ifname,
                                   nl_addr* dst, nl_addr* gateway) {
  std::string via = AddrToString(gateway);
  via = via.substr(0, via.find('/'));
  const std::string what = absl::StrCat("adding route ", AddrToString(dst),
                                        " via ", via, " on ", ifname);
  if (nl_addr_get_family(dst) != nl_addr_get_family(gateway)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": destination and gateway families differ"));
  }
  std::unique_ptr<rtnl_route, RouteFree> route(rtnl_route_alloc());
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!route || nh == nullptr) {
    if (nh != nullptr) rtnl_route_nh_free(nh);
    return absl::ResourceExhaustedError("rtnl_route_alloc");
  }
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_nh_set_gateway(nh, gateway);
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  rtnl_route_set_family(route.get(),
                        static_cast<uint8_t>(nl_addr_get_family(dst)));
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
  rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  if (int err = rtnl_route_set_dst(route.get(), dst); err < 0) {
    return Error(err, what);
  }
  if (int err = rtnl_route_add(get(), route.get(), NLM_F_EXCL); err < 0) {
    return Error(err, what);
  }
  return absl::OkStatus();
}

}  // namespace zun::cni::nl
