// FaultInjector: what a call meets, and that a call served without waiting
// (fake-cri's polling thread) only counts.
#include "cri/fault_injector.h"

#include <catch2/catch.hpp>

#include "common/clock.h"

namespace zun::cri::fake {
namespace {

MethodFaults Parse(const std::string& spec) {
  absl::StatusOr<MethodFaults> f = ParseMethodFaults(spec);
  REQUIRE(f.ok());
  return *f;
}

TEST_CASE(
    "faults apply to their method, and only count a call that may not wait") {
  FaultInjector faults(RealClock::Default(), 7);
  const absl::Time past = absl::Now() - absl::Seconds(1);
  CHECK_FALSE(faults.HasFaults("ListPodSandbox"));
  CHECK(faults.Apply("ListPodSandbox", past).ok());

  faults.Set("ListPodSandbox", Parse("hang"));
  faults.Set("StartContainer", Parse("error:1,code:14"));
  CHECK(faults.HasFaults("ListPodSandbox"));
  CHECK_FALSE(faults.HasFaults("Version"));
  // Held until the deadline (already past here).
  CHECK(faults.Apply("ListPodSandbox", past).code() ==
        absl::StatusCode::kDeadlineExceeded);
  CHECK(faults.Apply("StartContainer", past).code() ==
        absl::StatusCode::kUnavailable);
  // A call dispatched as faultless is served as if it came first.
  CHECK(faults
            .Apply("ListPodSandbox", absl::InfiniteFuture(),
                   /*may_wait=*/false)
            .ok());
  CHECK(faults.Apply("StartContainer", past, /*may_wait=*/false).ok());
  absl::StatusOr<absl::Duration> latency =
      faults.Check("ListPodSandbox", absl::InfiniteFuture(), false);
  REQUIRE(latency.ok());
  CHECK(*latency == absl::ZeroDuration());
  // Every call counts.
  CHECK(faults.Calls("ListPodSandbox") == 4);
  CHECK(faults.Calls("StartContainer") == 2);

  faults.Clear();
  CHECK_FALSE(faults.HasFaults("ListPodSandbox"));
  CHECK(faults.Apply("StartContainer", past).ok());
}

}  // namespace
}  // namespace zun::cri::fake
