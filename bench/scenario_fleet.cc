// Scenario 6, "fleet": many agents (each with its own fake-cri and host
// name, the agent's default intervals) on one RabbitMQ and one database,
// with capsules placed by zun-capsule through Placement. The fleet grows
// (10, 25, 50 nodes by default, 100 capsules per node); at each size the
// steady state is measured per node: database transactions/s, database
// connections held, broker connections and channels, RSS. Then ten agents
// are killed with SIGKILL: their capsules keep running in their runtimes,
// their zun_service rows go stale, and each restarted agent adopts its
// capsules without restarting a container. Figures are reported as
// ratios against the smallest fleet of the same run.
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/bench_util.h"
#include "bench/scenarios.h"
#include "tests/support/agent_harness.h"
#include "tests/support/capsule_cli.h"
#include "tests/support/http.h"
#include "tests/support/openstack_env.h"
#include "tests/support/poll.h"
#include "tests/support/test_env.h"

namespace zun::bench {
namespace {

using testing::AgentHarness;
using testing::HarnessOptions;

struct Node {
  std::unique_ptr<AgentHarness> h;
  int metrics_port = 0;
};

// A small capsule: 1 VCPU and 16 MiB in Placement.
constexpr char kTemplate[] = R"({
  "kind": "capsule",
  "metadata": {"name": "fleet"},
  "spec": {
    "restartPolicy": "Always",
    "containers": [{
      "image": "busybox",
      "command": ["sleep", "3600"],
      "resources": {"requests": {"cpu": 0.1, "memory": 16}}
    }]
  }
})";

// count(*) AS n of `sql`.
int CountSql(testing::ScratchDatabase& db, const std::string& sql) {
  auto rows = db.Query(sql);
  int n = 0;
  if (!rows.empty() && rows[0].count("n") && rows[0].at("n")) {
    absl::SimpleAtoi(*rows[0].at("n"), &n);
  }
  return n;
}

// The broker the fleet uses: the three-node cluster `make bench` starts
// (ZUN_BENCH_RMQ_CLUSTER, its cluster.env), else the single bench node.
struct Broker {
  std::string url;  // "" = the harness's default (the bench node)
  std::string ctl;  // rabbitmqctl of one node (lists are cluster-wide)
  std::string what;
  // For the harness's oslo client: configured as the agents are.
  std::vector<std::string> client_args;
};

Broker FleetBroker() {
  Broker b;
  b.ctl = testing::TestEnv::Get().rmq_base + "/rabbitmqctl";
  b.what = "one RabbitMQ node";
  const char* dir = std::getenv("ZUN_BENCH_RMQ_CLUSTER");
  if (dir == nullptr || *dir == '\0') return b;
  std::map<std::string, std::string> env;
  for (absl::string_view line : absl::StrSplit(
           testing::ReadFile(std::string(dir) + "/cluster.env"), '\n')) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    env[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  if (env["RMQC_URL"].empty() || env["RMQC_NODE0_DIR"].empty()) return b;
  b.url = env["RMQC_URL"];
  b.ctl = env["RMQC_NODE0_DIR"] + "/rabbitmqctl";
  b.what = "a three-node RabbitMQ cluster, quorum queues";
  const std::string conf = std::string(dir) + "/oslo-client.conf";
  std::ofstream(conf)
      << "[oslo_messaging_rabbit]\nrabbit_quorum_queue = true\n";
  b.client_args = {"--config-file", conf};
  return b;
}

std::unique_ptr<AgentHarness> StartNode(const Broker& broker,
                                        const std::string& db, int port) {
  HarnessOptions o;
  o.amqp_url = broker.url;
  o.database = db;
  o.default_settings = true;
  o.metrics_port = port;
  // Room for every capsule of the run on any node: Placement decides.
  o.extra_config = absl::StrCat(
      testing::OpenStackEnv::Get().KeystoneAuthConfig(),
      "[compute]\ncpu_allocation_ratio = 128\nram_allocation_ratio = 4\n",
      broker.url.empty()
          ? ""
          : "[oslo_messaging_rabbit]\nrabbit_quorum_queue = true\n");
  return std::make_unique<AgentHarness>(o);
}

// Why a node failed, for the scenario's error: whether its agent still
// runs, and the end of its log (the scratch directory goes with the run).
std::string NodeFailure(AgentHarness& h) {
  testing::Subprocess* agent = h.agent();
  std::string why = absl::StrCat(h.host(), agent != nullptr && agent->Running()
                                               ? " (running)"
                                               : " (not running)");
  if (agent == nullptr) return why;
  const std::string log = testing::ReadFile(agent->log_path());
  const size_t from = log.size() > 2000 ? log.size() - 2000 : 0;
  return absl::StrCat(why, "; the end of its log:\n", log.substr(from));
}

// The lines of "rabbitmqctl list_<what> pid" (one per item, cluster-wide).
std::vector<std::string> BrokerList(const Broker& broker,
                                    const std::string& what) {
  auto r = testing::RunCommand(
      {broker.ctl, "-q", "--no-table-headers", "list_" + what, "pid"},
      absl::Seconds(120));
  std::vector<std::string> out;
  if (!r.ok() || r->exit_code != 0) return out;
  for (absl::string_view l :
       absl::StrSplit(r->output, '\n', absl::SkipEmpty())) {
    out.emplace_back(l);
  }
  return out;
}

// Per-node figures of the fleet at steady state, over `window`.
Json Steady(const Broker& broker, std::vector<Node>& nodes,
            testing::ScratchDatabase& db, int broker_conns_base,
            int broker_channels_base, absl::Duration window) {
  const double n = static_cast<double>(nodes.size());
  auto statements = [&] {
    double sum = 0;
    for (Node& node : nodes) {
      sum += Scrape(node.metrics_port, "zun_agent_db_statements_total");
    }
    return sum;
  };
  auto connections = [&] {
    return CountSql(db,
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE "
                    "datname = current_database() AND application_name "
                    "= 'zun-agent'");
  };
  const double s0 = statements();
  const absl::Time t0 = absl::Now();
  double peak_connections = 0;
  double sum_connections = 0;
  int samples = 0;
  while (absl::Now() - t0 < window) {
    const double c = connections();
    peak_connections = std::max(peak_connections, c);
    sum_connections += c;
    ++samples;
    absl::SleepFor(absl::Seconds(1));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  const double s1 = statements();
  double rss = 0;
  for (Node& node : nodes) {
    rss += ReadProcStats(node.h->agent()->pid()).rss_mib;
  }
  const double conns =
      static_cast<double>(BrokerList(broker, "connections").size()) -
      broker_conns_base;
  const double channels =
      static_cast<double>(BrokerList(broker, "channels").size()) -
      broker_channels_base;
  return Json{{"nodes", nodes.size()},
              {"db_transactions_per_s", (s1 - s0) / seconds / n},
              {"db_connections_mean", sum_connections / samples / n},
              {"db_connections_peak_total", peak_connections},
              {"broker_connections", conns / n},
              {"broker_channels", channels / n},
              {"rss_mib", rss / n}};
}

}  // namespace

Json Fleet(const BenchConfig& c) {
  Json r = {{"scenario", "6. fleet: agents on one broker and one database"}};
  const Broker broker = FleetBroker();
  r["broker"] = broker.what;
  testing::ScratchDatabase db;
  const int conns_base =
      static_cast<int>(BrokerList(broker, "connections").size());
  const int channels_base =
      static_cast<int>(BrokerList(broker, "channels").size());
  std::vector<Node> nodes;
  std::map<std::string, std::string> placed;  // uuid -> host
  const std::string dir = testing::MakeTempDir("fleet");
  const std::string tmpl = dir + "/fleet.json";
  std::ofstream(tmpl) << kTemplate;
  Json figures = Json::object();
  Json steady = Json::array();

  for (int size : c.fleet_sizes) {
    const absl::Time grow = absl::Now();
    while (static_cast<int>(nodes.size()) < size) {
      Node node;
      node.metrics_port = testing::FreeTcpPort();
      node.h = StartNode(broker, db.name(), node.metrics_port);
      nodes.push_back(std::move(node));
    }
    for (Node& node : nodes) {
      if (!node.h->WaitServing(absl::Seconds(120), broker.client_args)) {
        r["error"] = "an agent did not serve: " + NodeFailure(*node.h);
        return r;
      }
    }
    // Every provider is in Placement, with its inventory, before
    // zun-capsule schedules.
    for (Node& node : nodes) {
      if (!testing::PollUntil(
              [&] {
                return Scrape(node.metrics_port, "zun_agent_placement_up") == 1;
              },
              absl::Seconds(120), absl::Milliseconds(200))) {
        r["error"] =
            "an agent did not report to Placement: " + NodeFailure(*node.h);
        return r;
      }
    }
    const double serve_s = absl::ToDoubleSeconds(absl::Now() - grow);
    const int want = size * c.fleet_capsules_per_node;
    const int add = want - static_cast<int>(placed.size());
    const absl::Time t_place = absl::Now();
    testing::CommandResult created = testing::ZunCapsule(
        nodes[0].h->config_path(),
        {"create", "-f", tmpl, "--count", std::to_string(add)},
        absl::Minutes(60));
    const double place_s = absl::ToDoubleSeconds(absl::Now() - t_place);
    std::istringstream lines(created.output);
    std::string uuid, host;
    int got = 0;
    while (lines >> uuid >> host) {
      if (uuid.size() == 36) {
        placed[uuid] = host;
        ++got;
      }
    }
    if (created.exit_code != 0 || got != add) {
      r["error"] = absl::StrCat("zun-capsule placed ", got, " of ", add, ": ",
                                created.output.substr(0, 400));
      return r;
    }
    if (!testing::PollUntil(
            [&] {
              return CountRows(db,
                               "container_type = 1 AND status = "
                               "'Running'") == want;
            },
            absl::Minutes(20), absl::Milliseconds(500))) {
      r["error"] =
          absl::StrCat("not every capsule reached Running at ", size, " nodes");
      return r;
    }
    const double running_s = absl::ToDoubleSeconds(absl::Now() - t_place);
    // Each capsule runs where Placement put it.
    int elsewhere = 0;
    for (const auto& row : db.Query(
             "SELECT uuid, host FROM container WHERE container_type = 1")) {
      auto it = placed.find(*row.at("uuid"));
      if (it == placed.end() || row.at("host").value_or("") != it->second) {
        ++elsewhere;
      }
    }
    // New agents' first minute (registration, inventory) is not steady.
    absl::SleepFor(absl::Seconds(c.fleet_settle_seconds));
    Json s = Steady(broker, nodes, db, conns_base, channels_base,
                    absl::Seconds(c.fleet_window_seconds));
    s["capsules"] = want;
    s["agents_serving_s"] = serve_s;
    s["place_and_cast_s"] = place_s;
    s["all_running_s"] = running_s;
    s["running_elsewhere"] = elsewhere;
    std::cout << "[fleet] " << size << " nodes: " << s.dump() << std::endl;
    steady.push_back(s);
  }
  figures["steady"] = steady;

  // Kill -9 ten agents (fewer in small fleets); their runtimes stay.
  const int kill = std::min<int>(10, static_cast<int>(nodes.size()) / 5);
  std::map<std::string, std::string> ids_before;  // child uuid -> container id
  for (const auto& row : db.Query("SELECT uuid, container_id FROM container "
                                  "WHERE container_type = 2")) {
    ids_before[*row.at("uuid")] = row.at("container_id").value_or("");
  }
  std::vector<std::string> killed_hosts;
  for (int i = 0; i < kill; ++i) {
    nodes[i].h->KillAgent();
    killed_hosts.push_back(nodes[i].h->host());
  }
  const absl::Time killed_at = absl::Now();
  const absl::Duration down_after = c.fleet_service_down_time;
  auto stale = [&] {
    int n = 0;
    for (const std::string& h : killed_hosts) {
      n += CountSql(
          db, absl::StrCat("SELECT count(*) AS n FROM zun_service WHERE host "
                           "= '",
                           h,
                           "' AND last_seen_up < (now() AT TIME ZONE 'UTC') "
                           "- interval '",
                           absl::ToInt64Seconds(down_after), " seconds'"));
    }
    return n;
  };
  const bool went_down = testing::PollUntil([&] { return stale() == kill; },
                                            down_after + absl::Minutes(2),
                                            absl::Milliseconds(500));
  const double down_s = absl::ToDoubleSeconds(absl::Now() - killed_at);
  int still_running = 0;
  for (int i = 0; i < kill; ++i) {
    auto sandboxes = nodes[i].h->cri().ListPodSandbox({});
    if (sandboxes.ok()) still_running += static_cast<int>(sandboxes->size());
  }
  const int owned =
      CountSql(db, absl::StrCat("SELECT count(*) AS n FROM container WHERE "
                                "container_type = 1 AND host IN ('",
                                absl::StrJoin(killed_hosts, "','"), "')"));
  const absl::Time restart = absl::Now();
  for (int i = 0; i < kill; ++i) nodes[i].h->StartAgent();
  bool adopted = true;
  for (int i = 0; i < kill; ++i) {
    adopted = adopted &&
              nodes[i].h->WaitServing(absl::Minutes(2), broker.client_args);
  }
  const double adopt_s = absl::ToDoubleSeconds(absl::Now() - restart);
  int restarted = 0;
  for (const auto& row : db.Query("SELECT uuid, container_id FROM container "
                                  "WHERE container_type = 2")) {
    auto it = ids_before.find(*row.at("uuid"));
    if (it != ids_before.end() &&
        it->second != row.at("container_id").value_or("")) {
      ++restarted;
    }
  }
  figures["kill"] =
      Json{{"agents_killed", kill},
           {"their_capsules", owned},
           {"sandboxes_still_running", still_running},
           {"service_rows_down", went_down},
           {"service_down_time_s", absl::ToDoubleSeconds(down_after)},
           {"rows_down_after_s", down_s},
           {"restarted_agents_ready_s", adopt_s},
           {"adopted", adopted},
           {"containers_restarted", restarted},
           {"capsules_running_after",
            CountRows(db, "container_type = 1 AND status = 'Running'")}};
  r["figures"] = figures;
  // Growth per node against the smallest fleet of this run.
  if (steady.size() >= 2) {
    const Json& base = steady.front();
    const Json& top = steady.back();
    r["baseline"] = {{"what", absl::StrCat("db transactions/s per node at ",
                                           base["nodes"].get<int>(), " nodes")},
                     {"value", base["db_transactions_per_s"]}};
    r["measured"] = top["db_transactions_per_s"];
    const double b = base["db_transactions_per_s"].get<double>();
    r["ratio"] = b > 0 ? top["db_transactions_per_s"].get<double>() / b : 0;
    r["target"] =
        "per-node load flat as the fleet grows (ratio <= 1.2), every "
        "capsule where it was placed, no container restarted on adoption";
    r["met"] = r["ratio"].get<double>() <= 1.2 &&
               top["running_elsewhere"].get<int>() == 0 && restarted == 0 &&
               adopted && went_down;
  }
  return r;
}

}  // namespace zun::bench
