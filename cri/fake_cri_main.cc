// fake-cri: zun-agent's in-memory CRI runtime as a process, for integration
// tests and `make run CRI=fake`.
//
//   fake-cri --listen unix:///PATH [--seed N] [--fault Method=spec]...
//            [--preload IMAGE]... [--handler NAME]... [--log-level LEVEL]
//            [--api-version V] [--pod-cidr CIDR] [--image-user REPO=USER]...
//
// Pod IPs come from --pod-cidr (default 127.88.0.0/16: loopback, so that
// nothing sent to a fake pod IP leaves the machine).
//
// Fault specs: "latency:100ms,error:0.25,code:14,hang" (see fault_injector.h).
// SIGTERM or SIGINT stops it and removes the socket.
#include <csignal>
#include <cstdio>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "common/cli_args.h"
#include "common/clock.h"
#include "common/logging.h"
#include "cri/fake_cri_server.h"
#include "cri/fake_runtime.h"
#include "cri/fault_injector.h"

namespace {

int Usage(const std::string& error) {
  std::cerr << "fake-cri: " << error << "\n"
            << "usage: fake-cri --listen unix:///PATH [--seed N] "
               "[--fault Method=spec]... [--preload IMAGE]... "
               "[--handler NAME]... [--log-level LEVEL] [--api-version V] "
               "[--pod-cidr CIDR] [--image-user REPO=USER]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<zun::CliArgs> args =
      zun::CliArgs::Parse(argc, argv,
                          {"listen", "seed", "fault", "preload", "handler",
                           "log-level", "api-version", "pod-cidr"},
                          {"help"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->Has("help")) return Usage("help");
  const std::string listen = args->Get("listen");
  if (listen.empty()) return Usage("--listen is required");

  zun::log::Options log_opts;
  log_opts.level = spdlog::level::from_str(args->Get("log-level", "info"));
  zun::log::Init(log_opts);
  // As in zun-agent: Abseil's deadlock detection graphs every lock taken,
  // which would make the fake cost more than the agent it serves.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  zun::cri::fake::FakeRuntimeOptions opts;
  if (args->Has("seed") && !absl::SimpleAtoi(args->Get("seed"), &opts.seed)) {
    return Usage("--seed must be an integer");
  }
  for (const auto& img : args->GetAll("preload")) {
    opts.preloaded_images.push_back(img);
  }
  if (args->Has("handler")) opts.runtime_handlers = args->GetAll("handler");
  // A runtime that serves another CRI version (to test the handshake).
  opts.runtime_api_version = args->Get("api-version", "v1");
  opts.pod_cidr = args->Get("pod-cidr", opts.pod_cidr);
  // The user in an image's config (what ImageStatus reports as uid or
  // username), by repository: --image-user 127.0.0.1:5000/app=1002.
  for (const auto& u : args->GetAll("image-user")) {
    const size_t eq = u.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == u.size()) {
      return Usage("--image-user wants REPOSITORY=USER");
    }
    opts.image_users[zun::cri::fake::FakeRuntime::NormalizeRepository(
        u.substr(0, eq))] = u.substr(eq + 1);
  }
  if (absl::Status s =
          zun::cri::fake::PodAddressRange::Parse(opts.pod_cidr).status();
      !s.ok()) {
    return Usage(std::string(s.message()));
  }

  // Block the stop signals before any thread exists, then wait for them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  zun::Clock& clock = zun::RealClock::Default();
  zun::cri::fake::FakeRuntime runtime(clock, opts);
  zun::cri::fake::FaultInjector faults(clock, opts.seed);
  for (const auto& f : args->GetAll("fault")) {
    if (absl::Status s = faults.SetFromFlag(f); !s.ok()) {
      return Usage(std::string(s.message()));
    }
  }
  zun::cri::fake::FakeCriServer server(runtime, faults);
  if (absl::Status s = server.Start(listen); !s.ok()) {
    std::cerr << "fake-cri: " << s.message() << "\n";
    return 1;
  }
  int sig = 0;
  sigwait(&stop, &sig);
  ZUN_LOG(kMain, info, "fake-cri: signal {}, stopping", sig);
  server.Shutdown();
  return 0;
}
