// libFuzzer target: what zun-cni and zun-cni-daemon read from outside. The
// input is split at the first NUL: the plugin's stdin (network config) and
// the daemon's ADD answer (an os-vif primitive) that a fake daemon returns;
// the second part is also parsed as a capsule's cni_metadata. The plugin's
// output must always be JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cni/cni_plugin.h"
#include "cni/vif.h"
#include "common/clock.h"
#include "fuzz/fuzz_common.h"
#include "openstack/fake_http_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zun::fuzz::Quiet();
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string config = input.substr(0, nul);
  const std::string answer =
      nul == std::string::npos ? std::string() : input.substr(nul + 1);
  (void)zun::cni::ParseCniMetadata(nlohmann::json(answer));
  zun::openstack::FakeHttpClient http(
      [&](const zun::openstack::HttpRequest&)
          -> absl::StatusOr<zun::openstack::HttpResponse> {
        zun::openstack::HttpResponse r;
        r.status = 202;
        r.body = answer;
        return r;
      });
  zun::SimulatedClock clock(absl::FromUnixSeconds(1700000000));
  const std::map<std::string, std::string> env = {
      {"CNI_COMMAND", "ADD"},
      {"CNI_CONTAINERID", "sandbox"},
      {"CNI_NETNS", "/var/run/netns/cni-x"},
      {"CNI_IFNAME", "eth0"},
      {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAME=capsule"},
      {"CNI_PATH", "/opt/cni/bin"}};
  zun::cni::PluginOutput out = zun::cni::RunPlugin(env, config, http, clock);
  if (nlohmann::json::parse(out.stdout_text, nullptr, false).is_discarded()) {
    __builtin_trap();
  }
  return 0;
}
