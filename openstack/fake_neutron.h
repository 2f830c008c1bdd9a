// File: fake_neutron.h
// An in-memory Neutron for unit tests: networks, subnets and ports with the
// behaviour the capsule path relies on. A port bound to a host in
// `l2_hosts` gets binding:vif_type "bridge" (Linux bridge), to any other
// host "binding_failed"; new ports are DOWN until SetPortStatus; fixed IPs
// come from the subnet in order (.10, .11, ...); a requested fixed IP is
// honoured. FailNext makes the next call of a method fail.
//
// Thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "openstack/neutron.h"

namespace zun::openstack {

class FakeNeutron final : public NeutronClient {
 public:
  absl::StatusOr<nlohmann::json> CreatePort(
      const nlohmann::json& port) override;
  absl::StatusOr<nlohmann::json> UpdatePort(
      const std::string& id, const nlohmann::json& changes) override;
  absl::StatusOr<nlohmann::json> ShowPort(const std::string& id) override;
  absl::Status DeletePort(const std::string& id) override;
  absl::StatusOr<std::vector<nlohmann::json>> ListPorts(
      const std::vector<std::pair<std::string, std::string>>& filters) override;
  absl::StatusOr<nlohmann::json> ShowNetwork(const std::string& id) override;
  absl::StatusOr<std::vector<nlohmann::json>> ListNetworks(
      const std::vector<std::pair<std::string, std::string>>& filters) override;
  absl::StatusOr<nlohmann::json> ShowSubnet(const std::string& id) override;

  // Test setup and inspection.
  // A network with one IPv4 subnet "<cidr prefix>.0/24"; returns its id.
  std::string AddNetwork(const std::string& name, const std::string& prefix,
                         const std::string& tenant = "proj",
                         bool shared = false);
  std::string SubnetOf(const std::string& network_id);
  void AddL2Host(const std::string& host);
  void SetPortStatus(const std::string& id, const std::string& status);
  // The next call of `method` ("CreatePort", "ListPorts", ...) fails.
  void FailNext(const std::string& method, absl::Status error);
  std::vector<nlohmann::json> Ports();
  int calls(const std::string& method);

 private:
  absl::Status Enter(const std::string& method)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Bind(nlohmann::json& port) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SubnetOfLocked(const std::string& network_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, nlohmann::json> networks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, nlohmann::json> subnets_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, nlohmann::json> ports_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> l2_hosts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> fail_next_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  int next_host_ ABSL_GUARDED_BY(mu_) = 10;
};

}  // namespace zun::openstack
