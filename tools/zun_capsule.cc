// zun-capsule: a stand-in for the Zun API and its scheduler. It checks
// templates as the API does, writes capsule rows exactly as the Zun API does
// (docs/db-contract.md), places the capsule through Placement when the
// config has [keystone_auth] credentials (a claimed allocation, as Zun's
// scheduler makes; else on --host or the config's own host) and sends the
// same oslo.messaging casts to the agent.
//
//   zun-capsule --config-file FILE create -f TEMPLATE [--host H] [--count N]
//                                   [--net network=ID|port=ID ...]
//   zun-capsule --config-file FILE delete UUID|NAME
//   zun-capsule --config-file FILE show UUID|NAME
//   zun-capsule --config-file FILE list
//   zun-capsule --config-file FILE wait UUID|NAME --status S [--timeout SEC]
//
// Common options: --json (machine-readable output), --project P, --user U.
// Exit status: 0 done, 1 failed (or timed out), 2 usage error.
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/cli_args.h"
#include "common/logging.h"
#include "common/uuid.h"
#include "config/config.h"
#include "config/openstack_clients.h"
#include "db/api_store.h"
#include "rpc/py_json.h"
#include "rpc/rpc_caster.h"
#include "rpc/zun_object.h"
#include "tools/capsule_template.h"
#include "tools/capsule_view.h"
#include "tools/network_picker.h"
#include "tools/placement_scheduler.h"

namespace {

using zun::config::AgentConfig;
using OJson = nlohmann::ordered_json;

constexpr char kUsage[] =
    "usage: zun-capsule --config-file FILE [--json] [--project P] [--user U] "
    "COMMAND\n"
    "  create -f TEMPLATE [--host H] [--count N] [--net "
    "network=ID[,v4-fixed-ip=IP]|port=ID]...\n"
    "                                  create a capsule (N capsules, named\n"
    "                                  NAME-1..NAME-N, uuids printed) from a\n"
    "                                  template; with [network] driver = cni\n"
    "                                  its Neutron networks (default: the\n"
    "                                  project's oldest, else a shared one)\n"
    "  delete UUID|NAME                delete a capsule\n"
    "  show UUID|NAME                  show a capsule and its containers\n"
    "  list                            list capsules\n"
    "  wait UUID|NAME --status S [--timeout SEC]\n"
    "                                  wait for a status (Deleted: gone)\n";

int Fail(const std::string& what) {
  std::cerr << "zun-capsule: " << what << "\n";
  return 1;
}

struct Cli {
  AgentConfig config;
  std::unique_ptr<zun::db::ApiStore> api;
  // With [keystone_auth]: capsules are scheduled through Placement.
  std::unique_ptr<zun::config::OpenStackClients> openstack;
  bool json = false;
  std::string project;
  std::string user;
  std::string request_id = "req-" + zun::NewUuid4();

  OJson Context() const {
    return OJson{{"request_id", request_id},
                 {"global_request_id", nullptr},
                 {"user_id", user},
                 {"project_id", project},
                 {"user_name", user},
                 {"project_name", project},
                 {"roles", OJson::array({"admin"})},
                 {"is_admin", true},
                 {"read_only", false},
                 {"show_deleted", false},
                 {"all_projects", false},
                 {"auth_token", nullptr}};
  }

  absl::Status Cast(const std::string& host, const std::string& method,
                    OJson args) const {
    absl::StatusOr<zun::rpc::TransportUrl> url =
        zun::rpc::ParseTransportUrl(config.transport_url);
    if (!url.ok()) return url.status();
    zun::rpc::CasterOptions o;
    o.url = *url;
    o.tls = zun::config::AmqpTlsFrom(config);
    o.control_exchange = config.control_exchange;
    o.topic = config.compute.topic;
    o.durable =
        config.rabbit.amqp_durable_queues || config.rabbit.rabbit_quorum_queue;
    return zun::rpc::RpcCaster(o).Cast(host, method, std::move(args),
                                       Context());
  }

  void Print(const zun::capsule::Capsule& c) const {
    if (json) {
      std::cout << zun::tools::CapsuleJson(c).dump(2) << "\n";
    } else {
      std::cout << zun::tools::CapsuleDetail(c);
    }
  }
};

// The Capsule primitive as the API casts it: without children for a create
// (they are lazy-loaded and untouched), with them for a delete.
OJson Primitive(const zun::capsule::Capsule& c, bool children) {
  OJson j = zun::rpc::EncodeCapsule(c, "1.4");
  if (!children) {
    j["zun_object.data"].erase("containers");
    j["zun_object.data"].erase("init_containers");
  }
  return j;
}

// Creates one capsule from `text` (its name suffixed when `suffix` is not
// empty): rows, scheduling, cast. Errors carry the message to print.
absl::StatusOr<zun::capsule::Capsule> CreateOne(
    Cli& cli, const std::string& file, const std::string& text,
    const std::string& suffix, const std::string& want_host, bool verbose,
    const OJson& networks, std::string* cast_to) {
  zun::tools::TemplateOptions to;
  to.project_id = cli.project;
  to.user_id = cli.user;
  absl::StatusOr<zun::tools::CapsuleRequest> req =
      zun::tools::CapsuleFromTemplate(text, to);
  if (!req.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": ", req.status().message()));
  }
  if (!suffix.empty() && req->capsule.record.name) {
    *req->capsule.record.name += suffix;
  }
  absl::StatusOr<zun::capsule::Capsule> stored =
      cli.api->CreateCapsule(req->capsule);
  if (!stored.ok()) return stored.status();
  std::string host = want_host;
  if (cli.openstack) {
    // As zun-api: Placement picks the node and the capsule's allocation is
    // claimed before the cast.
    zun::tools::ScheduleRequest sr;
    sr.consumer = stored->uuid();
    sr.project_id = cli.project;
    sr.user_id = cli.user;
    sr.resources = zun::tools::ResourcesFor(*stored);
    sr.host = host;
    absl::StatusOr<std::string> chosen =
        zun::tools::ScheduleCapsule(*cli.openstack->placement, *cli.api, sr);
    if (!chosen.ok()) {
      const std::string reason =
          absl::IsResourceExhausted(chosen.status())
              ? std::string(chosen.status().message())
              : absl::StrCat("scheduling failed: ", chosen.status().message());
      cli.api->MarkError(stored->uuid(), reason).IgnoreError();
      return absl::Status(chosen.status().code(), reason);
    }
    host = *chosen;
    if (verbose) {
      std::cerr << "zun-capsule: scheduled to host '" << host
                << "' by Placement\n";
    }
  } else if (host.empty()) {
    host = cli.config.host;
  }
  *cast_to = host;
  if (auto s = cli.api->RecordAction(stored->uuid(), "create", cli.request_id,
                                     cli.project, cli.user);
      !s.ok()) {
    return s;
  }
  const OJson cast_args = {{"limits", OJson::object()},
                           {"requested_networks", networks},
                           {"requested_volumes", OJson::object()},
                           {"container", Primitive(*stored, false)},
                           {"run", false},
                           {"pci_requests", nullptr}};
  if (absl::Status s = cli.Cast(host, "container_create", cast_args); !s.ok()) {
    const std::string reason = absl::StrCat("cannot send the create to host '",
                                            host, "': ", s.message());
    cli.api->MarkError(stored->uuid(), reason).IgnoreError();
    if (cli.openstack) {
      cli.openstack->placement->DeleteAllocations(stored->uuid()).IgnoreError();
    }
    return absl::UnavailableError(reason);
  }
  absl::StatusOr<zun::capsule::Capsule> now = cli.api->Find(stored->uuid());
  return now.ok() ? *now : *stored;
}

int Create(Cli& cli, const zun::CliArgs& args) {
  if (!args.Has("file")) return Fail("create needs -f TEMPLATE");
  std::ifstream in(args.Get("file"), std::ios::binary);
  if (!in) return Fail("cannot read " + args.Get("file"));
  std::stringstream text;
  text << in.rdbuf();
  int count = 1;
  if (args.Has("count") &&
      (!absl::SimpleAtoi(args.Get("count"), &count) || count < 1)) {
    return Fail("--count needs a positive number");
  }
  const std::string host = args.Get("host", "");
  // As zun-api: the networks are resolved once, before any row is written.
  OJson networks = OJson::array();
  if (cli.config.NeutronPorts() && cli.openstack) {
    absl::StatusOr<nlohmann::json> nets = zun::tools::RequestedNetworks(
        *cli.openstack->neutron, cli.project, args.GetAll("net"));
    if (!nets.ok()) return Fail(std::string(nets.status().message()));
    networks = OJson::parse(nets->dump());
  } else if (args.Has("net")) {
    return Fail("--net needs [network] driver = cni and [keystone_auth]");
  }
  if (count == 1) {
    std::string cast_to;
    absl::StatusOr<zun::capsule::Capsule> c = CreateOne(
        cli, args.Get("file"), text.str(), "", host, true, networks, &cast_to);
    if (!c.ok()) return Fail(std::string(c.status().message()));
    cli.Print(*c);
    return 0;
  }
  // Many: "<uuid> <host it was cast to>" (or a JSON object) per capsule;
  // the first failure stops the run.
  for (int i = 1; i <= count; ++i) {
    std::string cast_to;
    absl::StatusOr<zun::capsule::Capsule> c =
        CreateOne(cli, args.Get("file"), text.str(), absl::StrCat("-", i), host,
                  false, networks, &cast_to);
    if (!c.ok()) {
      return Fail(absl::StrCat("capsule ", i, " of ", count, ": ",
                               c.status().message()));
    }
    if (cli.json) {
      std::cout << OJson{{"uuid", c->uuid()},
                         {"name", c->record.name.value_or("")},
                         {"host", cast_to}}
                       .dump()
                << "\n";
    } else {
      std::cout << c->uuid() << " " << cast_to << "\n";
    }
  }
  std::cout.flush();
  return 0;
}

int Delete(Cli& cli, const std::string& ident) {
  absl::StatusOr<zun::capsule::Capsule> c = cli.api->Find(ident);
  if (!c.ok()) return Fail(std::string(c.status().message()));
  if (auto s = cli.api->MarkDeleting(c->uuid()); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  const std::string host = c->record.host.value_or("");
  if (host.empty()) {
    // Never claimed by a node: the API removes the rows itself (and,
    // unlike zun-api, the allocation the scheduler may have made).
    if (auto s = cli.api->DeleteRows(c->uuid()); !s.ok()) {
      return Fail(std::string(s.message()));
    }
    if (cli.openstack) {
      cli.openstack->placement->DeleteAllocations(c->uuid()).IgnoreError();
    }
    std::cout << (cli.json
                      ? OJson{{"uuid", c->uuid()}, {"deleted", true}}.dump()
                      : "deleted " + c->uuid())
              << "\n";
    return 0;
  }
  if (auto s = cli.api->RecordAction(c->uuid(), "delete", cli.request_id,
                                     cli.project, cli.user);
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  c->record.task_state = "container_deleting";
  if (absl::Status s =
          cli.Cast(host, "container_delete",
                   OJson{{"container", Primitive(*c, true)}, {"force", false}});
      !s.ok()) {
    return Fail(absl::StrCat("cannot send the delete to host '", host,
                             "': ", s.message()));
  }
  std::cout << (cli.json ? OJson{{"uuid", c->uuid()}, {"deleting", true}}.dump()
                         : "deleting " + c->uuid() + " on " + host)
            << "\n";
  return 0;
}

int Wait(Cli& cli, const std::string& ident, const zun::CliArgs& args) {
  if (!args.Has("status")) return Fail("wait needs --status STATUS");
  const std::string want = absl::AsciiStrToLower(args.Get("status"));
  double timeout_s = 300;
  if (args.Has("timeout") &&
      (!absl::SimpleAtod(args.Get("timeout"), &timeout_s) || timeout_s < 0)) {
    return Fail("--timeout: expected seconds");
  }
  // Resolve a name once: after a delete the name no longer resolves.
  absl::StatusOr<zun::capsule::Capsule> first = cli.api->Find(ident);
  if (!first.ok()) {
    if (first.status().code() == absl::StatusCode::kNotFound &&
        want == "deleted") {
      return 0;
    }
    return Fail(std::string(first.status().message()));
  }
  const std::string uuid = first->uuid();
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout_s);
  std::string last = "?";
  for (;;) {
    absl::StatusOr<zun::capsule::Capsule> c = cli.api->Find(uuid);
    if (!c.ok() && c.status().code() == absl::StatusCode::kNotFound) {
      if (want == "deleted") return 0;
      return Fail("capsule " + uuid + " was deleted");
    }
    if (c.ok()) {
      last = c->record.status.value_or("");
      const std::string status = absl::AsciiStrToLower(last);
      if (status == want && !c->record.task_state) {
        cli.Print(*c);
        return 0;
      }
      // A capsule that failed will not reach another status by itself.
      if (status == "error" && want != "error" && !c->record.task_state) {
        cli.Print(*c);
        return Fail("capsule " + uuid +
                    " is Error: " + c->record.status_reason.value_or(""));
      }
    }
    if (absl::Now() >= deadline) {
      return Fail(absl::StrCat("timed out after ", timeout_s, "s waiting for ",
                               args.Get("status"), " (status: ", last, ")"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace

int main(int argc, char** argv) {
  // "-f FILE" is the Zun client's spelling.
  std::vector<const char*> av(argv, argv + argc);
  for (auto& a : av) {
    if (std::string_view(a) == "-f") a = "--file";
  }
  absl::StatusOr<zun::CliArgs> args =
      zun::CliArgs::Parse(static_cast<int>(av.size()), av.data(),
                          {"config-file", "file", "host", "status", "timeout",
                           "project", "user", "count", "net"},
                          {"json", "help"});
  if (!args.ok()) {
    std::cerr << "zun-capsule: " << args.status().message() << "\n" << kUsage;
    return 2;
  }
  const std::vector<std::string>& pos = args->positional();
  if (args->Has("help") || !args->Has("config-file") || pos.empty()) {
    std::cerr << kUsage;
    return args->Has("help") ? 0 : 2;
  }
  zun::log::Options lo;
  lo.level = spdlog::level::warn;
  zun::log::Init(lo);
  absl::StatusOr<AgentConfig> config =
      zun::config::LoadConfig(args->Get("config-file"));
  if (!config.ok()) return Fail(std::string(config.status().message()));
  Cli cli;
  cli.config = *config;
  cli.json = args->Has("json");
  cli.project = args->Get("project", "default");
  cli.user = args->Get("user", "admin");
  zun::db::PgOptions po;
  po.connection = config->database.connection;
  po.pool_size = 1;
  po.connect_timeout = config->database.connect_timeout;
  po.statement_timeout = config->database.statement_timeout;
  cli.api = std::make_unique<zun::db::ApiStore>(po);
  cli.openstack =
      zun::config::MakeOpenStackClients(*config, zun::RealClock::Default());

  const std::string& cmd = pos[0];
  const bool one_arg = cmd == "delete" || cmd == "show" || cmd == "wait";
  if ((one_arg && pos.size() != 2) || (!one_arg && pos.size() != 1)) {
    std::cerr << kUsage;
    return 2;
  }
  if (cmd == "create") return Create(cli, *args);
  if (cmd == "delete") return Delete(cli, pos[1]);
  if (cmd == "wait") return Wait(cli, pos[1], *args);
  if (cmd == "show") {
    absl::StatusOr<zun::capsule::Capsule> c = cli.api->Find(pos[1]);
    if (!c.ok()) return Fail(std::string(c.status().message()));
    cli.Print(*c);
    return 0;
  }
  if (cmd == "list") {
    absl::StatusOr<std::vector<zun::capsule::Capsule>> all = cli.api->List();
    if (!all.ok()) return Fail(std::string(all.status().message()));
    if (cli.json) {
      OJson j = OJson::array();
      for (const auto& c : *all) j.push_back(zun::tools::CapsuleJson(c));
      std::cout << j.dump(2) << "\n";
    } else {
      std::cout << zun::tools::CapsuleTable(*all);
    }
    return 0;
  }
  std::cerr << "zun-capsule: unknown command '" << cmd << "'\n" << kUsage;
  return 2;
}
