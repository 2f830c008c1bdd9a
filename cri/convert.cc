#include "cri/convert.h"

namespace zun::cri::internal {
namespace {

template <typename M>
void PutMap(const Labels& in, M* out) {
  out->clear();
  for (const auto& [k, v] : in) (*out)[k] = v;
}

template <typename Out = Labels, typename M>
Out GetMap(const M& in) {
  return Out(in.begin(), in.end());
}

// The labels of a listed item, or only those named in `keys` (all when
// empty).
template <typename M>
Labels GetLabels(const M& in, const std::vector<std::string>& keys) {
  if (keys.empty()) return GetMap(in);
  Labels out;
  for (const std::string& k : keys) {
    auto it = in.find(k);
    if (it != in.end()) out.emplace(k, it->second);
  }
  return out;
}

void ToProto(const NamespaceOptions& in, pb::NamespaceOption* out) {
  out->set_network(static_cast<pb::NamespaceMode>(in.network));
  out->set_pid(static_cast<pb::NamespaceMode>(in.pid));
  out->set_ipc(static_cast<pb::NamespaceMode>(in.ipc));
  out->set_target_id(in.target_id);
}

NamespaceOptions FromProto(const pb::NamespaceOption& in) {
  NamespaceOptions out;
  out.network = static_cast<NamespaceMode>(in.network());
  out.pid = static_cast<NamespaceMode>(in.pid());
  out.ipc = static_cast<NamespaceMode>(in.ipc());
  out.target_id = in.target_id();
  return out;
}

void ToProto(const SecurityProfile& in, pb::SecurityProfile* out) {
  out->set_profile_type(static_cast<pb::SecurityProfile::ProfileType>(in.type));
  out->set_localhost_ref(in.localhost_ref);
}

SecurityProfile FromProto(const pb::SecurityProfile& in) {
  SecurityProfile out;
  out.type = static_cast<SecurityProfile::Type>(in.profile_type());
  out.localhost_ref = in.localhost_ref();
  return out;
}

}  // namespace

absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

void ToProto(const LinuxResources& in, pb::LinuxContainerResources* out) {
  out->set_cpu_period(in.cpu_period);
  out->set_cpu_quota(in.cpu_quota);
  out->set_cpu_shares(in.cpu_shares);
  out->set_memory_limit_in_bytes(in.memory_limit_in_bytes);
  out->set_oom_score_adj(in.oom_score_adj);
  out->set_cpuset_cpus(in.cpuset_cpus);
  out->set_cpuset_mems(in.cpuset_mems);
}

LinuxResources FromProto(const pb::LinuxContainerResources& in) {
  LinuxResources out;
  out.cpu_period = in.cpu_period();
  out.cpu_quota = in.cpu_quota();
  out.cpu_shares = in.cpu_shares();
  out.memory_limit_in_bytes = in.memory_limit_in_bytes();
  out.oom_score_adj = in.oom_score_adj();
  out.cpuset_cpus = in.cpuset_cpus();
  out.cpuset_mems = in.cpuset_mems();
  return out;
}

void MountToProto(const Mount& m, pb::Mount* out) {
  out->set_container_path(m.container_path);
  out->set_host_path(m.host_path);
  out->set_readonly(m.readonly);
  out->set_selinux_relabel(m.selinux_relabel);
  out->set_propagation(static_cast<pb::MountPropagation>(m.propagation));
}

Mount MountFromProto(const pb::Mount& m) {
  return Mount{m.container_path(), m.host_path(), m.readonly(),
               m.selinux_relabel(),
               static_cast<MountPropagation>(m.propagation())};
}

void ToProto(const PodSandboxConfig& in, pb::PodSandboxConfig* out) {
  auto* md = out->mutable_metadata();
  md->set_name(in.name);
  md->set_uid(in.uid);
  md->set_namespace_(in.namespace_);
  md->set_attempt(in.attempt);
  out->set_hostname(in.hostname);
  out->set_log_directory(in.log_directory);
  if (!in.dns.empty()) {
    auto* dns = out->mutable_dns_config();
    for (const auto& s : in.dns.servers) dns->add_servers(s);
    for (const auto& s : in.dns.searches) dns->add_searches(s);
    for (const auto& s : in.dns.options) dns->add_options(s);
  }
  for (const auto& pm : in.port_mappings) {
    auto* p = out->add_port_mappings();
    p->set_protocol(static_cast<pb::Protocol>(pm.protocol));
    p->set_container_port(pm.container_port);
    p->set_host_port(pm.host_port);
    p->set_host_ip(pm.host_ip);
  }
  PutMap(in.labels, out->mutable_labels());
  PutMap(in.annotations, out->mutable_annotations());
  auto* linux = out->mutable_linux();
  linux->set_cgroup_parent(in.cgroup_parent);
  for (const auto& [k, v] : in.sysctls) (*linux->mutable_sysctls())[k] = v;
  auto* sc = linux->mutable_security_context();
  ToProto(in.namespaces, sc->mutable_namespace_options());
  sc->set_privileged(in.privileged);
  if (in.run_as_user) sc->mutable_run_as_user()->set_value(*in.run_as_user);
  if (in.run_as_group) sc->mutable_run_as_group()->set_value(*in.run_as_group);
  sc->set_readonly_rootfs(in.readonly_rootfs);
  for (int64_t g : in.supplemental_groups) sc->add_supplemental_groups(g);
  if (in.seccomp) ToProto(*in.seccomp, sc->mutable_seccomp());
  if (!in.overhead.empty()) ToProto(in.overhead, linux->mutable_overhead());
  if (!in.resources.empty()) ToProto(in.resources, linux->mutable_resources());
}

PodSandboxConfig FromProto(const pb::PodSandboxConfig& in) {
  PodSandboxConfig out;
  out.name = in.metadata().name();
  out.uid = in.metadata().uid();
  out.namespace_ = in.metadata().namespace_();
  out.attempt = in.metadata().attempt();
  out.hostname = in.hostname();
  out.log_directory = in.log_directory();
  const auto& dns = in.dns_config();
  out.dns.servers.assign(dns.servers().begin(), dns.servers().end());
  out.dns.searches.assign(dns.searches().begin(), dns.searches().end());
  out.dns.options.assign(dns.options().begin(), dns.options().end());
  for (const auto& p : in.port_mappings()) {
    out.port_mappings.push_back(PortMapping{static_cast<Protocol>(p.protocol()),
                                            p.container_port(), p.host_port(),
                                            p.host_ip()});
  }
  out.labels = GetMap(in.labels());
  out.annotations = GetMap(in.annotations());
  const auto& linux = in.linux();
  out.cgroup_parent = linux.cgroup_parent();
  out.sysctls = GetMap<decltype(out.sysctls)>(linux.sysctls());
  const auto& sc = linux.security_context();
  out.namespaces = FromProto(sc.namespace_options());
  out.privileged = sc.privileged();
  if (sc.has_run_as_user()) out.run_as_user = sc.run_as_user().value();
  if (sc.has_run_as_group()) out.run_as_group = sc.run_as_group().value();
  out.readonly_rootfs = sc.readonly_rootfs();
  out.supplemental_groups.assign(sc.supplemental_groups().begin(),
                                 sc.supplemental_groups().end());
  if (sc.has_seccomp()) out.seccomp = FromProto(sc.seccomp());
  out.overhead = FromProto(linux.overhead());
  out.resources = FromProto(linux.resources());
  return out;
}

void ToProto(const ContainerConfig& in, pb::ContainerConfig* out) {
  out->mutable_metadata()->set_name(in.name);
  out->mutable_metadata()->set_attempt(in.attempt);
  out->mutable_image()->set_image(in.image);
  for (const auto& s : in.command) out->add_command(s);
  for (const auto& s : in.args) out->add_args(s);
  out->set_working_dir(in.working_dir);
  for (const auto& [k, v] : in.envs) {
    auto* kv = out->add_envs();
    kv->set_key(k);
    kv->set_value(v);
  }
  for (const auto& m : in.mounts) MountToProto(m, out->add_mounts());
  PutMap(in.labels, out->mutable_labels());
  PutMap(in.annotations, out->mutable_annotations());
  out->set_log_path(in.log_path);
  out->set_stdin(in.stdin_open);
  out->set_stdin_once(in.stdin_once);
  out->set_tty(in.tty);
  auto* linux = out->mutable_linux();
  ToProto(in.resources, linux->mutable_resources());
  auto* sc = linux->mutable_security_context();
  sc->set_privileged(in.privileged);
  if (in.seccomp) ToProto(*in.seccomp, sc->mutable_seccomp());
  sc->set_readonly_rootfs(in.readonly_rootfs);
  if (in.run_as_user) sc->mutable_run_as_user()->set_value(*in.run_as_user);
  if (in.run_as_group) sc->mutable_run_as_group()->set_value(*in.run_as_group);
  sc->set_no_new_privs(in.no_new_privs);
  if (!in.add_capabilities.empty() || !in.drop_capabilities.empty()) {
    auto* caps = sc->mutable_capabilities();
    for (const auto& c : in.add_capabilities) caps->add_add_capabilities(c);
    for (const auto& c : in.drop_capabilities) caps->add_drop_capabilities(c);
  }
}

ContainerConfig FromProto(const pb::ContainerConfig& in) {
  ContainerConfig out;
  out.name = in.metadata().name();
  out.attempt = in.metadata().attempt();
  out.image = in.image().image();
  out.command.assign(in.command().begin(), in.command().end());
  out.args.assign(in.args().begin(), in.args().end());
  out.working_dir = in.working_dir();
  for (const auto& kv : in.envs()) out.envs.emplace_back(kv.key(), kv.value());
  for (const auto& m : in.mounts()) out.mounts.push_back(MountFromProto(m));
  out.labels = GetMap(in.labels());
  out.annotations = GetMap(in.annotations());
  out.log_path = in.log_path();
  out.stdin_open = in.stdin();
  out.stdin_once = in.stdin_once();
  out.tty = in.tty();
  out.resources = FromProto(in.linux().resources());
  const auto& sc = in.linux().security_context();
  out.privileged = sc.privileged();
  if (sc.has_seccomp()) out.seccomp = FromProto(sc.seccomp());
  out.readonly_rootfs = sc.readonly_rootfs();
  if (sc.has_run_as_user()) out.run_as_user = sc.run_as_user().value();
  if (sc.has_run_as_group()) out.run_as_group = sc.run_as_group().value();
  out.no_new_privs = sc.no_new_privs();
  out.add_capabilities.assign(sc.capabilities().add_capabilities().begin(),
                              sc.capabilities().add_capabilities().end());
  out.drop_capabilities.assign(sc.capabilities().drop_capabilities().begin(),
                               sc.capabilities().drop_capabilities().end());
  return out;
}

void ToProto(const SandboxFilter& in, pb::PodSandboxFilter* out) {
  out->set_id(in.id);
  if (in.state) {
    out->mutable_state()->set_state(
        static_cast<pb::PodSandboxState>(*in.state));
  }
  PutMap(in.labels, out->mutable_label_selector());
}

SandboxFilter FromProto(const pb::PodSandboxFilter& in) {
  SandboxFilter out;
  out.id = in.id();
  if (in.has_state()) out.state = static_cast<SandboxState>(in.state().state());
  out.labels = GetMap(in.label_selector());
  return out;
}

void ToProto(const ContainerFilter& in, pb::ContainerFilter* out) {
  out->set_id(in.id);
  out->set_pod_sandbox_id(in.sandbox_id);
  if (in.state) {
    out->mutable_state()->set_state(static_cast<pb::ContainerState>(*in.state));
  }
  PutMap(in.labels, out->mutable_label_selector());
}

ContainerFilter FromProto(const pb::ContainerFilter& in) {
  ContainerFilter out;
  out.id = in.id();
  out.sandbox_id = in.pod_sandbox_id();
  if (in.has_state()) {
    out.state = static_cast<ContainerState>(in.state().state());
  }
  out.labels = GetMap(in.label_selector());
  return out;
}

void ToProto(const SandboxInfo& in, pb::PodSandbox* out) {
  out->set_id(in.id);
  auto* md = out->mutable_metadata();
  md->set_name(in.name);
  md->set_uid(in.uid);
  md->set_namespace_(in.namespace_);
  md->set_attempt(in.attempt);
  out->set_state(static_cast<pb::PodSandboxState>(in.state));
  out->set_created_at(in.created_at);
  PutMap(in.labels, out->mutable_labels());
  PutMap(in.annotations, out->mutable_annotations());
  out->set_runtime_handler(in.runtime_handler);
}

SandboxInfo FromProto(const pb::PodSandbox& in, const ListProjection& keep) {
  SandboxInfo out;
  out.id = in.id();
  out.attempt = in.metadata().attempt();
  out.state = static_cast<SandboxState>(in.state());
  out.created_at = in.created_at();
  out.labels = GetLabels(in.labels(), keep.label_keys);
  if (!keep.details) return out;
  out.name = in.metadata().name();
  out.uid = in.metadata().uid();
  out.namespace_ = in.metadata().namespace_();
  out.annotations = GetMap(in.annotations());
  out.runtime_handler = in.runtime_handler();
  return out;
}

void ToProto(const SandboxStatusInfo& in, pb::PodSandboxStatus* out) {
  const SandboxInfo& s = in.sandbox;
  out->set_id(s.id);
  auto* md = out->mutable_metadata();
  md->set_name(s.name);
  md->set_uid(s.uid);
  md->set_namespace_(s.namespace_);
  md->set_attempt(s.attempt);
  out->set_state(static_cast<pb::PodSandboxState>(s.state));
  out->set_created_at(s.created_at);
  out->mutable_network()->set_ip(in.ip);
  for (const auto& ip : in.additional_ips) {
    out->mutable_network()->add_additional_ips()->set_ip(ip);
  }
  ToProto(in.namespaces,
          out->mutable_linux()->mutable_namespaces()->mutable_options());
  PutMap(s.labels, out->mutable_labels());
  PutMap(s.annotations, out->mutable_annotations());
  out->set_runtime_handler(s.runtime_handler);
}

SandboxStatusInfo FromProto(const pb::PodSandboxStatus& in) {
  SandboxStatusInfo out;
  SandboxInfo& s = out.sandbox;
  s.id = in.id();
  s.name = in.metadata().name();
  s.uid = in.metadata().uid();
  s.namespace_ = in.metadata().namespace_();
  s.attempt = in.metadata().attempt();
  s.state = static_cast<SandboxState>(in.state());
  s.created_at = in.created_at();
  s.labels = GetMap(in.labels());
  s.annotations = GetMap(in.annotations());
  s.runtime_handler = in.runtime_handler();
  out.ip = in.network().ip();
  for (const auto& ip : in.network().additional_ips()) {
    out.additional_ips.push_back(ip.ip());
  }
  out.namespaces = FromProto(in.linux().namespaces().options());
  return out;
}

void ToProto(const ContainerInfo& in, pb::Container* out) {
  out->set_id(in.id);
  out->set_pod_sandbox_id(in.sandbox_id);
  out->mutable_metadata()->set_name(in.name);
  out->mutable_metadata()->set_attempt(in.attempt);
  out->mutable_image()->set_image(in.image);
  out->set_image_ref(in.image_ref);
  out->set_state(static_cast<pb::ContainerState>(in.state));
  out->set_created_at(in.created_at);
  PutMap(in.labels, out->mutable_labels());
  PutMap(in.annotations, out->mutable_annotations());
}

ContainerInfo FromProto(const pb::Container& in, const ListProjection& keep) {
  ContainerInfo out;
  out.id = in.id();
  out.sandbox_id = in.pod_sandbox_id();
  out.attempt = in.metadata().attempt();
  out.state = static_cast<ContainerState>(in.state());
  out.created_at = in.created_at();
  out.labels = GetLabels(in.labels(), keep.label_keys);
  if (!keep.details) return out;
  out.name = in.metadata().name();
  out.image = in.image().image();
  out.image_ref = in.image_ref();
  out.annotations = GetMap(in.annotations());
  return out;
}

void ToProto(const ContainerStatusInfo& in, pb::ContainerStatus* out) {
  out->set_id(in.id);
  out->mutable_metadata()->set_name(in.name);
  out->mutable_metadata()->set_attempt(in.attempt);
  out->set_state(static_cast<pb::ContainerState>(in.state));
  out->set_created_at(in.created_at);
  out->set_started_at(in.started_at);
  out->set_finished_at(in.finished_at);
  out->set_exit_code(in.exit_code);
  out->mutable_image()->set_image(in.image);
  out->set_image_ref(in.image_ref);
  out->set_reason(in.reason);
  out->set_message(in.message);
  PutMap(in.labels, out->mutable_labels());
  PutMap(in.annotations, out->mutable_annotations());
  out->set_log_path(in.log_path);
  for (const auto& m : in.mounts) MountToProto(m, out->add_mounts());
  if (in.resources) {
    ToProto(*in.resources, out->mutable_resources()->mutable_linux());
  }
}

ContainerStatusInfo FromProto(const pb::ContainerStatus& in) {
  ContainerStatusInfo out;
  out.id = in.id();
  out.name = in.metadata().name();
  out.attempt = in.metadata().attempt();
  out.state = static_cast<ContainerState>(in.state());
  out.created_at = in.created_at();
  out.started_at = in.started_at();
  out.finished_at = in.finished_at();
  out.exit_code = in.exit_code();
  out.image = in.image().image();
  out.image_ref = in.image_ref();
  out.reason = in.reason();
  out.message = in.message();
  out.labels = GetMap(in.labels());
  out.annotations = GetMap(in.annotations());
  out.log_path = in.log_path();
  for (const auto& m : in.mounts()) out.mounts.push_back(MountFromProto(m));
  if (in.has_resources() && in.resources().has_linux()) {
    out.resources = FromProto(in.resources().linux());
  }
  return out;
}

void ToProto(const ImageInfo& in, pb::Image* out) {
  out->set_id(in.id);
  for (const auto& t : in.repo_tags) out->add_repo_tags(t);
  for (const auto& d : in.repo_digests) out->add_repo_digests(d);
  out->set_size(in.size);
  out->set_pinned(in.pinned);
  if (in.uid) out->mutable_uid()->set_value(*in.uid);
  out->set_username(in.username);
}

ImageInfo FromProto(const pb::Image& in) {
  ImageInfo out;
  out.id = in.id();
  out.repo_tags.assign(in.repo_tags().begin(), in.repo_tags().end());
  out.repo_digests.assign(in.repo_digests().begin(), in.repo_digests().end());
  out.size = in.size();
  out.pinned = in.pinned();
  if (in.has_uid()) out.uid = in.uid().value();
  out.username = in.username();
  return out;
}

void ToProto(const AuthConfig& in, pb::AuthConfig* out) {
  out->set_username(in.username);
  out->set_password(in.password);
  out->set_auth(in.auth);
  out->set_server_address(in.server_address);
  out->set_identity_token(in.identity_token);
  out->set_registry_token(in.registry_token);
}

AuthConfig FromProto(const pb::AuthConfig& in) {
  return AuthConfig{in.username(),       in.password(),
                    in.auth(),           in.server_address(),
                    in.identity_token(), in.registry_token()};
}

void ToProto(const ContainerStatsInfo& in, pb::ContainerStats* out) {
  auto* a = out->mutable_attributes();
  a->set_id(in.id);
  a->mutable_metadata()->set_name(in.name);
  PutMap(in.labels, a->mutable_labels());
  out->mutable_cpu()->set_timestamp(in.timestamp);
  out->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(
      in.cpu_usage_core_nanoseconds);
  out->mutable_memory()->set_timestamp(in.timestamp);
  out->mutable_memory()->mutable_working_set_bytes()->set_value(
      in.memory_working_set_bytes);
  out->mutable_writable_layer()->set_timestamp(in.timestamp);
  out->mutable_writable_layer()->mutable_used_bytes()->set_value(
      in.writable_layer_used_bytes);
}

ContainerStatsInfo FromProto(const pb::ContainerStats& in) {
  ContainerStatsInfo out;
  out.id = in.attributes().id();
  out.name = in.attributes().metadata().name();
  out.labels = GetMap(in.attributes().labels());
  out.timestamp = in.cpu().timestamp();
  out.cpu_usage_core_nanoseconds = in.cpu().usage_core_nano_seconds().value();
  out.memory_working_set_bytes = in.memory().working_set_bytes().value();
  out.writable_layer_used_bytes = in.writable_layer().used_bytes().value();
  return out;
}

void ToProto(const RuntimeStatusInfo& in, pb::StatusResponse* out) {
  for (const auto& c : in.conditions) {
    auto* pc = out->mutable_status()->add_conditions();
    pc->set_type(c.type);
    pc->set_status(c.status);
    pc->set_reason(c.reason);
    pc->set_message(c.message);
  }
  for (const auto& h : in.handlers) {
    auto* ph = out->add_runtime_handlers();
    ph->set_name(h.name);
    ph->mutable_features()->set_recursive_read_only_mounts(
        h.recursive_read_only);
    ph->mutable_features()->set_user_namespaces(h.user_namespaces);
  }
}

RuntimeStatusInfo FromProto(const pb::StatusResponse& in) {
  RuntimeStatusInfo out;
  for (const auto& c : in.status().conditions()) {
    out.conditions.push_back(
        RuntimeCondition{c.type(), c.status(), c.reason(), c.message()});
  }
  for (const auto& h : in.runtime_handlers()) {
    out.handlers.push_back(
        RuntimeHandlerInfo{h.name(), h.features().recursive_read_only_mounts(),
                           h.features().user_namespaces()});
  }
  return out;
}

}  // namespace zun::cri::internal
