#include "cni/vif_plugger.h"

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cni/bridge_plugger.h"

namespace zun::cni {
namespace {

// Routes each call to the plugger of vif.plugin.
class DispatchingVifPlugger final : public VifPlugger {
 public:
  DispatchingVifPlugger() : bridge_(MakeLinuxBridgePlugger()) {}

  // VifPlugger
  absl::Status Plug(const Vif& vif, const std::string& netns_path,
                    const std::string& ifname, bool default_gateway) override {
    absl::StatusOr<VifPlugger*> plugger = For(vif);
    if (!plugger.ok()) return plugger.status();
    return (*plugger)->Plug(vif, netns_path, ifname, default_gateway);
  }
  absl::Status Unplug(const Vif& vif, const std::string& netns_path,
                      const std::string& ifname) override {
    // An OVS VIF was never plugged on this node: nothing to remove (DEL
    // must succeed so that the sandbox can go).
    if (vif.plugin == "ovs") return absl::OkStatus();
    absl::StatusOr<VifPlugger*> plugger = For(vif);
    if (!plugger.ok()) return plugger.status();
    return (*plugger)->Unplug(vif, netns_path, ifname);
  }
  absl::Status Check(const Vif& vif, const std::string& netns_path,
                     const std::string& ifname) override {
    absl::StatusOr<VifPlugger*> plugger = For(vif);
    if (!plugger.ok()) return plugger.status();
    return (*plugger)->Check(vif, netns_path, ifname);
  }

 private:
  absl::StatusOr<VifPlugger*> For(const Vif& vif) {
    if (vif.plugin == "linux_bridge") return bridge_.get();
    if (vif.plugin == "ovs") {
      return absl::FailedPreconditionError(absl::StrCat(
          "port ", vif.id,
          " (os-vif plugin ovs) needs Open vSwitch, which "
          "this node lacks; bind the port to a host running Neutron's "
          "linuxbridge agent"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "port ", vif.id, ": unknown os-vif plugin '", vif.plugin, "'"));
  }

  const VifPluggerPtr bridge_;  // stateless, thread-safe
};

}  // namespace

VifPluggerPtr MakeVifPlugger() {
  return std::make_unique<DispatchingVifPlugger>();
}

}  // namespace zun::cni
