// File: convert.h  (internal to cri/)
// Conversions between our domain types (cri/types.h) and the generated CRI
// runtime.v1 messages. Used by the gRPC client and by the fake runtime's gRPC
// service; never include this outside cri/. Pure functions, thread-safe.
#pragma once

#include "absl/status/status.h"
#include "cri/types.h"
#include "grpcpp/support/status.h"
#include "runtime/v1/api.pb.h"

namespace zun::cri::internal {

namespace pb = ::runtime::v1;

absl::Status FromGrpc(const grpc::Status& s);
grpc::Status ToGrpc(const absl::Status& s);

void ToProto(const PodSandboxConfig& in, pb::PodSandboxConfig* out);
PodSandboxConfig FromProto(const pb::PodSandboxConfig& in);

void ToProto(const ContainerConfig& in, pb::ContainerConfig* out);
ContainerConfig FromProto(const pb::ContainerConfig& in);

void ToProto(const LinuxResources& in, pb::LinuxContainerResources* out);
LinuxResources FromProto(const pb::LinuxContainerResources& in);
void MountToProto(const Mount& m, pb::Mount* out);
Mount MountFromProto(const pb::Mount& m);

void ToProto(const SandboxFilter& in, pb::PodSandboxFilter* out);
SandboxFilter FromProto(const pb::PodSandboxFilter& in);
void ToProto(const ContainerFilter& in, pb::ContainerFilter* out);
ContainerFilter FromProto(const pb::ContainerFilter& in);

void ToProto(const SandboxInfo& in, pb::PodSandbox* out);
SandboxInfo FromProto(const pb::PodSandbox& in,
                      const ListProjection& keep = {});
void ToProto(const SandboxStatusInfo& in, pb::PodSandboxStatus* out);
SandboxStatusInfo FromProto(const pb::PodSandboxStatus& in);

void ToProto(const ContainerInfo& in, pb::Container* out);
ContainerInfo FromProto(const pb::Container& in,
                        const ListProjection& keep = {});
void ToProto(const ContainerStatusInfo& in, pb::ContainerStatus* out);
ContainerStatusInfo FromProto(const pb::ContainerStatus& in);

void ToProto(const ImageInfo& in, pb::Image* out);
ImageInfo FromProto(const pb::Image& in);
void ToProto(const AuthConfig& in, pb::AuthConfig* out);
AuthConfig FromProto(const pb::AuthConfig& in);

void ToProto(const ContainerStatsInfo& in, pb::ContainerStats* out);
ContainerStatsInfo FromProto(const pb::ContainerStats& in);
// convert_stats.cc
void ToProto(const SandboxStatsInfo& in, pb::PodSandboxStats* out);
SandboxStatsInfo FromProto(const pb::PodSandboxStats& in);

void ToProto(const RuntimeStatusInfo& in, pb::StatusResponse* out);
RuntimeStatusInfo FromProto(const pb::StatusResponse& in);

}  // namespace zun::cri::internal
