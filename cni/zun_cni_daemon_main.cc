// zun-cni-daemon: plugs capsules' Neutron ports into their pod network
// namespaces for the zun-cni plugin (docs/networking.md).
//
//   zun-cni-daemon --config-file /etc/zun/zun.conf
//
// Reads [DEFAULT] host/debug/log_file, [database], [keystone_auth],
// [neutron_client] and [cni_daemon] of zun.conf. Runs as root in the host
// network namespace; stops on SIGTERM/SIGINT.
#include <signal.h>
#include <sys/stat.h>

#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cni/cni_daemon.h"
#include "cni/daemon_http.h"
#include "cni/vif_plugger.h"
#include "common/cli_args.h"
#include "common/clock.h"
#include "common/logging.h"
#include "config/config.h"
#include "config/openstack_clients.h"
#include "db/pg_capsule_store.h"

namespace {

int Fail(const std::string& what) {
  std::cerr << "zun-cni-daemon: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<zun::CliArgs> args =
      zun::CliArgs::Parse(argc, argv, {"config-file"}, {"help"});
  if (!args.ok()) return Fail(std::string(args.status().message()));
  if (args->Has("help") || !args->Has("config-file")) {
    std::cerr << "usage: zun-cni-daemon --config-file FILE\n";
    return args->Has("help") ? 0 : 2;
  }
  absl::StatusOr<zun::config::AgentConfig> config =
      zun::config::LoadConfig(args->Get("config-file"));
  if (!config.ok()) return Fail(std::string(config.status().message()));
  zun::log::Options log_options;
  log_options.level =
      config->debug ? spdlog::level::debug : spdlog::level::info;
  log_options.file = config->log_file;
  zun::log::Init(log_options);
  // Abseil's deadlock detection is a debugging aid (tests keep it); it
  // costs every lock taken.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  zun::Clock& clock = zun::RealClock::Default();
  std::unique_ptr<zun::config::OpenStackClients> openstack =
      zun::config::MakeOpenStackClients(*config, clock);
  if (!openstack) {
    return Fail(
        "[keystone_auth] credentials are required: the daemon asks Neutron "
        "whether ports are ACTIVE");
  }
  zun::db::PgOptions pg = zun::config::PgOptionsFrom(*config);
  pg.pool_size = 4;  // one CNI request holds a connection only to read a row
  zun::db::PgCapsuleStore store(pg);
  if (::mkdir(config->cni_daemon.state_dir.c_str(), 0700) != 0 &&
      errno != EEXIST) {
    return Fail(absl::StrCat("cannot create [cni_daemon] state_dir ",
                             config->cni_daemon.state_dir));
  }
  zun::cni::VifPluggerPtr plugger = zun::cni::MakeVifPlugger();
  zun::cni::DaemonOptions options;
  options.vif_active_timeout = config->cni_daemon.vif_active_timeout;
  options.poll_interval = config->cni_daemon.neutron_poll_interval;
  options.state_dir = config->cni_daemon.state_dir;
  zun::cni::CniDaemon daemon(store, *plugger, *openstack->neutron, clock,
                             options);
  absl::StatusOr<std::unique_ptr<zun::cni::DaemonHttpServer>> server =
      zun::cni::DaemonHttpServer::Start(
          config->cni_daemon.cni_daemon_host,
          config->cni_daemon.cni_daemon_port, 16, daemon,
          [&store] { return store.Health(absl::Seconds(30)); });
  if (!server.ok()) return Fail(std::string(server.status().message()));
  ZUN_LOG(kMain, info, "zun-cni-daemon serving on {}:{} (host {})",
          config->cni_daemon.cni_daemon_host, (*server)->port(), config->host);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  ZUN_LOG(kMain, info, "received signal {}; stopping", sig);
  daemon.Stop();
  server->reset();
  return 0;
}
