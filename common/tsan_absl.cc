// File: tsan_absl.cc
// Linked into every executable of ours in ThreadSanitizer builds
// (ZUN_SANITIZE=thread; cmake/ZunTargets.cmake), and nowhere else.
//
// Debian's Abseil is not built with TSan, so TSan cannot see that
// absl::Mutex, absl::CondVar and absl::Notification order memory: every
// access our code makes under such a lock would look like a race. This file
// interposes their out-of-line members (the executable's definitions win
// over the shared library's for calls from our code), calls the library's
// own implementation, and tells TSan about the happens-before edge each one
// creates (__tsan_release before giving a lock up, __tsan_acquire after
// taking it). Reader locks are treated as exclusive: that only adds edges,
// so it can hide a race between two readers (which is no race) and nothing
// else. Thread-safe as the functions it wraps.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

// The library's definition of `mangled` (the next one after ours).
template <typename Fn>
Fn Real(const char* mangled) {
  void* p = dlsym(RTLD_NEXT, mangled);
  if (p == nullptr) {
    std::fprintf(stderr, "tsan_absl: %s not found in Abseil\n", mangled);
    std::abort();
  }
  return reinterpret_cast<Fn>(p);
}

#define ZUN_REAL(type, mangled) \
  static const auto real = Real<type>("_ZN4absl7debian3" mangled)
#define ZUN_REAL_CONST(type, mangled) \
  static const auto real = Real<type>("_ZNK4absl7debian3" mangled)

// Abseil evaluates a Condition with the mutex held, but it takes that hold
// inside the library, where we cannot see it, and possibly in another
// thread than the waiter. So every release also releases `g_before_eval`,
// which every evaluation acquires, and every evaluation releases
// `g_after_eval`, which every acquisition acquires: a condition's reads are
// ordered after every earlier unlock and before every later lock. That is
// more ordering than the real one, for condition reads only.
char g_before_eval;
char g_after_eval;

void Acquire(const void* mu) {
  __tsan_acquire(const_cast<void*>(mu));
  __tsan_acquire(&g_after_eval);
}
void Release(const void* mu) {
  __tsan_release(&g_before_eval);
  __tsan_release(const_cast<void*>(mu));
}

}  // namespace

namespace absl {

using Cond = const Condition&;

bool Condition::Eval() const {
  ZUN_REAL_CONST(bool (*)(const Condition*), "9Condition4EvalEv");
  __tsan_acquire(&g_before_eval);
  const bool r = real(this);
  __tsan_release(&g_after_eval);
  return r;
}

void Mutex::Lock() {
  ZUN_REAL(void (*)(Mutex*), "5Mutex4LockEv");
  real(this);
  Acquire(this);
}
void Mutex::ReaderLock() {
  ZUN_REAL(void (*)(Mutex*), "5Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}
bool Mutex::TryLock() {
  ZUN_REAL(bool (*)(Mutex*), "5Mutex7TryLockEv");
  const bool ok = real(this);
  if (ok) Acquire(this);
  return ok;
}
bool Mutex::ReaderTryLock() {
  ZUN_REAL(bool (*)(Mutex*), "5Mutex13ReaderTryLockEv");
  const bool ok = real(this);
  if (ok) Acquire(this);
  return ok;
}
void Mutex::Unlock() {
  ZUN_REAL(void (*)(Mutex*), "5Mutex6UnlockEv");
  Release(this);
  real(this);
}
void Mutex::ReaderUnlock() {
  ZUN_REAL(void (*)(Mutex*), "5Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}
void Mutex::LockWhen(Cond c) {
  ZUN_REAL(void (*)(Mutex*, Cond), "5Mutex8LockWhenERKNS0_9ConditionE");
  real(this, c);
  Acquire(this);
}
void Mutex::ReaderLockWhen(Cond c) {
  ZUN_REAL(void (*)(Mutex*, Cond), "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  real(this, c);
  Acquire(this);
}
bool Mutex::LockWhenWithTimeout(Cond c, Duration d) {
  ZUN_REAL(bool (*)(Mutex*, Cond, Duration),
           "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool r = real(this, c, d);
  Acquire(this);
  return r;
}
bool Mutex::LockWhenWithDeadline(Cond c, Time t) {
  ZUN_REAL(bool (*)(Mutex*, Cond, Time),
           "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool r = real(this, c, t);
  Acquire(this);
  return r;
}
bool Mutex::ReaderLockWhenWithTimeout(Cond c, Duration d) {
  ZUN_REAL(bool (*)(Mutex*, Cond, Duration),
           "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool r = real(this, c, d);
  Acquire(this);
  return r;
}
bool Mutex::ReaderLockWhenWithDeadline(Cond c, Time t) {
  ZUN_REAL(bool (*)(Mutex*, Cond, Time),
           "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool r = real(this, c, t);
  Acquire(this);
  return r;
}
void Mutex::Await(Cond c) {
  ZUN_REAL(void (*)(Mutex*, Cond), "5Mutex5AwaitERKNS0_9ConditionE");
  Release(this);
  real(this, c);
  Acquire(this);
}
bool Mutex::AwaitWithTimeout(Cond c, Duration d) {
  ZUN_REAL(bool (*)(Mutex*, Cond, Duration),
           "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Release(this);
  const bool r = real(this, c, d);
  Acquire(this);
  return r;
}
bool Mutex::AwaitWithDeadline(Cond c, Time t) {
  ZUN_REAL(bool (*)(Mutex*, Cond, Time),
           "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Release(this);
  const bool r = real(this, c, t);
  Acquire(this);
  return r;
}

void CondVar::Wait(Mutex* mu) {
  ZUN_REAL(void (*)(CondVar*, Mutex*), "7CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}
bool CondVar::WaitWithTimeout(Mutex* mu, Duration d) {
  ZUN_REAL(bool (*)(CondVar*, Mutex*, Duration),
           "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool r = real(this, mu, d);
  Acquire(mu);
  return r;
}
bool CondVar::WaitWithDeadline(Mutex* mu, Time t) {
  ZUN_REAL(bool (*)(CondVar*, Mutex*, Time),
           "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  const bool r = real(this, mu, t);
  Acquire(mu);
  return r;
}

void Notification::Notify() {
  ZUN_REAL(void (*)(Notification*), "12Notification6NotifyEv");
  Release(this);
  real(this);
}
void Notification::WaitForNotification() const {
  ZUN_REAL_CONST(void (*)(const Notification*),
                 "12Notification19WaitForNotificationEv");
  real(this);
  Acquire(this);
}
bool Notification::WaitForNotificationWithTimeout(Duration d) const {
  ZUN_REAL_CONST(
      bool (*)(const Notification*, Duration),
      "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool r = real(this, d);
  if (r) Acquire(this);
  return r;
}
bool Notification::WaitForNotificationWithDeadline(Time t) const {
  ZUN_REAL_CONST(bool (*)(const Notification*, Time),
                 "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool r = real(this, t);
  if (r) Acquire(this);
  return r;
}

}  // namespace absl
