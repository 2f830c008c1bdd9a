// File: cni_plugin.h
// The zun-cni plugin as a function: containerd's environment and stdin in,
// what the plugin prints and its exit status out. zun_cni_main.cc only
// gathers environ and stdin and hands them here with a CurlHttpClient.
// See shared/spec/zun-cni-contract.md §2-§3.
//
// Behaviour:
//  - stdin is the network config: {"cniVersion", "name", "type",
//    "zun_conf", optional "debug"} (or a conflist's per-plugin config).
//    When zun_conf is set, [cni_daemon] cni_daemon_host (127.0.0.1),
//    cni_daemon_port (9036) and vif_active_timeout (60 s) are read from it;
//    nothing else is read and the plugin holds no credentials.
//  - VERSION is answered locally (stdin may be empty). ADD, DEL and CHECK
//    POST DaemonRequestBody() to /addNetwork, /delNetwork, /checkNetwork
//    (CHECK only for cniVersion >= 0.4.0). ADD waits vif_active_timeout +
//    30 s for the answer (longer than the daemon's ACTIVE wait), DEL and
//    CHECK 60 s.
//  - While the daemon is unreachable (HttpClient::Do gives UNAVAILABLE: it
//    is restarting) the request is retried, backing off 100 ms doubling to
//    1 s, for up to 30 s of `clock` time; then code 11 naming host:port.
//  - Success: ADD prints the result (exit 0); DEL and CHECK print nothing
//    (exit 0). Any failure prints ErrorJson() and exits 1: code 1 for an
//    unsupported cniVersion (or CHECK below 0.4.0), 4 for missing or bad
//    environment variables and unknown commands, 6 for stdin that is not a
//    JSON object, 7 for a bad config or unreadable zun_conf, 11 as above,
//    100+ for daemon failures (cni_protocol.h), with the daemon's "reason".
//
// Thread-compatible: RunPlugin keeps no state; `http` and `clock` must be
// usable from the calling thread.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "openstack/http_client.h"

namespace zun::cni {

// The [cni_daemon] options the plugin uses.
struct DaemonEndpoint {
  std::string host = "127.0.0.1";                         // cni_daemon_host
  int port = 9036;                                        // cni_daemon_port
  absl::Duration vif_active_timeout = absl::Seconds(60);  // the daemon's wait
};

// The endpoint from the oslo-style file at `zun_conf` (defaults for absent
// options). NOT_FOUND / PERMISSION_DENIED when the file cannot be read,
// INVALID_ARGUMENT for a syntax error or a bad port or timeout.
absl::StatusOr<DaemonEndpoint> LoadDaemonEndpoint(const std::string& zun_conf);

// The daemon's base URL, "http://127.0.0.1:9036" (IPv6 hosts in brackets).
std::string DaemonBaseUrl(const DaemonEndpoint& endpoint);

struct PluginOptions {
  // How long an unreachable daemon is retried before code 11.
  absl::Duration unreachable_budget = absl::Seconds(30);
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
  // Added to vif_active_timeout for ADD's HTTP timeout.
  absl::Duration add_timeout_margin = absl::Seconds(30);
  // HTTP timeout of DEL and CHECK.
  absl::Duration del_check_timeout = absl::Seconds(60);
};

struct PluginOutput {
  std::string stdout_text;  // the result or error JSON, or ""
  int exit_code = 0;        // 0 success, 1 failure
  // Diagnostic lines for stderr: only when the config has "debug": true
  // (containerd logs a plugin's stderr); never credentials.
  std::string log_text;
};

// Runs one plugin invocation. `env` is the whole environment (CNI_* and
// anything else; only CNI_* reaches the daemon). Never fails: every error
// becomes an error JSON in the output.
PluginOutput RunPlugin(const std::map<std::string, std::string>& env,
                       const std::string& stdin_text,
                       openstack::HttpClient& http, Clock& clock,
                       const PluginOptions& options = {});

}  // namespace zun::cni
