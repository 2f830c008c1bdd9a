// File: cni_protocol.h
// The wire shapes of the zun-cni plugin, as pure functions: the CNI side
// (CNI_ARGS, versions, the ADD result, the error object; CNI spec 0.3.0 to
// 1.0.0) and the zun-cni-daemon side (the request body, the ADD answer).
// See shared/spec/zun-cni-contract.md §2-§3.
//
//  - We speak cniVersion 0.3.0, 0.3.1, 0.4.0 and 1.0.0. The result of
//    0.3.x/0.4.0 carries ips[].version ("4"/"6"); 1.0.0 drops it.
//  - Unlike upstream Zun the result lists every fixed IP of every subnet,
//    a default route per IP family for the first interface (eth0), and
//    interfaces[].sandbox is the netns path (as the spec says).
//  - Errors: INVALID_ARGUMENT for malformed input (CNI_ARGS, the daemon's
//    answer, a VIF whose subnet cidr has no prefix length).
//
// Plain values and pure functions: thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cni/vif.h"
#include "nlohmann/json.hpp"

namespace zun::cni {

// CNI's well-known error codes (spec "Error" section) and ours (100+).
inline constexpr int kErrIncompatibleVersion = 1;
inline constexpr int kErrUnsupportedField = 2;
inline constexpr int kErrUnknownContainer = 3;
inline constexpr int kErrInvalidEnvironment = 4;
inline constexpr int kErrIo = 5;
inline constexpr int kErrDecodingFailure = 6;
inline constexpr int kErrInvalidNetworkConfig = 7;
inline constexpr int kErrTryAgainLater = 11;
// zun-cni-daemon answered with a failure (400/500/other) or with a body we
// cannot read.
inline constexpr int kErrDaemonFailure = 100;
// zun-cni-daemon answered 504: the Neutron port did not become ACTIVE.
inline constexpr int kErrPortNotActive = 101;
// No answer from zun-cni-daemon within the plugin's HTTP timeout.
inline constexpr int kErrDaemonTimeout = 102;
// zun-cni-daemon does not implement CHECK (404 on /checkNetwork).
inline constexpr int kErrCheckUnsupported = 103;

// The version VERSION reports when the config names none, and the one
// errors use when the config's version is not one of ours.
inline constexpr char kDefaultCniVersion[] = "1.0.0";

// "0.3.0", "0.3.1", "0.4.0", "1.0.0" (ascending).
const std::vector<std::string>& SupportedCniVersions();
bool IsSupportedCniVersion(std::string_view version);
// Whether dotted version `a` >= `b` (missing parts count as 0; a
// non-numeric part compares as 0).
bool CniVersionAtLeast(std::string_view a, std::string_view b);

// CNI_ARGS "K1=V1;K2=V2": split on ';', then on the first '='; empty
// elements are skipped, keys starting with '_' dropped, a later key wins.
// INVALID_ARGUMENT naming the element when one has no '='.
absl::StatusOr<std::map<std::string, std::string>> ParseCniArgs(
    std::string_view cni_args);

// VERSION's answer: {"cniVersion": config_version or kDefaultCniVersion
// when empty, "supportedVersions": SupportedCniVersions()}.
nlohmann::json VersionResponse(const std::string& config_version);

// One plugged interface of the result: its name in the sandbox and the VIF.
struct NamedVif {
  std::string ifname;  // "eth0", "eth1", ...
  Vif vif;
};

// The ADD result for `cni_version` (one of ours) from the plugged VIFs
// (`vifs[0]` is eth0 and gets the default routes) in the sandbox `netns`.
// INVALID_ARGUMENT for an unsupported version or a subnet cidr without a
// prefix length.
absl::StatusOr<nlohmann::json> BuildAddResult(const std::string& cni_version,
                                              const std::vector<NamedVif>& vifs,
                                              const std::string& netns);

struct CniError {
  int code = kErrDaemonFailure;
  std::string msg;
  std::string details;
};

// {"cniVersion", "code", "msg", "details"}.
nlohmann::json ErrorJson(const std::string& cni_version, const CniError& error);

// The body zun-cni POSTs to the daemon: every `env` entry whose name starts
// with "CNI_", verbatim, plus "config_zun": `config` (the stdin object).
nlohmann::json DaemonRequestBody(const std::map<std::string, std::string>& env,
                                 const nlohmann::json& config);

// The VIFs of the daemon's ADD answer (HTTP 202): the body is the os-vif
// primitive of the default VIF, named `default_ifname`, optionally with
// "zun_additional_vifs": {"eth1": <primitive>, ...} (our daemon only).
// Default first, then the others by name (eth2 before eth10).
// INVALID_ARGUMENT when the body is not such an object.
absl::StatusOr<std::vector<NamedVif>> ParseAddAnswer(
    const std::string& body, const std::string& default_ifname);

// The "reason" of a daemon failure body {"reason": "..."}; "" when the body
// is empty (upstream's daemon) or has no string reason.
std::string DaemonReason(const std::string& body);

}  // namespace zun::cni
