#include "common/event_loop.h"

#include <utility>

#include "common/thread_util.h"

namespace zun {

EventLoop::EventLoop(Clock& clock, std::string name)
    : clock_(clock), name_(std::move(name)) {}

EventLoop::~EventLoop() { Stop(); }

void EventLoop::Start() {
  thread_ = std::thread([this] {
    thread_id_.store(std::this_thread::get_id());
    SetCurrentThreadName(name_);
    Run();
  });
}

void EventLoop::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
  }
  waker_.Notify();
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) {
    thread_.join();
  }
  std::vector<Task> posted;
  std::map<std::pair<absl::Time, TimerId>, Task> timers;
  {
    absl::MutexLock l(&mu_);
    posted.swap(posted_);
    timers.swap(timers_);
    timer_index_.clear();
  }
  // Dropped tasks are destroyed here, outside the lock.
}

void EventLoop::Post(Task task) {
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return;
    posted_.push_back(std::move(task));
  }
  waker_.Notify();
}

EventLoop::TimerId EventLoop::RunAt(absl::Time when, Task task) {
  TimerId id;
  {
    absl::MutexLock l(&mu_);
    id = next_id_++;
    if (stopping_) return id;
    timers_.emplace(std::make_pair(when, id), std::move(task));
    timer_index_.emplace(id, when);
  }
  waker_.Notify();
  return id;
}

EventLoop::TimerId EventLoop::RunAfter(absl::Duration d, Task task) {
  return RunAt(clock_.Now() + d, std::move(task));
}

bool EventLoop::Cancel(TimerId id) {
  Task dropped;
  absl::MutexLock l(&mu_);
  auto it = timer_index_.find(id);
  if (it == timer_index_.end()) return false;
  auto t = timers_.find({it->second, id});
  dropped = std::move(t->second);
  timers_.erase(t);
  timer_index_.erase(it);
  return true;
}

bool EventLoop::IsCurrentThread() const {
  return std::this_thread::get_id() == thread_id_.load();
}

void EventLoop::Run() {
  for (;;) {
    std::vector<Task> ready;
    absl::Time next_deadline = absl::InfiniteFuture();
    {
      absl::MutexLock l(&mu_);
      if (stopping_) return;
      ready.swap(posted_);
      const absl::Time now = clock_.Now();
      while (!timers_.empty() && timers_.begin()->first.first <= now) {
        auto node = timers_.extract(timers_.begin());
        timer_index_.erase(node.key().second);
        ready.push_back(std::move(node.mapped()));
      }
      if (!timers_.empty()) next_deadline = timers_.begin()->first.first;
    }
    if (ready.empty()) {
      clock_.WaitUntil(next_deadline, waker_);
      continue;
    }
    for (Task& t : ready) {
      t();
      absl::MutexLock l(&mu_);
      if (stopping_) return;
    }
  }
}

}  // namespace zun
