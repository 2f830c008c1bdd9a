#include "common/thread_name.h"

#include <pthread.h>

#include <string>

namespace zun {

void SetCurrentThreadName(std::string_view name) {
  constexpr size_t kMax = 15;  // TASK_COMM_LEN less its terminator
  const std::string cut(name.substr(0, kMax));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace zun
