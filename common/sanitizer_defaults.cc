// Runtime options for sanitizer builds, compiled into every binary of ours
// when ZUN_SANITIZE is set (ctest cannot pass several environment variables
// reliably through catch_discover_tests). Environment variables still win.
extern "C" {
const char* __asan_default_options() {
  return "detect_leaks=1:abort_on_error=0:halt_on_error=1:"
         "detect_stack_use_after_return=1:strict_init_order=1";
}
const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}
const char* __tsan_default_options() {
  return "ignore_noninstrumented_modules=1:halt_on_error=1:second_deadlock_"
         "stack=1";
}
}
