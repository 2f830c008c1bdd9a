#include "common/thread_util.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace zun {

void SetCurrentThreadName(std::string_view name) {
  constexpr size_t kMax = 15;  // TASK_COMM_LEN less its terminator
  const std::string cut(name.substr(0, kMax));
  pthread_setname_np(pthread_self(), cut.c_str());
}

void LowerCurrentThreadPriority(int increment) {
  const id_t tid = static_cast<id_t>(gettid());
  errno = 0;
  const int now = getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0) return;
  setpriority(PRIO_PROCESS, tid, now + increment);
}

}  // namespace zun
