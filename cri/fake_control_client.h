// File: fake_control_client.h
// Client of fake-cri's control service (tests): faults, restarts, stats.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zun::cri::fake {

struct FakeCriStats {
  std::map<std::string, int64_t> calls;
  int64_t sandboxes = 0;
  int64_t containers = 0;
  int64_t restarts = 0;
};

class FakeCriControlClient {
 public:
  explicit FakeCriControlClient(const std::string& endpoint);
  ~FakeCriControlClient();

  // method -> spec ("latency:1s,error:0.5,code:14,hang"; "" clears).
  absl::Status SetFaults(const std::map<std::string, std::string>& faults,
                         bool clear_first = false);
  absl::Status ClearFaults() { return SetFaults({}, true); }
  absl::Status Restart(bool keep_state, absl::Duration downtime);
  absl::StatusOr<FakeCriStats> Stats();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zun::cri::fake
