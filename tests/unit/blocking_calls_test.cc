#include "cri/blocking_calls.h"

#include <atomic>
#include <catch2/catch.hpp>

#include "absl/synchronization/notification.h"
#include "tests/support/poll.h"

namespace zun::cri::fake {
namespace {

TEST_CASE("blocking calls all run at once, and their threads are reused") {
  BlockingCalls calls(absl::Seconds(30));
  constexpr int kCalls = 20;
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    absl::Notification release;
    std::atomic<int> started{0};
    for (int i = 0; i < kCalls; ++i) {
      calls.Run([&] {
        ++started;
        release.WaitForNotification();
      });
    }
    // None waits for another to return.
    REQUIRE(testing::PollUntil([&] { return started.load() == kCalls; }));
    release.Notify();
    calls.Drain();
    // Later rounds find the first round's threads idle.
    CHECK(calls.threads() == kCalls);
  }
}

TEST_CASE("idle blocking-call threads end after their idle time") {
  BlockingCalls calls(absl::Milliseconds(50));
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) calls.Run([&] { ++ran; });
  calls.Drain();
  CHECK(ran.load() == 5);
  CHECK(testing::PollUntil([&] { return calls.threads() == 0; }));
  calls.Run([&] { ++ran; });  // a new thread when none is left
  calls.Drain();
  CHECK(ran.load() == 6);
}

TEST_CASE("destroying blocking calls ends their idle threads") {
  auto calls = std::make_unique<BlockingCalls>(absl::Hours(1));
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i) calls->Run([&] { ++ran; });
  calls->Drain();
  calls.reset();  // the idle threads end now, not in an hour
  CHECK(ran.load() == 3);
}

}  // namespace
}  // namespace zun::cri::fake
