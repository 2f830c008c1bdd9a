// Pod sandbox stats between the CRI messages and the domain type.
#include "cri/convert.h"

namespace zun::cri::internal {

void ToProto(const SandboxStatsInfo& in, pb::PodSandboxStats* out) {
  auto* a = out->mutable_attributes();
  a->set_id(in.id);
  a->mutable_metadata()->set_name(in.name);
  a->mutable_metadata()->set_uid(in.uid);
  a->mutable_metadata()->set_namespace_(in.namespace_);
  a->mutable_labels()->insert(in.labels.begin(), in.labels.end());
  a->mutable_annotations()->insert(in.annotations.begin(),
                                   in.annotations.end());
  auto* linux = out->mutable_linux();
  linux->mutable_cpu()->set_timestamp(in.timestamp);
  linux->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(
      in.cpu_usage_core_nanoseconds);
  linux->mutable_memory()->set_timestamp(in.timestamp);
  linux->mutable_memory()->mutable_working_set_bytes()->set_value(
      in.memory_working_set_bytes);
  if (!in.interface_name.empty()) {
    auto* net = linux->mutable_network();
    net->set_timestamp(in.timestamp);
    auto* eth = net->mutable_default_interface();
    eth->set_name(in.interface_name);
    eth->mutable_rx_bytes()->set_value(in.rx_bytes);
    eth->mutable_tx_bytes()->set_value(in.tx_bytes);
  }
  linux->mutable_process()->set_timestamp(in.timestamp);
  linux->mutable_process()->mutable_process_count()->set_value(
      in.process_count);
  for (const ContainerStatsInfo& c : in.containers) {
    ToProto(c, linux->add_containers());
  }
}

SandboxStatsInfo FromProto(const pb::PodSandboxStats& in) {
  SandboxStatsInfo out;
  const auto& a = in.attributes();
  out.id = a.id();
  out.name = a.metadata().name();
  out.uid = a.metadata().uid();
  out.namespace_ = a.metadata().namespace_();
  out.labels = Labels(a.labels().begin(), a.labels().end());
  out.annotations = Labels(a.annotations().begin(), a.annotations().end());
  const auto& linux = in.linux();
  out.timestamp = linux.cpu().timestamp();
  out.cpu_usage_core_nanoseconds =
      linux.cpu().usage_core_nano_seconds().value();
  out.memory_working_set_bytes = linux.memory().working_set_bytes().value();
  out.interface_name = linux.network().default_interface().name();
  out.rx_bytes = linux.network().default_interface().rx_bytes().value();
  out.tx_bytes = linux.network().default_interface().tx_bytes().value();
  out.process_count = linux.process().process_count().value();
  for (const auto& c : linux.containers())
    out.containers.push_back(FromProto(c));
  return out;
}

}  // namespace zun::cri::internal
