// File: thread_util.h
// Small helpers for the calling thread: a name for operators (top -H,
// ps -L, perf, gdb) and a lower CPU priority for background work.
//
// Thread-safe: each acts only on the calling thread.
#pragma once

#include <string_view>

namespace zun {

// Sets the calling thread's name to `name`, cut to the 15 bytes Linux
// keeps. Best effort: a failure is ignored (a name is a convenience).
void SetCurrentThreadName(std::string_view name);

// Raises the calling thread's nice value by `increment` (Linux schedules
// threads one by one), so that background work such as the periodic relist
// yields the CPU to capsule operations when the node is busy, yet is never
// starved. Lowering a priority needs no privilege. Best effort.
void LowerCurrentThreadPriority(int increment);

}  // namespace zun
