#include "tests/support/agent_harness.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/uuid.h"
#include "rpc/py_json.h"
#include "rpc/zun_object.h"
#include "tests/support/poll.h"

namespace zun::testing {
namespace {

constexpr char kPython[] = "/usr/bin/python3";

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "harness: %s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

}  // namespace

std::map<std::string, std::string> PyEnv() {
  // zun.common.exception stand-in, so remote Zun errors re-raise as classes.
  return {{"PYTHONPATH", SourceDir() + "/tests/tools/pystubs"}};
}

AgentHarness::AgentHarness(HarnessOptions options)
    : options_(std::move(options)),
      dir_("zh"),
      db_(options_.database.empty()
              ? ScratchDatabase(options_.sync_schema, options_.pg_socket,
                                options_.pg_port)
              : ScratchDatabase::Attach(options_.database, options_.pg_socket,
                                        options_.pg_port)) {
  api_ = std::make_unique<db::ApiStore>(db_.options());
  host_ = options_.host.empty() ? "host-" + NewUuid4Hex().substr(0, 10)
                                : options_.host;
  amqp_url_ =
      options_.amqp_url.empty() ? TestEnv::Get().amqp_url : options_.amqp_url;
  if (options_.cri_endpoint.empty()) {
    cri_endpoint_ = "unix://" + dir() + "/cri.sock";
    StartFakeCri();
  } else {
    cri_endpoint_ = options_.cri_endpoint;
  }
  cri::GrpcCriOptions co;
  co.runtime_endpoint = cri_endpoint_;
  auto client = cri::GrpcCriClient::Create(co, RealClock::Default());
  Check(client.status(), "CRI client");
  cri_ = *std::move(client);
  config_path_ = dir() + "/zun-agent.conf";
  std::ofstream conf(config_path_);
  const bool fast = !options_.default_settings;
  conf << "[DEFAULT]\nhost = " << host_ << "\ntransport_url = "
       << (options_.agent_transport_url.empty() ? amqp_url_
                                                : options_.agent_transport_url)
       << "\n"
       << (fast ? "report_interval = 1\nlog_levels = agent:debug\n" : "")
       << (options_.metrics_port > 0
               ? "metrics_listen = 127.0.0.1:" +
                     std::to_string(options_.metrics_port) + "\n"
               : std::string())
       << "state_path = " << dir() << "\n"
       << "[database]\nconnection = "
       << (options_.agent_db_connection.empty()
               ? db_.url()
               : absl::StrReplaceAll(options_.agent_db_connection,
                                     {{"{db}", db_.name()}}))
       << "\n"
       << "[cri]\nruntime_endpoint = " << cri_endpoint_ << "\n"
       << "request_timeout = " << options_.cri_request_timeout_s << "\n"
       << "[compute]\npod_log_root = " << dir()
       << "/logs\ncgroup_root = " << options_.cgroup_root << "\n"
       << (fast ? "reconcile_interval = 0.5\nshutdown_timeout = 10\n" : "")
       << "[volume]\nvolume_dir = " << dir() << "/volumes\n"
       << (fast ? "[oslo_messaging_rabbit]\nrabbit_retry_interval = 0.2\n"
                  "rabbit_interval_max = 2\n"
                : "")
       << options_.extra_config << "\n";
  conf.close();
  if (options_.start_agent) StartAgent();
}

AgentHarness::~AgentHarness() {
  if (agent_) agent_->Stop(absl::Seconds(15)).IgnoreError();
  cri_.reset();
  if (fake_cri_) fake_cri_->Stop().IgnoreError();
}

void AgentHarness::StartFakeCri() {
  std::vector<std::string> argv = {BinDir() + "/fake-cri", "--listen",
                                   cri_endpoint_};
  argv.insert(argv.end(), options_.fake_cri_args.begin(),
              options_.fake_cri_args.end());
  auto p = Subprocess::Start(argv, dir() + "/fake-cri.log");
  Check(p.status(), "fake-cri");
  fake_cri_ = *std::move(p);
  const std::string sock = dir() + "/cri.sock";
  if (!PollUntil([&] { return access(sock.c_str(), F_OK) == 0; })) {
    Check(absl::DeadlineExceededError("fake-cri did not listen"), "fake-cri");
  }
}

void AgentHarness::StopFakeCri() { fake_cri_->Stop().IgnoreError(); }

void AgentHarness::RestartFakeCri() {
  fake_cri_->Stop().IgnoreError();
  StartFakeCri();
}

void AgentHarness::StartAgent() {
  // ZUN_AGENT_PREFIX (e.g. "/usr/bin/perf record -g -o /tmp/agent.perf")
  // runs the agent under a profiler for benchmark analysis.
  std::vector<std::string> argv;
  if (const char* prefix = std::getenv("ZUN_AGENT_PREFIX")) {
    for (absl::string_view w : absl::StrSplit(prefix, ' ', absl::SkipEmpty())) {
      argv.emplace_back(w);
    }
  }
  argv.insert(argv.end(),
              {options_.agent_binary.empty() ? BinDir() + "/zun-agent"
                                             : options_.agent_binary,
               "--config-file", config_path_});
  auto p = Subprocess::Start(argv, dir() + "/zun-agent.log");
  Check(p.status(), "zun-agent");
  agent_ = *std::move(p);
}

absl::StatusOr<int> AgentHarness::StopAgent() {
  if (!agent_) return absl::FailedPreconditionError("agent not running");
  absl::StatusOr<int> r = agent_->Stop(absl::Seconds(30));
  agent_.reset();
  return r;
}

void AgentHarness::KillAgent() {
  if (!agent_) return;
  agent_->Signal(SIGKILL).IgnoreError();
  agent_->Wait(absl::Seconds(10)).IgnoreError();
  agent_.reset();
}

std::vector<std::string> AgentHarness::ClientArgs() const {
  return {kPython,    SourceDir() + "/tests/tools/oslo_client.py",
          "--url",    amqp_url_,
          "--server", host_};
}

absl::Status AgentHarness::Cast(const std::string& method,
                                const nlohmann::json& args,
                                const std::vector<std::string>& extra) {
  std::vector<std::string> argv = ClientArgs();
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"cast", method, "--args", args.dump()});
  absl::StatusOr<CommandResult> r =
      RunCommand(argv, absl::Seconds(60), PyEnv());
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(absl::StrCat("oslo cast failed: ", r->output));
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> AgentHarness::Call(
    const std::string& method, const nlohmann::json& args, double timeout_s,
    const std::vector<std::string>& extra) {
  std::vector<std::string> argv = ClientArgs();
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--timeout", absl::StrCat(timeout_s), "call", method,
                           "--args", args.dump()});
  absl::StatusOr<CommandResult> r =
      RunCommand(argv, absl::Seconds(timeout_s + 60), PyEnv());
  if (!r.ok()) return r.status();
  // The last line is the JSON answer; oslo may log warnings before it.
  std::string out = r->output;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const std::string last = out.substr(out.rfind('\n') + 1);
  nlohmann::json j = nlohmann::json::parse(last, nullptr, false);
  if (r->exit_code != 0 || j.is_discarded()) {
    return absl::InternalError(absl::StrCat("oslo call failed: ", r->output));
  }
  return j;
}

std::string AgentHarness::WriteCastFile(
    const std::vector<nlohmann::json>& messages) {
  const std::string file = dir() + "/casts-" + NewUuid4Hex() + ".jsonl";
  std::ofstream out(file);
  for (const auto& m : messages) {
    nlohmann::json line = m;
    line["server"] = host_;
    out << line.dump() << "\n";
  }
  return file;
}

nlohmann::json AgentHarness::CreateArgs(const capsule::Capsule& c) const {
  return {{"limits", nlohmann::json::object()},
          {"requested_networks", nlohmann::json::array()},
          {"requested_volumes", nlohmann::json::object()},
          {"container", CapsulePrimitive(c)},
          {"run", false},
          {"pci_requests", nullptr}};
}

absl::Status AgentHarness::CastMany(
    const std::vector<nlohmann::json>& messages) {
  const std::string file = WriteCastFile(messages);
  std::vector<std::string> argv = ClientArgs();
  argv.insert(argv.end(), {"cast-many", "--file", file});
  absl::StatusOr<CommandResult> r =
      RunCommand(argv, absl::Seconds(300), PyEnv());
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("oslo cast-many failed: ", r->output));
  }
  return absl::OkStatus();
}

capsule::Capsule AgentHarness::CreateCapsuleRows(
    const std::string& name, const std::vector<std::string>& images,
    const std::vector<std::string>& init_images) {
  capsule::Capsule c;
  capsule::ContainerRecord& r = c.record;
  r.uuid = NewUuid4();
  r.name = name;
  r.status = "Creating";
  r.project_id = "test-project";
  r.user_id = "test-user";
  r.image = "kubernetes/pause";
  r.image_driver = "docker";
  r.cpu = 0;
  r.memory = "0";
  r.restart_policy = {{"MaximumRetryCount", "0"}, {"Name", "always"}};
  r.labels = {{"app", name}};
  auto child = [&](const std::string& image, bool init) {
    capsule::ContainerRecord k;
    k.uuid = NewUuid4();
    k.name = absl::StrCat("capsule-", name, "-", NewUuid4Hex().substr(0, 8));
    k.status = "Creating";
    k.project_id = r.project_id;
    k.user_id = r.user_id;
    k.image = image;
    k.image_pull_policy = "ifnotpresent";
    k.command = {"sleep", "3600"};
    k.cpu = 0.5;
    k.memory = "64";
    k.restart_policy = init ? capsule::StringMap{{"MaximumRetryCount", "10"},
                                                 {"Name", "on-failure"}}
                            : r.restart_policy;
    return k;
  };
  for (const auto& img : init_images)
    c.init_containers.push_back(child(img, true));
  for (const auto& img : images) c.containers.push_back(child(img, false));
  absl::StatusOr<capsule::Capsule> stored = api_->CreateCapsule(c);
  Check(stored.status(), "create capsule rows");
  return *std::move(stored);
}

capsule::ContainerRecord AgentHarness::Child(const std::string& name,
                                             std::vector<std::string> command,
                                             bool init,
                                             const std::string& image) {
  capsule::ContainerRecord k;
  k.uuid = NewUuid4();
  k.name = name;
  k.container_type = init ? capsule::ContainerType::kCapsuleInitContainer
                          : capsule::ContainerType::kCapsuleContainer;
  k.status = "Creating";
  k.project_id = "test-project";
  k.user_id = "test-user";
  k.image = image;
  k.image_pull_policy = "ifnotpresent";
  k.command = std::move(command);
  k.cpu = 0.1;
  k.memory = "32";
  return k;
}

capsule::Capsule AgentHarness::CreateCapsule(capsule::Capsule c) {
  capsule::ContainerRecord& r = c.record;
  if (r.uuid.empty()) r.uuid = NewUuid4();
  if (!r.name) r.name = "capsule-" + r.uuid.substr(0, 8);
  r.status = "Creating";
  if (!r.project_id) r.project_id = "test-project";
  if (!r.user_id) r.user_id = "test-user";
  if (!r.image) r.image = "kubernetes/pause";
  if (r.restart_policy.empty()) {
    r.restart_policy = {{"MaximumRetryCount", "0"}, {"Name", "always"}};
  }
  absl::StatusOr<capsule::Capsule> stored = api_->CreateCapsule(c);
  Check(stored.status(), "create capsule rows");
  return *std::move(stored);
}

nlohmann::json AgentHarness::CapsulePrimitive(const capsule::Capsule& c) const {
  capsule::Capsule bare;
  bare.record = c.record;
  nlohmann::json j =
      nlohmann::json::parse(rpc::PyDumps(rpc::EncodeCapsule(bare, "1.4")));
  j["zun_object.data"].erase("containers");
  j["zun_object.data"].erase("init_containers");
  return j;
}

absl::Status AgentHarness::CastCreate(const capsule::Capsule& c) {
  return Cast("container_create", CreateArgs(c));
}

absl::Status AgentHarness::CastDelete(const capsule::Capsule& c, bool force) {
  if (absl::Status s = api_->MarkDeleting(c.uuid()); !s.ok()) return s;
  return Cast("container_delete",
              {{"container", CapsulePrimitive(c)}, {"force", force}});
}

std::optional<SqlRow> AgentHarness::CapsuleRow(const std::string& uuid) {
  auto rows = db_.Query("SELECT * FROM container WHERE uuid = '" + uuid + "'");
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::vector<SqlRow> AgentHarness::ChildRows(const std::string& capsule_uuid) {
  return db_.Query(
      "SELECT c.* FROM container c JOIN container p ON c.capsule_id = p.id "
      "WHERE p.uuid = '" +
      capsule_uuid + "' ORDER BY c.id");
}

std::string AgentHarness::StatusOf(const std::string& uuid) {
  auto row = CapsuleRow(uuid);
  if (!row) return "<gone>";
  return (*row)["status"].value_or("<null>");
}

bool AgentHarness::WaitServing(absl::Duration timeout,
                               const std::vector<std::string>& extra) {
  return PollUntil(
      [&] {
        absl::StatusOr<nlohmann::json> r =
            Call("container_show",
                 {{"container",
                   {{"zun_object.name", "Capsule"},
                    {"zun_object.namespace", "zun"},
                    {"zun_object.version", "1.4"},
                    {"zun_object.data", {{"uuid", NewUuid4()}}}}}},
                 2, extra);
        return r.ok() && r->contains("exception") &&
               (*r)["exception"] == "ContainerNotFound";
      },
      timeout, absl::Milliseconds(200));
}

}  // namespace zun::testing
