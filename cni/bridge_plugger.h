// File: bridge_plugger.h
// The Linux-bridge VifPlugger (vif.plugin "linux_bridge"): a veth pair whose
// host end vif.vif_name is enslaved to vif.bridge_name, the bridge Neutron's
// linuxbridge agent wires to the physical network (contract §4.3, §8.1).
// Neutron's agent does not enslave the taps of compute:* ports, and may
// create the bridge at the same time: the plugger creates the bridge when
// absent (STP off, forward delay 0, up) and enslaves the tap itself.
//
// Contract: as VifPlugger (vif_plugger.h); additionally INVALID_ARGUMENT
// when vif.vif_class is not VIFBridge. Thread-safe; no state between calls.
#pragma once

#include "cni/vif_plugger.h"

namespace zun::cni {

VifPluggerPtr MakeLinuxBridgePlugger();

}  // namespace zun::cni
