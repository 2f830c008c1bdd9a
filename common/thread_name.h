// File: thread_name.h
// Names the calling thread for operators (top -H, ps -L, perf, gdb): Linux
// keeps 15 bytes of it.
//
// Thread-safe: names only the calling thread.
#pragma once

#include <string_view>

namespace zun {

// Sets the calling thread's name to `name`, cut to 15 bytes. Best effort:
// a failure is ignored (a name is a convenience, never a dependency).
void SetCurrentThreadName(std::string_view name);

}  // namespace zun
