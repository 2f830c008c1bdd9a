#include "cni/cni_plugin.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cni/cni_protocol.h"
#include "common/backoff.h"
#include "common/ini.h"
#include "nlohmann/json.hpp"

namespace zun::cni {
namespace {

using nlohmann::json;

// One invocation: what the environment and stdin said, and what to print.
struct Invocation {
  explicit Invocation(const std::map<std::string, std::string>& e) : env(e) {}

  const std::map<std::string, std::string>& env;
  std::string command;
  std::string cni_version = kDefaultCniVersion;  // for error objects
  json config;
  bool debug = false;
  std::string log;

  std::string Env(const std::string& name) const {
    auto it = env.find(name);
    return it == env.end() ? "" : it->second;
  }
  void Log(const std::string& line) {
    if (debug) absl::StrAppend(&log, "zun-cni: ", line, "\n");
  }
  PluginOutput Fail(int code, std::string msg, std::string details = "") {
    Log(absl::StrCat("error ", code, ": ", msg));
    return {ErrorJson(cni_version, {code, std::move(msg), std::move(details)})
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
            1, log};
  }
  PluginOutput Succeed(std::string out) { return {std::move(out), 0, log}; }
};

// The cniVersion of `stdin_text` when it is one of ours, for error
// objects written before the config has been checked.
std::string ErrorVersionOf(const std::string& stdin_text) {
  const json j = json::parse(stdin_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto it = j.find("cniVersion");
    if (it != j.end() && it->is_string() &&
        IsSupportedCniVersion(it->get<std::string>())) {
      return it->get<std::string>();
    }
  }
  return kDefaultCniVersion;
}

std::string VersionOfStdin(const std::string& stdin_text) {
  const json j = json::parse(stdin_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  auto it = j.find("cniVersion");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The environment variables `command` needs, missing or empty ones.
std::vector<std::string> MissingEnv(const Invocation& inv) {
  std::vector<std::string> required = {"CNI_CONTAINERID", "CNI_IFNAME",
                                       "CNI_ARGS"};
  // DEL runs after the netns is gone too (spec: CNI_NETNS may be empty).
  if (inv.command != "DEL") required.insert(required.begin() + 1, "CNI_NETNS");
  std::vector<std::string> missing;
  for (const std::string& name : required) {
    if (inv.Env(name).empty()) missing.push_back(name);
  }
  return missing;
}

// Sends `request`, retrying while the daemon is unreachable.
absl::StatusOr<openstack::HttpResponse> SendWithRetry(
    Invocation& inv, openstack::HttpClient& http,
    const openstack::HttpRequest& request, Clock& clock,
    const PluginOptions& options, int* attempts) {
  Backoff backoff(BackoffPolicy{options.initial_backoff, options.max_backoff,
                                /*multiplier=*/2.0, /*jitter=*/0.0});
  const absl::Time deadline = clock.Now() + options.unreachable_budget;
  for (;;) {
    ++*attempts;
    absl::StatusOr<openstack::HttpResponse> response = http.Do(request);
    if (response.ok() ||
        response.status().code() != absl::StatusCode::kUnavailable) {
      return response;
    }
    inv.Log(absl::StrCat("attempt ", *attempts, ": daemon unreachable: ",
                         response.status().message()));
    const absl::Time now = clock.Now();
    if (now >= deadline) return response;
    clock.SleepFor(std::min(backoff.Next(), deadline - now));
  }
}

// The output for the daemon's answer to a request that got one.
PluginOutput HandleAnswer(Invocation& inv,
                          const openstack::HttpResponse& response,
                          const DaemonEndpoint& endpoint,
                          const std::string& what) {
  const int status = response.status;
  inv.Log(absl::StrCat("daemon answered HTTP ", status));
  const std::string reason = DaemonReason(response.body);
  const std::string because =
      reason.empty() ? " (no reason given)" : absl::StrCat(": ", reason);
  if (inv.command == "ADD" && (status == 200 || status == 202)) {
    auto vifs = ParseAddAnswer(response.body, inv.Env("CNI_IFNAME"));
    if (!vifs.ok()) {
      return inv.Fail(kErrDaemonFailure,
                      "cannot read zun-cni-daemon's answer to ADD",
                      std::string(vifs.status().message()));
    }
    auto result = BuildAddResult(inv.cni_version, *vifs, inv.Env("CNI_NETNS"));
    if (!result.ok()) {
      return inv.Fail(kErrDaemonFailure,
                      "cannot build the CNI result from zun-cni-daemon's VIF",
                      std::string(result.status().message()));
    }
    return inv.Succeed(
        result->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (inv.command == "DEL" && status >= 200 && status < 300) {
    return inv.Succeed("");
  }
  if (inv.command == "CHECK" && (status == 200 || status == 204)) {
    return inv.Succeed("");
  }
  if (inv.command == "CHECK" && status == 404) {
    return inv.Fail(kErrCheckUnsupported,
                    "zun-cni-daemon does not support CHECK", what);
  }
  if (inv.command == "ADD" && status == 504) {
    return inv.Fail(
        kErrPortNotActive,
        absl::StrCat("the Neutron port did not become ACTIVE within ",
                     absl::ToInt64Seconds(endpoint.vif_active_timeout),
                     " s (zun-cni-daemon gave up)", because),
        what);
  }
  return inv.Fail(kErrDaemonFailure,
                  absl::StrCat("zun-cni-daemon failed ", inv.command,
                               " with HTTP ", status, because),
                  what);
}

// ADD, DEL or CHECK once the environment and config have been checked.
PluginOutput CallDaemon(Invocation& inv, openstack::HttpClient& http,
                        Clock& clock, const PluginOptions& options) {
  DaemonEndpoint endpoint;
  if (auto it = inv.config.find("zun_conf"); it != inv.config.end()) {
    const std::string path = it->get<std::string>();
    auto loaded = LoadDaemonEndpoint(path);
    if (!loaded.ok()) {
      return inv.Fail(kErrInvalidNetworkConfig,
                      absl::StrCat("cannot read zun_conf '", path, "'"),
                      std::string(loaded.status().message()));
    }
    endpoint = *std::move(loaded);
  }
  const std::string path = inv.command == "ADD"   ? "/addNetwork"
                           : inv.command == "DEL" ? "/delNetwork"
                                                  : "/checkNetwork";
  openstack::HttpRequest request;
  request.method = "POST";
  request.url = DaemonBaseUrl(endpoint) + path;
  request.headers = {{"Content-Type", "application/json"},
                     {"Connection", "close"}};
  request.body =
      DaemonRequestBody(inv.env, inv.config)
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.timeout = inv.command == "ADD" ? endpoint.vif_active_timeout +
                                               options.add_timeout_margin
                                         : options.del_check_timeout;
  const std::string what = absl::StrCat("POST ", request.url);
  inv.Log(absl::StrCat(inv.command, " of container '",
                       inv.Env("CNI_CONTAINERID"), "': ", what));

  int attempts = 0;
  auto response = SendWithRetry(inv, http, request, clock, options, &attempts);
  const std::string host_port = absl::StrCat(endpoint.host, ":", endpoint.port);
  if (response.ok()) return HandleAnswer(inv, *response, endpoint, what);
  const std::string details(response.status().message());
  switch (response.status().code()) {
    case absl::StatusCode::kUnavailable:
      return inv.Fail(
          kErrTryAgainLater,
          absl::StrCat("zun-cni-daemon at ", host_port, " is unreachable (",
                       attempts, " attempts in ",
                       absl::FormatDuration(options.unreachable_budget),
                       "); try again later"),
          details);
    case absl::StatusCode::kDeadlineExceeded:
      return inv.Fail(kErrDaemonTimeout,
                      absl::StrCat("zun-cni-daemon at ", host_port,
                                   " did not answer ", inv.command, " within ",
                                   absl::FormatDuration(request.timeout)),
                      details);
    default:
      return inv.Fail(
          kErrDaemonFailure,
          absl::StrCat("request to zun-cni-daemon at ", host_port, " failed"),
          details);
  }
}

}  // namespace

absl::StatusOr<DaemonEndpoint> LoadDaemonEndpoint(const std::string& zun_conf) {
  auto ini = IniFile::Load(zun_conf);
  if (!ini.ok()) return ini.status();
  DaemonEndpoint endpoint;
  if (const IniValue* v = ini->Get("cni_daemon", "cni_daemon_host");
      v != nullptr && !v->value.empty()) {
    endpoint.host = v->value;
  }
  if (const IniValue* v = ini->Get("cni_daemon", "cni_daemon_port")) {
    if (!absl::SimpleAtoi(v->value, &endpoint.port) || endpoint.port < 1 ||
        endpoint.port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat(zun_conf, ":", v->line, ": cni_daemon_port '", v->value,
                       "' is not a port number"));
    }
  }
  if (const IniValue* v = ini->Get("cni_daemon", "vif_active_timeout")) {
    int seconds = 0;
    if (!absl::SimpleAtoi(v->value, &seconds) || seconds < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(zun_conf, ":", v->line, ": vif_active_timeout '",
                       v->value, "' is not a number of seconds"));
    }
    endpoint.vif_active_timeout = absl::Seconds(seconds);
  }
  return endpoint;
}

std::string DaemonBaseUrl(const DaemonEndpoint& endpoint) {
  const bool bare_v6 =
      endpoint.host.find(':') != std::string::npos && endpoint.host[0] != '[';
  return absl::StrCat("http://", bare_v6 ? "[" : "", endpoint.host,
                      bare_v6 ? "]" : "", ":", endpoint.port);
}

PluginOutput RunPlugin(const std::map<std::string, std::string>& env,
                       const std::string& stdin_text,
                       openstack::HttpClient& http, Clock& clock,
                       const PluginOptions& options) {
  Invocation inv(env);
  inv.command = inv.Env("CNI_COMMAND");
  inv.cni_version = ErrorVersionOf(stdin_text);
  if (inv.command.empty()) {
    return inv.Fail(kErrInvalidEnvironment,
                    "required env variables [CNI_COMMAND] missing");
  }
  if (inv.command == "VERSION") {
    return inv.Succeed(
        VersionResponse(VersionOfStdin(stdin_text))
            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (inv.command != "ADD" && inv.command != "DEL" && inv.command != "CHECK") {
    return inv.Fail(kErrInvalidEnvironment,
                    absl::StrCat("unknown CNI_COMMAND '", inv.command, "'"),
                    "zun-cni supports ADD, DEL, CHECK and VERSION");
  }
  if (std::vector<std::string> missing = MissingEnv(inv); !missing.empty()) {
    return inv.Fail(kErrInvalidEnvironment,
                    absl::StrCat("required env variables [",
                                 absl::StrJoin(missing, ","), "] missing"));
  }

  try {
    inv.config = json::parse(stdin_text);
  } catch (const json::exception& e) {
    return inv.Fail(kErrDecodingFailure,
                    "cannot decode the network config on stdin", e.what());
  }
  if (!inv.config.is_object()) {
    return inv.Fail(kErrDecodingFailure,
                    "the network config on stdin is not a JSON object");
  }
  if (auto it = inv.config.find("debug"); it != inv.config.end()) {
    inv.debug = it->is_boolean() && it->get<bool>();
  }
  auto version = inv.config.find("cniVersion");
  if (version == inv.config.end() || !version->is_string()) {
    return inv.Fail(kErrInvalidNetworkConfig,
                    "the network config has no string cniVersion");
  }
  const std::string config_version = version->get<std::string>();
  const std::string supported =
      absl::StrCat("[", absl::StrJoin(SupportedCniVersions(), ", "), "]");
  if (!IsSupportedCniVersion(config_version)) {
    return inv.Fail(kErrIncompatibleVersion, "incompatible CNI versions",
                    absl::StrCat("config is \"", config_version,
                                 "\", plugin supports ", supported));
  }
  if (inv.command == "CHECK" && !CniVersionAtLeast(config_version, "0.4.0")) {
    return inv.Fail(kErrIncompatibleVersion,
                    "config version does not allow CHECK",
                    absl::StrCat("config is \"", config_version,
                                 "\"; CHECK needs cniVersion 0.4.0 or later"));
  }
  if (auto it = inv.config.find("zun_conf");
      it != inv.config.end() && !it->is_string()) {
    return inv.Fail(kErrInvalidNetworkConfig,
                    "zun_conf in the network config is not a string");
  }

  auto args = ParseCniArgs(inv.Env("CNI_ARGS"));
  if (!args.ok()) {
    return inv.Fail(kErrInvalidEnvironment, "cannot parse CNI_ARGS",
                    std::string(args.status().message()));
  }
  if (auto it = args->find("K8S_POD_NAME");
      it == args->end() || it->second.empty()) {
    return inv.Fail(kErrInvalidEnvironment,
                    "CNI_ARGS has no K8S_POD_NAME (the capsule's uuid)");
  }
  return CallDaemon(inv, http, clock, options);
}

}  // namespace zun::cni
