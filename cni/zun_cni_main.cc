// zun-cni: the CNI plugin containerd runs (/opt/cni/bin/zun-cni) for a
// capsule's sandbox. A thin forwarder to zun-cni-daemon: the environment and
// stdin go to RunPlugin (cni_plugin.h), its output to stdout, its exit code
// back to containerd. Debug lines (config "debug": true) go to stderr.
//
// Proxies are bypassed: the daemon listens on this node (containerd's
// environment may carry http_proxy, which would otherwise catch
// 127.0.0.1:9036).
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include "cni/cni_plugin.h"
#include "common/clock.h"
#include "openstack/curl_http_client.h"

extern char** environ;

int main() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  const std::string stdin_text(std::istreambuf_iterator<char>(std::cin), {});
  setenv("no_proxy", "*", 1);
  setenv("NO_PROXY", "*", 1);

  zun::openstack::CurlHttpClient http;
  const zun::cni::PluginOutput out =
      zun::cni::RunPlugin(env, stdin_text, http, zun::RealClock::Default());
  if (!out.log_text.empty()) std::cerr << out.log_text << std::flush;
  if (!out.stdout_text.empty()) std::cout << out.stdout_text << "\n";
  std::cout.flush();
  return out.exit_code;
}
