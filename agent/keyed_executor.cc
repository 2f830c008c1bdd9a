#include "agent/keyed_executor.h"

#include <utility>

#include "common/thread_util.h"

namespace zun::agent {

KeyedExecutor::KeyedExecutor(int max_threads, absl::Duration idle_timeout,
                             std::string name)
    : max_threads_(max_threads),
      idle_timeout_(idle_timeout),
      name_(std::move(name)) {}

KeyedExecutor::~KeyedExecutor() { Shutdown(absl::InfiniteDuration()); }

bool KeyedExecutor::Submit(const std::string& key, Task task) {
  std::vector<std::thread> to_join;
  {
    absl::MutexLock l(&mu_);
    if (shutting_down_) return false;
    auto& q = queues_[key];
    q.push_back(std::move(task));
    ++pending_;
    ++submitted_;
    if (q.size() == 1 && !running_.count(key)) {
      ready_.push_back(key);
      // Each ready key needs a worker of its own: the idle one that ran
      // last (its stack and caches are warm; the others keep idling
      // towards retirement), else a new one.
      if (!idle_stack_.empty()) {
        IdleSlot* slot = idle_stack_.back();
        idle_stack_.pop_back();
        slot->woken = true;
        slot->cv.Signal();
      } else if (threads_ < max_threads_) {
        ++threads_;
        std::thread t([this] { Worker(); });
        workers_.emplace(t.get_id(), std::move(t));
      }
    }
    to_join.swap(finished_);
  }
  for (auto& t : to_join) t.join();
  return true;
}

void KeyedExecutor::Worker() {
  SetCurrentThreadName(name_);
  absl::MutexLock l(&mu_);
  for (;;) {
    if (ready_.empty()) {
      if (shutting_down_) break;
      // Idle on a condition variable of its own, on top of the idle stack
      // (Submit wakes the top: the last to idle, the first to work).
      IdleSlot slot;
      idle_stack_.push_back(&slot);
      const absl::Time deadline = absl::Now() + idle_timeout_;
      bool timed_out = false;
      while (!slot.woken && !shutting_down_ && !timed_out) {
        timed_out = slot.cv.WaitWithDeadline(&mu_, deadline);
      }
      if (!slot.woken) {  // still on the stack: shutting down or timed out
        std::erase(idle_stack_, &slot);
        if (ready_.empty()) break;  // retire
      }
      if (ready_.empty()) continue;
    }
    std::string key = std::move(ready_.front());
    ready_.pop_front();
    running_.insert(key);
    auto qit = queues_.find(key);
    Task task = std::move(qit->second.front());
    qit->second.pop_front();
    mu_.Unlock();
    task();
    task = nullptr;  // destroy outside the lock
    mu_.Lock();
    --pending_;
    running_.erase(key);
    qit = queues_.find(key);
    if (qit->second.empty()) {
      queues_.erase(qit);
    } else {
      ready_.push_back(key);
    }
  }
  --threads_;
  ++retired_;
  // The workers that retired before this one are joined here, not at the
  // next Submit: a quiet agent keeps no exited thread's stack.
  std::vector<std::thread> earlier;
  earlier.swap(finished_);
  auto self = workers_.find(std::this_thread::get_id());
  if (self != workers_.end()) {
    finished_.push_back(std::move(self->second));
    workers_.erase(self);
  }
  mu_.Unlock();
  for (auto& t : earlier) t.join();
  mu_.Lock();
}

bool KeyedExecutor::Shutdown(absl::Duration timeout,
                             const std::function<void()>& on_timeout) {
  std::vector<Task> dropped;
  bool all_ran;
  {
    absl::MutexLock l(&mu_);
    shutting_down_ = true;
    for (IdleSlot* slot : idle_stack_) slot->cv.Signal();
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return pending_ == 0;
    };
    all_ran = mu_.AwaitWithTimeout(absl::Condition(&drained), timeout);
    for (auto& [key, q] : queues_) {
      while (!q.empty()) {
        dropped.push_back(std::move(q.front()));
        q.pop_front();
        --pending_;
      }
    }
    ready_.clear();
  }
  if (!all_ran && on_timeout) on_timeout();
  {
    absl::MutexLock l(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return pending_ == 0 && running_.empty();
    };
    mu_.Await(absl::Condition(&idle));
  }
  dropped.clear();
  // Wait for the workers to retire, then join them.
  for (;;) {
    std::vector<std::thread> to_join;
    bool done;
    {
      absl::MutexLock l(&mu_);
      auto retired = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return threads_ == 0 || !finished_.empty();
      };
      mu_.Await(absl::Condition(&retired));
      to_join.swap(finished_);
      done = threads_ == 0;
    }
    for (auto& t : to_join) t.join();
    if (done) break;
  }
  return all_ran;
}

size_t KeyedExecutor::Pending() const {
  absl::MutexLock l(&mu_);
  return pending_;
}

uint64_t KeyedExecutor::Submitted() const {
  absl::MutexLock l(&mu_);
  return submitted_;
}

uint64_t KeyedExecutor::Retired() const {
  absl::MutexLock l(&mu_);
  return retired_;
}

std::set<std::string> KeyedExecutor::BusyKeys() const {
  absl::MutexLock l(&mu_);
  std::set<std::string> out = running_;
  for (const auto& [key, queue] : queues_) out.insert(key);
  return out;
}

int KeyedExecutor::threads() const {
  absl::MutexLock l(&mu_);
  return threads_;
}

int KeyedExecutor::idle_threads() const {
  absl::MutexLock l(&mu_);
  return static_cast<int>(idle_stack_.size());
}

}  // namespace zun::agent
