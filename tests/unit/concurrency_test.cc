// Clock, EventLoop and KeyedExecutor: the time and threading primitives.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "agent/idle_memory.h"
#include "agent/keyed_executor.h"
#include "common/clock.h"
#include "common/event_loop.h"
#include "common/thread_util.h"
#include "tests/support/poll.h"

namespace zun {
namespace {

// The name the kernel shows for the calling thread.
std::string CurrentThreadName() {
  std::ifstream comm("/proc/thread-self/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST_CASE("threads are named, and background ones run at a lower priority") {
  std::string name, named_loop;
  int before = 0, after = 0;
  std::thread t([&] {
    SetCurrentThreadName("a-rather-long-thread-name");
    name = CurrentThreadName();
    before = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    LowerCurrentThreadPriority(5);
    after = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  });
  t.join();
  CHECK(name == "a-rather-long-t");  // the kernel keeps 15 bytes
  CHECK(after == std::min(before + 5, 19));
  // The process's own priority is untouched.
  CHECK(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())) == before);

  EventLoop loop(RealClock::Default(), "my-loop");
  loop.Start();
  absl::Notification done;
  loop.Post([&] {
    named_loop = CurrentThreadName();
    done.Notify();
  });
  done.WaitForNotification();
  loop.Stop();
  CHECK(named_loop == "my-loop");
}

// Runs `n` tasks on `n` keys at once, each holding its worker until all
// have started, and waits until they are done.
void RunBurst(agent::KeyedExecutor& ex, int n) {
  absl::Notification go;
  for (int i = 0; i < n; ++i) {
    REQUIRE(ex.Submit("burst" + std::to_string(i),
                      [&] { go.WaitForNotification(); }));
  }
  REQUIRE(testing::PollUntil([&] { return ex.threads() == n; }));
  go.Notify();
  REQUIRE(testing::PollUntil([&] { return ex.Pending() == 0; }));
}

TEST_CASE("memory is released once per burst, when the burst is over") {
  int released = 0;
  agent::IdleMemoryRelease idle(absl::Seconds(10), [&] { ++released; });
  agent::KeyedExecutor executor(4);
  absl::Time now = absl::UnixEpoch();
  // A relist `after` the previous one.
  auto look = [&](absl::Duration after) {
    now += after;
    return idle.MaybeRelease(executor.Submitted(), executor.Pending(), now);
  };
  // Nothing ever submitted: steady state costs nothing.
  CHECK_FALSE(look(absl::Seconds(2)));
  CHECK_FALSE(look(absl::Seconds(20)));
  absl::Notification go;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(executor.Submit("k" + std::to_string(i),
                            [&] { go.WaitForNotification(); }));
  }
  CHECK(executor.Submitted() == 3);
  // In flight: not yet, however long it lasts.
  CHECK_FALSE(look(absl::Seconds(2)));
  CHECK_FALSE(look(absl::Seconds(20)));
  go.Notify();
  REQUIRE(testing::PollUntil([&] { return executor.Pending() == 0; }));
  // Over: released once nothing was new nor in flight for 10 s.
  CHECK_FALSE(look(absl::Seconds(2)));
  CHECK_FALSE(look(absl::Seconds(7)));
  CHECK(look(absl::Seconds(2)));
  // Once: the next idle looks find nothing new.
  CHECK_FALSE(look(absl::Seconds(20)));
  CHECK(released == 1);
  // A trickle: something new at every look, so never idle, even when
  // nothing is in flight at the moment of the look and the trickle lasts
  // longer than the quiet period.
  for (int i = 0; i < 6; ++i) {
    REQUIRE(executor.Submit("k", [] {}));
    REQUIRE(testing::PollUntil([&] { return executor.Pending() == 0; }));
    CHECK_FALSE(look(absl::Seconds(3)));
  }
  // The trickle stopped: released 10 s after its last operation.
  CHECK_FALSE(look(absl::Seconds(3)));
  CHECK(look(absl::Seconds(7)));
  CHECK(released == 2);
  CHECK(idle.releases() == 2);
  // The default releases with malloc_trim, harmlessly at any time.
  agent::IdleMemoryRelease real;
  CHECK_FALSE(real.MaybeRelease(1, 0, now));
  CHECK(real.MaybeRelease(1, 0, now + absl::Seconds(10)));
}

TEST_CASE("memory is released again once a burst's threads have retired") {
  int released = 0;
  agent::IdleMemoryRelease idle(absl::Seconds(10), [&] { ++released; });
  // Idle for 2 s before retiring: long beside the few statements between
  // the burst's end and the first release.
  agent::KeyedExecutor executor(3, absl::Seconds(2));
  auto activity = [&] { return executor.Submitted() + executor.Retired(); };
  absl::Time now = absl::UnixEpoch();
  auto look = [&](absl::Duration after) {
    now += after;
    return idle.MaybeRelease(activity(), executor.Pending(), now);
  };
  RunBurst(executor, 3);
  // The burst is over: released 10 s later, while its workers are still
  // idle (their 2 s is real time; the looks' is not).
  CHECK_FALSE(look(absl::Seconds(2)));
  CHECK(look(absl::Seconds(10)));
  CHECK_FALSE(look(absl::Seconds(10)));
  // They retire after their idle timeout, and what they held goes too.
  REQUIRE(testing::PollUntil([&] { return executor.threads() == 0; }));
  CHECK(executor.Retired() == 3);
  CHECK_FALSE(look(absl::Seconds(2)));
  CHECK(look(absl::Seconds(10)));
  CHECK_FALSE(look(absl::Seconds(10)));
  CHECK(released == 2);
  // A retired pool starts workers again for new work.
  absl::Notification ran;
  REQUIRE(executor.Submit("k", [&] { ran.Notify(); }));
  CHECK(ran.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_CASE("a simulated clock wakes waiters only when advanced past them") {
  SimulatedClock clock;
  Waker waker;
  std::atomic<bool> done{false};
  std::thread t([&] {
    clock.WaitFor(absl::Seconds(10), waker);
    done = true;
  });
  REQUIRE(testing::PollUntil([&] { return clock.NumWaiters() == 1; }));
  clock.AdvanceTime(absl::Seconds(9));
  CHECK_FALSE(done.load());
  clock.AdvanceTime(absl::Seconds(1));
  REQUIRE(testing::PollUntil([&] { return done.load(); }));
  t.join();
}

TEST_CASE("a notified waker ends a wait early and reports it") {
  SimulatedClock clock;
  Waker waker;
  waker.Notify();
  CHECK(clock.WaitFor(absl::Hours(1), waker));
}

TEST_CASE("event loop timers fire in time order on simulated time") {
  SimulatedClock clock;
  EventLoop loop(clock, "test");
  loop.Start();
  std::mutex mu;
  std::vector<int> fired;
  auto record = [&](int i) {
    std::lock_guard<std::mutex> l(mu);
    fired.push_back(i);
  };
  loop.RunAfter(absl::Seconds(3), [&] { record(3); });
  loop.RunAfter(absl::Seconds(1), [&] { record(1); });
  auto cancelled = loop.RunAfter(absl::Seconds(2), [&] { record(2); });
  CHECK(loop.Cancel(cancelled));
  clock.AdvanceTime(absl::Seconds(1));
  REQUIRE(testing::PollUntil([&] {
    std::lock_guard<std::mutex> l(mu);
    return fired.size() == 1;
  }));
  clock.AdvanceTime(absl::Seconds(5));
  REQUIRE(testing::PollUntil([&] {
    std::lock_guard<std::mutex> l(mu);
    return fired.size() == 2;
  }));
  std::lock_guard<std::mutex> l(mu);
  CHECK(fired == std::vector<int>{1, 3});
}

TEST_CASE(
    "keyed executor gives every ready key a worker, not one idle "
    "worker two keys") {
  // One idle worker; then a key that blocks and another one, submitted
  // back to back: the second must not wait behind the first.
  for (int round = 0; round < 20; ++round) {
    agent::KeyedExecutor ex(8);
    absl::Notification warm;
    ex.Submit("warm", [&] { warm.Notify(); });
    warm.WaitForNotification();
    REQUIRE(testing::PollUntil([&] { return ex.idle_threads() == 1; }));
    absl::Notification release;
    std::atomic<bool> ran{false};
    ex.Submit("blocks", [&] { release.WaitForNotification(); });
    ex.Submit("other", [&] { ran = true; });
    CHECK(testing::PollUntil([&] { return ran.load(); }, absl::Seconds(5)));
    release.Notify();
    if (!ran.load()) break;
  }
}

namespace {

// Runs one task on `ex` and waits until every worker idles again; returns
// the thread it ran on.
std::thread::id RunOneAndIdle(agent::KeyedExecutor& ex) {
  absl::Notification done;
  std::thread::id id;
  REQUIRE(ex.Submit("trickle", [&] {
    id = std::this_thread::get_id();
    done.Notify();
  }));
  done.WaitForNotification();
  REQUIRE(
      testing::PollUntil([&] { return ex.idle_threads() == ex.threads(); }));
  return id;
}

}  // namespace

TEST_CASE(
    "after a burst, keyed executor runs a trickle on the worker that idled "
    "last") {
  // No worker can retire during the test: whichever runs the trickle was
  // chosen by the wake-up order alone.
  agent::KeyedExecutor ex(8, absl::Seconds(60));
  RunBurst(ex, 4);
  REQUIRE(testing::PollUntil([&] { return ex.idle_threads() == 4; }));
  std::set<std::thread::id> ran_on;
  for (int i = 0; i < 20; ++i) ran_on.insert(RunOneAndIdle(ex));
  CHECK(ran_on.size() == 1);
  CHECK(ex.threads() == 4);
}

TEST_CASE(
    "under a trickle after a burst, the workers it does not need retire") {
  agent::KeyedExecutor ex(8, absl::Milliseconds(300));
  RunBurst(ex, 4);
  REQUIRE(testing::PollUntil([&] { return ex.idle_threads() == 4; }));
  // Woken in turn, every worker would stay younger than its idle timeout.
  // (On a loaded machine the trickle's own worker may retire too, between
  // two tasks, and a new one start: hence at least three.)
  CHECK(testing::PollUntil([&] {
    RunOneAndIdle(ex);
    return ex.threads() == 1;
  }));
  CHECK(ex.Retired() >= 3);
}

TEST_CASE("keyed executor serialises one key and runs keys concurrently") {
  agent::KeyedExecutor ex(8);
  std::mutex mu;
  std::map<std::string, std::vector<int>> order;
  std::atomic<int> running_a{0};
  std::atomic<bool> overlap{false};
  absl::Notification release_b;
  std::atomic<bool> b_started{false};
  // "b" blocks; "a" must still make progress.
  ex.Submit("b", [&] {
    b_started = true;
    release_b.WaitForNotification();
  });
  REQUIRE(testing::PollUntil([&] { return b_started.load(); }));
  for (int i = 0; i < 50; ++i) {
    ex.Submit("a", [&, i] {
      if (running_a.fetch_add(1) != 0) overlap = true;
      {
        std::lock_guard<std::mutex> l(mu);
        order["a"].push_back(i);
      }
      running_a.fetch_sub(1);
    });
  }
  REQUIRE(testing::PollUntil([&] {
    std::lock_guard<std::mutex> l(mu);
    return order["a"].size() == 50;
  }));
  CHECK_FALSE(overlap.load());
  {
    std::lock_guard<std::mutex> l(mu);
    for (int i = 0; i < 50; ++i) CHECK(order["a"][i] == i);
  }
  release_b.Notify();
  CHECK(ex.Shutdown(absl::Seconds(10)));
  CHECK_FALSE(ex.Submit("c", [] {}));
}

TEST_CASE("shutdown drops queued tasks after its deadline") {
  agent::KeyedExecutor ex(1);
  absl::Notification release;
  std::atomic<bool> second_ran{false};
  ex.Submit("k", [&] { release.WaitForNotification(); });
  ex.Submit("k", [&] { second_ran = true; });
  // The running task is released once the deadline has passed and the
  // queued one was dropped (Shutdown then waits for the running one).
  CHECK_FALSE(ex.Shutdown(absl::Milliseconds(1), [&] { release.Notify(); }));
  CHECK_FALSE(second_ran.load());
}

}  // namespace
}  // namespace zun
