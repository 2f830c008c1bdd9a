// libFuzzer target: the runtime's answers to ListPodSandbox (first byte
// even) and ListContainers (odd), the rest of the input being the answer's
// bytes, as cri/list_decode.h decodes them. Any bytes: no crash, no leak.
// Bytes the generated parser accepts: the same items as FromProto gives,
// for every projection. Any bytes: the compact decoders accept exactly
// what the full ones accept (details off), with the items MakePodListing
// makes of theirs. A difference aborts.
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <tuple>
#include <vector>

#include "cri/convert.h"
#include "cri/list_decode.h"
#include "cri/pod_listing.h"
#include "fuzz/fuzz_common.h"

namespace {

namespace cri = ::zun::cri;
namespace pb = ::runtime::v1;

auto Fields(const cri::SandboxInfo& s) {
  return std::tie(s.id, s.name, s.uid, s.namespace_, s.attempt, s.state,
                  s.created_at, s.labels, s.annotations, s.runtime_handler);
}
auto Fields(const cri::ContainerInfo& c) {
  return std::tie(c.id, c.sandbox_id, c.name, c.attempt, c.image, c.image_ref,
                  c.state, c.created_at, c.labels, c.annotations);
}

auto Fields(const cri::ListedSandbox& s) {
  return std::tie(s.id, s.attempt, s.state, s.created_at, s.labels);
}
auto Fields(const cri::ListedContainer& c) {
  return std::tie(c.id, c.sandbox_id, c.attempt, c.state, c.created_at,
                  c.labels);
}

template <typename Listed, typename Full, typename Compact, typename Pick>
void CheckListed(const std::string& bytes, Full full, Compact compact,
                 Pick pick) {
  static const std::vector<std::vector<std::string>> kKeys = {
      {},
      {"zun.openstack.org/capsule-uuid", "zun.openstack.org/container-uuid"},
      {"a"}};
  for (const std::vector<std::string>& keys : kKeys) {
    google::protobuf::io::ArrayInputStream in(bytes.data(),
                                              static_cast<int>(bytes.size()));
    auto items = full(in, cri::ListProjection{keys, false});
    std::vector<Listed> got;
    const bool ok = compact(bytes, keys, &got).ok();
    if (ok != items.ok() || (!ok && !got.empty())) abort();
    if (!ok) continue;
    cri::PodListing listing;
    const std::vector<Listed>& want = pick(listing, *items, keys);
    if (got.size() != want.size()) abort();
    for (size_t i = 0; i < want.size(); ++i) {
      if (Fields(got[i]) != Fields(want[i])) abort();
    }
  }
}

template <typename Response, typename Items, typename Decode>
void Check(const std::string& bytes, Items items, Decode decode) {
  static const std::vector<cri::ListProjection> kProjections = {
      {{}, true},
      {{"zun.openstack.org/capsule-uuid", "zun.openstack.org/container-uuid"},
       false},
      {{"a"}, true}};
  Response parsed;
  const bool parsed_ok = parsed.ParseFromString(bytes);
  for (const cri::ListProjection& keep : kProjections) {
    google::protobuf::io::ArrayInputStream in(bytes.data(),
                                              static_cast<int>(bytes.size()));
    auto got = decode(in, keep);
    if (!parsed_ok) continue;  // ours may accept more (no UTF-8 check)
    const auto& want = items(parsed);
    if (!got.ok() || got->size() != static_cast<size_t>(want.size())) abort();
    for (int i = 0; i < want.size(); ++i) {
      if (Fields((*got)[static_cast<size_t>(i)]) !=
          Fields(cri::internal::FromProto(want.Get(i), keep))) {
        abort();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zun::fuzz::Quiet();
  static auto* const quiet = new google::protobuf::LogSilencer();  // bad UTF-8
  (void)quiet;
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    Check<pb::ListPodSandboxResponse>(
        bytes, [](const pb::ListPodSandboxResponse& r) -> const auto& {
          return r.items();
        },
        cri::internal::DecodeSandboxList);
    CheckListed<cri::ListedSandbox>(
        bytes, cri::internal::DecodeSandboxList,
        cri::internal::DecodeListedSandboxes,
        [](cri::PodListing & l, const std::vector<cri::SandboxInfo>& items,
           const std::vector<std::string>& keys) -> const auto& {
          l = cri::MakePodListing(items, keys, {}, {});
          return l.sandboxes;
        });
  } else {
    Check<pb::ListContainersResponse>(
        bytes, [](const pb::ListContainersResponse& r) -> const auto& {
          return r.containers();
        },
        cri::internal::DecodeContainerList);
    CheckListed<cri::ListedContainer>(
        bytes, cri::internal::DecodeContainerList,
        cri::internal::DecodeListedContainers,
        [](cri::PodListing & l, const std::vector<cri::ContainerInfo>& items,
           const std::vector<std::string>& keys) -> const auto& {
          l = cri::MakePodListing({}, {}, items, keys);
          return l.containers;
        });
  }
  return 0;
}
