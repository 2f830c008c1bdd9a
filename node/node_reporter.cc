#include "node/node_reporter.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "capsule/status.h"
#include "common/logging.h"
#include "rpc/zun_object.h"

namespace zun::node {

namespace cs = ::zun::capsule;

namespace {

bool SameInventory(const db::ComputeNodeRecord& a,
                   const db::ComputeNodeRecord& b) {
  return a.hostname == b.hostname && a.numa_topology == b.numa_topology &&
         a.mem_total == b.mem_total && a.mem_free == b.mem_free &&
         a.mem_available == b.mem_available && a.mem_used == b.mem_used &&
         a.total_containers == b.total_containers &&
         a.running_containers == b.running_containers &&
         a.paused_containers == b.paused_containers &&
         a.stopped_containers == b.stopped_containers && a.cpus == b.cpus &&
         a.cpu_used == b.cpu_used && a.architecture == b.architecture &&
         a.os_type == b.os_type && a.os == b.os &&
         a.kernel_version == b.kernel_version && a.labels == b.labels &&
         a.pci_stats == b.pci_stats && a.disk_total == b.disk_total &&
         a.disk_used == b.disk_used &&
         a.disk_quota_supported == b.disk_quota_supported &&
         a.runtimes == b.runtimes &&
         a.enable_cpu_pinning == b.enable_cpu_pinning;
}

}  // namespace

db::ComputeNodeRecord BuildInventory(const HostInfo& h,
                                     const CapsuleVisitor& capsules,
                                     const std::vector<std::string>& runtimes,
                                     const NodeReporterOptions& o) {
  db::ComputeNodeRecord n;
  n.hostname = o.host;
  n.cpus = h.cpus;
  n.mem_total = h.mem_total_mib;
  n.mem_available = h.mem_available_mib;
  n.architecture = h.architecture;
  n.os_type = "linux";
  n.os = h.os;
  n.kernel_version = h.kernel_version;
  // Zun keeps a share of the disk for images out of this figure (not out
  // of Placement's DISK_GB).
  n.disk_total = std::max<int64_t>(
      0, h.disk_total_gb -
             static_cast<int64_t>(static_cast<double>(h.disk_total_gb) *
                                  o.reserve_disk_for_image));
  n.enable_cpu_pinning = o.enable_cpu_pinning;
  n.runtimes = nlohmann::json(runtimes);
  n.labels = nlohmann::json::object();
  n.pci_stats = rpc::EmptyPciDevicePoolList().dump();
  nlohmann::json nodes = nlohmann::json::array();
  for (const NumaNode& nn : h.numa) {
    nodes.push_back({{"id", nn.id},
                     {"cpuset", nn.cpus},
                     {"pinned_cpus", nlohmann::json::array()},
                     {"mem_total", nn.mem_total_mib},
                     {"mem_available", nn.mem_available_mib}});
  }
  n.numa_topology = {{"nodes", nodes}};
  // Claims of the capsules on this host (as Zun's resource tracker counts).
  capsules([&n](const capsule::Capsule& c) {
    ++n.total_containers;
    const std::string status = c.record.status.value_or("");
    if (status == cs::kStatusRunning || status == cs::kStatusRestarting ||
        status == cs::kStatusCreating) {
      ++n.running_containers;
    } else if (status == cs::kStatusPaused) {
      ++n.paused_containers;
    } else {
      ++n.stopped_containers;
    }
    n.cpu_used += c.record.cpu.value_or(0);
    int64_t mib = 0;
    if (c.record.memory && absl::SimpleAtoi(*c.record.memory, &mib) &&
        mib > 0) {
      n.mem_used += mib;
    }
    n.disk_used += c.record.disk.value_or(0);
  });
  n.mem_free = std::max<int64_t>(0, n.mem_total - n.mem_used);
  return n;
}

NodeReporter::NodeReporter(db::CapsuleStore& store, cri::CriClient& cri,
                           CapsuleVisitor capsules, Clock& clock,
                           NodeReporterOptions options,
                           PlacementReporter* placement)
    : store_(store),
      cri_(cri),
      capsules_(std::move(capsules)),
      clock_(clock),
      options_(std::move(options)),
      placement_(placement),
      loop_(clock, "node-reporter") {}

NodeReporter::~NodeReporter() { Stop(); }

absl::Status NodeReporter::ReportOnce() {
  absl::StatusOr<db::ServiceRecord> s =
      store_.ReportService(options_.host, options_.availability_zone);
  if (!s.ok()) {
    ZUN_LOG(kAgent, warn, "heartbeat failed: {}", s.status().message());
    return s.status();
  }
  bool disabled_changed = false;
  {
    absl::MutexLock l(&mu_);
    if (service_ && (service_->disabled != s->disabled ||
                     service_->forced_down != s->forced_down)) {
      ZUN_LOG(kAgent, warn,
              "zun_service of '{}': disabled={} ({}) forced_down={}",
              options_.host, s->disabled, s->disabled_reason, s->forced_down);
    }
    disabled_changed = !service_ || service_->disabled != s->disabled;
    service_ = *s;
    last_report_ = clock_.Now();
  }
  if (disabled_changed) PushToPlacement();
  return absl::OkStatus();
}

void NodeReporter::PushToPlacement() {
  if (placement_ == nullptr) return;
  NodeResources r;
  {
    absl::MutexLock l(&mu_);
    if (rp_uuid_.empty()) return;  // no compute_node row yet
    r.rp_uuid = rp_uuid_;
    r.name = options_.host;
    r.vcpus = host_info_.cpus;
    r.memory_mb = host_info_.mem_total_mib;
    r.disk_gb = host_info_.disk_total_gb;
    r.disabled = service_ && service_->disabled;
  }
  placement_->Update(std::move(r));
}

void NodeReporter::AdoptProvider(const std::string& rp_uuid) {
  {
    absl::MutexLock l(&mu_);
    if (rp_uuid_ == rp_uuid) return;
    adopted_rp_uuid_ = rp_uuid;
    last_inventory_.reset();  // write it with the next inventory
  }
  loop_.Post([this] { InventoryOnce().IgnoreError(); });
}

absl::Status NodeReporter::InventoryOnce() {
  std::vector<std::string> runtimes;
  absl::StatusOr<cri::RuntimeStatusInfo> st = cri_.Status();
  if (st.ok()) {
    for (const auto& h : st->handlers) {
      runtimes.push_back(h.name.empty() ? "runc" : h.name);
    }
  }
  if (runtimes.empty()) runtimes = options_.configured_runtimes;
  HostInfo info = ReadHostInfo(options_.host_root, options_.disk_path);
  db::ComputeNodeRecord node =
      BuildInventory(info, capsules_, runtimes, options_);
  bool same = false;
  {
    absl::MutexLock l(&mu_);
    host_info_ = info;
    same = last_inventory_ && SameInventory(*last_inventory_, node);
    node.uuid = node_uuid_;
    node.rp_uuid = adopted_rp_uuid_;
  }
  if (!same) {
    absl::StatusOr<db::CapsuleStore::ComputeNodeIds> ids =
        store_.UpsertComputeNode(node);
    if (!ids.ok()) {
      ZUN_LOG(kAgent, warn, "inventory update failed: {}",
              ids.status().message());
      return ids.status();
    }
    absl::MutexLock l(&mu_);
    node_uuid_ = ids->uuid;
    rp_uuid_ = ids->rp_uuid;
    last_inventory_ = node;
  }
  PushToPlacement();
  return absl::OkStatus();
}

void NodeReporter::Start() {
  loop_.Start();
  loop_.Post([this] {
    ReportOnce().IgnoreError();
    InventoryOnce().IgnoreError();
  });
  struct Repeat {
    static void Beat(NodeReporter* r) {
      r->ReportOnce().IgnoreError();
      r->loop_.RunAfter(r->options_.report_interval, [r] { Beat(r); });
    }
    static void Inventory(NodeReporter* r) {
      r->InventoryOnce().IgnoreError();
      r->loop_.RunAfter(r->options_.inventory_interval, [r] { Inventory(r); });
    }
  };
  loop_.RunAfter(options_.report_interval, [this] { Repeat::Beat(this); });
  loop_.RunAfter(options_.inventory_interval,
                 [this] { Repeat::Inventory(this); });
}

void NodeReporter::Stop() { loop_.Stop(); }

std::optional<db::ServiceRecord> NodeReporter::service() {
  absl::MutexLock l(&mu_);
  return service_;
}

absl::Time NodeReporter::last_report() {
  absl::MutexLock l(&mu_);
  return last_report_;
}

}  // namespace zun::node
