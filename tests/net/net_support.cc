#include "tests/net/net_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cni/netlink.h"
#include "tests/support/subprocess.h"

namespace zun::cni::testing {
namespace {

constexpr char kIp[] = "/usr/sbin/ip";

// Teardown: best effort, never throws.
void IpQuiet(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kIp};
  argv.insert(argv.end(), args.begin(), args.end());
  zun::testing::RunCommand(argv, absl::Seconds(30)).status().IgnoreError();
}

nl::RouteSocket SocketIn(const std::string& netns_path) {
  absl::StatusOr<nl::RouteSocket> sock = absl::InternalError("unset");
  if (netns_path.empty()) {
    sock = nl::RouteSocket::Open();
  } else {
    absl::StatusOr<nl::Netns> ns = nl::Netns::Open(netns_path);
    INFO(ns.status().ToString());
    REQUIRE(ns.ok());
    sock = nl::RouteSocket::OpenIn(*ns);
  }
  INFO(sock.status().ToString());
  REQUIRE(sock.ok());
  return std::move(*sock);
}

std::string IpOnly(const nl_addr* addr) {
  std::string s = nl::AddrToString(addr);
  return s.substr(0, s.find('/'));
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Waits until `fd` has one of `events`, or the deadline passes.
bool WaitFor(int fd, short events, absl::Time deadline) {
  for (;;) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(ms));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

}  // namespace

Scratch::Scratch() : bridge_(absl::StrCat("brqzt", getpid())) {
  IpQuiet({"link", "del", bridge_});  // left by an earlier run of this pid
}

Scratch::~Scratch() {
  for (const std::string& ns : netns_) IpQuiet({"netns", "del", ns});
  for (const std::string& link : links_) IpQuiet({"link", "del", link});
  IpQuiet({"link", "del", bridge_});
}

std::string Scratch::AddNetns() {
  std::string name = absl::StrCat("zunnt-", getpid(), "-", next_netns_++);
  IpQuiet({"netns", "del", name});
  netns_.push_back(name);
  Ip({"netns", "add", name});
  return absl::StrCat("/var/run/netns/", name);
}

void Scratch::DeleteNetns(const std::string& path) {
  Ip({"netns", "del", std::string(absl::StripPrefix(path, "/var/run/netns/"))});
}

std::string Scratch::TapName(int n) {
  std::string name = absl::StrCat("tapzt", getpid(), "x", n);
  IpQuiet({"link", "del", name});
  links_.push_back(name);
  return name;
}

Vif BridgeVif(const std::string& tap, const std::string& bridge,
              const std::string& mac, const std::string& cidr,
              const std::string& ip, const std::string& gateway) {
  Vif vif;
  vif.vif_class = VifClass::kBridge;
  vif.id = absl::StrCat("port-", tap);
  vif.address = mac;
  vif.vif_name = tap;
  vif.bridge_name = bridge;
  vif.plugin = "linux_bridge";
  vif.network.id = absl::StrCat("net-", bridge);
  vif.network.bridge = bridge;
  VifSubnet subnet;
  subnet.cidr = cidr;
  subnet.gateway = gateway;
  subnet.ips = {ip};
  vif.network.subnets = {subnet};
  return vif;
}

void Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kIp};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<zun::testing::CommandResult> r =
      zun::testing::RunCommand(argv, absl::Seconds(30));
  REQUIRE(r.ok());
  INFO("ip " << absl::StrJoin(args, " ") << ": " << r->output);
  REQUIRE(r->exit_code == 0);
}

LinkState Link(const std::string& netns_path, const std::string& name) {
  nl::RouteSocket sock = SocketIn(netns_path);
  absl::StatusOr<nl::LinkPtr> link = sock.GetLink(name);
  LinkState state;
  if (absl::IsNotFound(link.status())) return state;
  INFO(link.status().ToString());
  REQUIRE(link.ok());
  rtnl_link* l = link->get();
  state.exists = true;
  const char* type = rtnl_link_get_type(l);
  state.type = type != nullptr ? type : "";
  nl_addr* mac = rtnl_link_get_addr(l);
  state.mac = mac != nullptr ? nl::AddrToString(mac) : "";
  state.mtu = static_cast<int>(rtnl_link_get_mtu(l));
  state.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
  state.ifindex = rtnl_link_get_ifindex(l);
  state.master = rtnl_link_get_master(l);
  return state;
}

std::vector<std::string> Addresses(const std::string& netns_path,
                                   const std::string& ifname) {
  LinkState link = Link(netns_path, ifname);
  REQUIRE(link.exists);
  nl::RouteSocket sock = SocketIn(netns_path);
  absl::StatusOr<std::vector<std::string>> addrs =
      sock.ListAddresses(link.ifindex);
  REQUIRE(addrs.ok());
  return *addrs;
}

std::vector<std::string> GatewayRoutes(const std::string& netns_path) {
  nl::RouteSocket sock = SocketIn(netns_path);
  nl_cache* links = nullptr;
  REQUIRE(rtnl_link_alloc_cache(sock.get(), AF_UNSPEC, &links) == 0);
  nl_cache* routes = nullptr;
  REQUIRE(rtnl_route_alloc_cache(sock.get(), AF_UNSPEC, 0, &routes) == 0);
  std::vector<std::string> result;
  for (nl_object* obj = nl_cache_get_first(routes); obj != nullptr;
       obj = nl_cache_get_next(obj)) {
    auto* route = reinterpret_cast<rtnl_route*>(obj);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN) continue;
    if (rtnl_route_get_nnexthops(route) != 1) continue;
    rtnl_nexthop* nh = rtnl_route_nexthop_n(route, 0);
    nl_addr* gw = rtnl_route_nh_get_gateway(nh);
    if (gw == nullptr) continue;
    nl_addr* dst = rtnl_route_get_dst(route);
    char dev[IFNAMSIZ] = {};
    rtnl_link_i2name(links, rtnl_route_nh_get_ifindex(nh), dev, sizeof(dev));
    result.push_back(
        absl::StrCat(dst == nullptr || nl_addr_get_prefixlen(dst) == 0
                         ? "default"
                         : nl::AddrToString(dst),
                     " via ", IpOnly(gw), " dev ", dev));
  }
  nl_cache_free(routes);
  nl_cache_free(links);
  return result;
}

std::string ReadSysctl(const std::string& netns_path, const std::string& key) {
  absl::StatusOr<nl::Netns> ns = nl::Netns::Open(netns_path);
  REQUIRE(ns.ok());
  std::string value;
  absl::Status s = ns->Run([&] {
    value = zun::testing::ReadFile(absl::StrCat("/proc/sys/", key));
    return absl::OkStatus();
  });
  REQUIRE(s.ok());
  return std::string(absl::StripAsciiWhitespace(value));
}

absl::Status TcpExchange(const std::string& client_ns,
                         const std::string& server_ns,
                         const std::string& server_ip, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, server_ip.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(server_ip);
  }
  absl::StatusOr<nl::Netns> server = nl::Netns::Open(server_ns);
  absl::StatusOr<nl::Netns> client = nl::Netns::Open(client_ns);
  if (!server.ok()) return server.status();
  if (!client.ok()) return client.status();

  Fd listener;
  absl::Status s = server->Run([&]() -> absl::Status {
    listener.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof(addr);
    if (listener.fd < 0 ||
        bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listener.fd, 1) != 0 ||
        getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len)) {
      return absl::InternalError(absl::StrCat("listen: ", strerror(errno)));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  Fd conn;
  s = client->Run([&]() -> absl::Status {
    conn.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (conn.fd < 0 || (connect(conn.fd, reinterpret_cast<sockaddr*>(&addr),
                                sizeof(addr)) != 0 &&
                        errno != EINPROGRESS)) {
      return absl::InternalError(absl::StrCat("connect: ", strerror(errno)));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;

  if (!WaitFor(listener.fd, POLLIN, deadline)) {
    return absl::DeadlineExceededError("no connection reached the server");
  }
  Fd accepted;
  accepted.fd = accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (accepted.fd < 0) {
    return absl::InternalError(absl::StrCat("accept: ", strerror(errno)));
  }
  const std::string hello = "hello from " + server_ip;
  if (write(accepted.fd, hello.data(), hello.size()) !=
      static_cast<ssize_t>(hello.size())) {
    return absl::InternalError(absl::StrCat("write: ", strerror(errno)));
  }
  std::string got;
  while (got.size() < hello.size()) {
    if (!WaitFor(conn.fd, POLLIN, deadline)) {
      return absl::DeadlineExceededError(absl::StrCat("received '", got, "'"));
    }
    char buf[64];
    ssize_t n = read(conn.fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0 && errno != EAGAIN) {
      return absl::InternalError(absl::StrCat("read: ", strerror(errno)));
    }
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
  if (got != hello) {
    return absl::InternalError(absl::StrCat("received '", got, "'"));
  }
  return absl::OkStatus();
}

}  // namespace zun::cni::testing
