// zun-cri: a small CRI client for operators and scripts, over zun-agent's
// CriClient (so it speaks exactly what the agent speaks).
//
//   zun-cri --endpoint unix:///run/containerd/containerd.sock COMMAND
//     version | status | pods | containers | images
//     cleanup [--label K=V]...   stop and remove every matching sandbox
//   --label K=V filters pods/containers/cleanup; --timeout S per call.
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/cli_args.h"
#include "common/clock.h"
#include "cri/grpc_cri_client.h"

namespace {

int Usage(const std::string& why) {
  std::cerr
      << "zun-cri: " << why
      << "\nusage: zun-cri --endpoint unix:///PATH [--timeout S] "
         "[--label K=V]... version|status|pods|containers|images|cleanup\n";
  return 2;
}

int Fail(const absl::Status& s) {
  std::cerr << "zun-cri: " << s << "\n";
  return 1;
}

std::string Short(const std::string& id) { return id.substr(0, 13); }

}  // namespace

int main(int argc, char** argv) {
  auto args = zun::CliArgs::Parse(argc, argv, {"endpoint", "timeout", "label"},
                                  {"help"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  if (args->positional().size() != 1) return Usage("one command expected");
  const std::string cmd = args->positional()[0];
  zun::cri::GrpcCriOptions o;
  o.runtime_endpoint =
      args->Get("endpoint", "unix:///run/containerd/containerd.sock");
  double timeout = 10;
  if (args->Has("timeout") &&
      !absl::SimpleAtod(args->Get("timeout"), &timeout)) {
    return Usage("--timeout must be a number");
  }
  o.request_timeout = absl::Seconds(timeout);
  zun::cri::Labels labels;
  for (const std::string& kv : args->GetAll("label")) {
    std::pair<std::string, std::string> p =
        absl::StrSplit(kv, absl::MaxSplits('=', 1));
    labels[p.first] = p.second;
  }
  auto client = zun::cri::GrpcCriClient::Create(o, zun::RealClock::Default());
  if (!client.ok()) return Fail(client.status());
  zun::cri::GrpcCriClient& cri = **client;

  if (cmd == "version") {
    auto v = cri.Version();
    if (!v.ok()) return Fail(v.status());
    std::cout << v->runtime_name << " " << v->runtime_version << " (CRI "
              << v->runtime_api_version << ")\n";
  } else if (cmd == "status") {
    auto st = cri.Status();
    if (!st.ok()) return Fail(st.status());
    for (const auto& c : st->conditions) {
      std::cout << c.type << "=" << (c.status ? "true" : "false")
                << (c.reason.empty() ? "" : " (" + c.reason + ")") << "\n";
    }
    for (const auto& h : st->handlers)
      std::cout << "handler " << h.name << "\n";
  } else if (cmd == "pods") {
    zun::cri::SandboxFilter f;
    f.labels = labels;
    auto pods = cri.ListPodSandbox(f);
    if (!pods.ok()) return Fail(pods.status());
    for (const auto& p : *pods) {
      std::cout << Short(p.id) << "  " << zun::cri::ToString(p.state) << "  "
                << p.namespace_ << "/" << p.name << "  attempt " << p.attempt
                << "\n";
    }
  } else if (cmd == "containers") {
    zun::cri::ContainerFilter f;
    f.labels = labels;
    auto cs = cri.ListContainers(f);
    if (!cs.ok()) return Fail(cs.status());
    for (const auto& c : *cs) {
      std::cout << Short(c.id) << "  " << zun::cri::ToString(c.state) << "  "
                << c.name << "  pod " << Short(c.sandbox_id) << "  " << c.image
                << "\n";
    }
  } else if (cmd == "images") {
    auto imgs = cri.ListImages();
    if (!imgs.ok()) return Fail(imgs.status());
    for (const auto& i : *imgs) {
      std::cout << Short(i.id) << "  " << absl::StrJoin(i.repo_tags, ",")
                << "\n";
    }
  } else if (cmd == "cleanup") {
    zun::cri::SandboxFilter f;
    f.labels = labels;
    auto pods = cri.ListPodSandbox(f);
    if (!pods.ok()) return Fail(pods.status());
    int failed = 0;
    for (const auto& p : *pods) {
      absl::Status s = cri.StopPodSandbox(p.id);
      if (s.ok()) s = cri.RemovePodSandbox(p.id);
      if (!s.ok()) {
        std::cerr << "zun-cri: " << Short(p.id) << ": " << s << "\n";
        ++failed;
      }
    }
    std::cout << "removed " << pods->size() - failed << " sandboxes\n";
    return failed == 0 ? 0 : 1;
  } else {
    return Usage("unknown command '" + cmd + "'");
  }
  return 0;
}
