#include "cri/list_decode.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "cri/wire_read.h"
#include "runtime/v1/api.pb.h"

namespace zun::cri::internal {
namespace {

namespace pb = ::runtime::v1;
using wire::CodedInputStream;
using wire::ForEachField;
using wire::kLen;
using wire::kMapKey;
using wire::kMapValue;
using wire::kVarint;
using wire::ReadString;
using wire::ReadStringIf;
using wire::ReadVarint;
using wire::SkipField;
using wire::Tag;

// Buffers reused for every map entry of a list.
struct Scratch {
  std::string key;
  std::string value;
};

// One map<string, string> entry into `out`: every entry when `keys` is
// null or empty, else only the keys it names. Later entries win.
bool ReadMapEntry(CodedInputStream& in, const std::vector<std::string>* keys,
                  Labels& out, Scratch& s) {
  s.key.clear();
  s.value.clear();
  const bool ok = ForEachField(in, [&](uint32_t tag) {
    if (tag == Tag(kMapKey, kLen)) return ReadString(in, &s.key);
    if (tag == Tag(kMapValue, kLen)) return ReadString(in, &s.value);
    return SkipField(in, tag);
  });
  if (!ok) return false;
  if (keys != nullptr && !keys->empty() &&
      std::find(keys->begin(), keys->end(), s.key) == keys->end()) {
    return true;
  }
  out.insert_or_assign(s.key, s.value);
  return true;
}

bool ReadSandboxMetadata(CodedInputStream& in, bool details, SandboxInfo& out) {
  using M = pb::PodSandboxMetadata;
  return ForEachField(in, [&](uint32_t tag) {
    switch (tag) {
      case Tag(M::kAttemptFieldNumber, kVarint):
        return ReadVarint(in, &out.attempt);
      case Tag(M::kNameFieldNumber, kLen):
        return ReadStringIf(details, in, tag, &out.name);
      case Tag(M::kUidFieldNumber, kLen):
        return ReadStringIf(details, in, tag, &out.uid);
      case Tag(M::kNamespaceFieldNumber, kLen):
        return ReadStringIf(details, in, tag, &out.namespace_);
      default:
        return SkipField(in, tag);
    }
  });
}

bool ReadSandbox(CodedInputStream& in, const ListProjection& keep, Scratch& s,
                 SandboxInfo& out) {
  using M = pb::PodSandbox;
  out.state = static_cast<SandboxState>(0);  // the wire's default
  return ForEachField(in, [&](uint32_t tag) {
    switch (tag) {
      case Tag(M::kIdFieldNumber, kLen):
        return ReadString(in, &out.id);
      case Tag(M::kMetadataFieldNumber, kLen):
        return ReadSandboxMetadata(in, keep.details, out);
      case Tag(M::kStateFieldNumber, kVarint):
        return ReadVarint(in, &out.state);
      case Tag(M::kCreatedAtFieldNumber, kVarint):
        return ReadVarint(in, &out.created_at);
      case Tag(M::kLabelsFieldNumber, kLen):
        return ReadMapEntry(in, &keep.label_keys, out.labels, s);
      case Tag(M::kAnnotationsFieldNumber, kLen):
        return keep.details ? ReadMapEntry(in, nullptr, out.annotations, s)
                            : SkipField(in, tag);
      case Tag(M::kRuntimeHandlerFieldNumber, kLen):
        return ReadStringIf(keep.details, in, tag, &out.runtime_handler);
      default:
        return SkipField(in, tag);
    }
  });
}

bool ReadContainerMetadata(CodedInputStream& in, bool details,
                           ContainerInfo& out) {
  using M = pb::ContainerMetadata;
  return ForEachField(in, [&](uint32_t tag) {
    switch (tag) {
      case Tag(M::kAttemptFieldNumber, kVarint):
        return ReadVarint(in, &out.attempt);
      case Tag(M::kNameFieldNumber, kLen):
        return ReadStringIf(details, in, tag, &out.name);
      default:
        return SkipField(in, tag);
    }
  });
}

bool ReadImageSpec(CodedInputStream& in, ContainerInfo& out) {
  return ForEachField(in, [&](uint32_t tag) {
    if (tag == Tag(pb::ImageSpec::kImageFieldNumber, kLen)) {
      return ReadString(in, &out.image);
    }
    return SkipField(in, tag);
  });
}

bool ReadContainer(CodedInputStream& in, const ListProjection& keep, Scratch& s,
                   ContainerInfo& out) {
  using M = pb::Container;
  out.state = static_cast<ContainerState>(0);  // the wire's default
  return ForEachField(in, [&](uint32_t tag) {
    switch (tag) {
      case Tag(M::kIdFieldNumber, kLen):
        return ReadString(in, &out.id);
      case Tag(M::kPodSandboxIdFieldNumber, kLen):
        return ReadString(in, &out.sandbox_id);
      case Tag(M::kMetadataFieldNumber, kLen):
        return ReadContainerMetadata(in, keep.details, out);
      case Tag(M::kImageFieldNumber, kLen):
        return keep.details ? ReadImageSpec(in, out) : SkipField(in, tag);
      case Tag(M::kImageRefFieldNumber, kLen):
        return ReadStringIf(keep.details, in, tag, &out.image_ref);
      case Tag(M::kStateFieldNumber, kVarint):
        return ReadVarint(in, &out.state);
      case Tag(M::kCreatedAtFieldNumber, kVarint):
        return ReadVarint(in, &out.created_at);
      case Tag(M::kLabelsFieldNumber, kLen):
        return ReadMapEntry(in, &keep.label_keys, out.labels, s);
      case Tag(M::kAnnotationsFieldNumber, kLen):
        return keep.details ? ReadMapEntry(in, nullptr, out.annotations, s)
                            : SkipField(in, tag);
      default:
        return SkipField(in, tag);
    }
  });
}

// The repeated field `items_field` of a list answer, each item read by
// read(in, scratch, item).
template <typename Info, typename ReadItem>
absl::StatusOr<std::vector<Info>> DecodeList(
    google::protobuf::io::ZeroCopyInputStream& stream, int items_field,
    const char* what, ReadItem&& read) {
  CodedInputStream in(&stream);
  std::vector<Info> out;
  Scratch scratch;
  bool ok = true;
  while (ok) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      ok = in.ConsumedEntireMessage();
      break;
    }
    ok = tag == Tag(items_field, kLen) ? read(in, scratch, out.emplace_back())
                                       : SkipField(in, tag);
  }
  if (!ok) {
    return absl::InternalError(absl::StrCat(
        "malformed ", what, " answer near byte ", in.CurrentPosition()));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<SandboxInfo>> DecodeSandboxList(
    google::protobuf::io::ZeroCopyInputStream& in, const ListProjection& keep) {
  return DecodeList<SandboxInfo>(
      in, pb::ListPodSandboxResponse::kItemsFieldNumber, "ListPodSandbox",
      [&](CodedInputStream& c, Scratch& s, SandboxInfo& item) {
        return ReadSandbox(c, keep, s, item);
      });
}

absl::StatusOr<std::vector<ContainerInfo>> DecodeContainerList(
    google::protobuf::io::ZeroCopyInputStream& in, const ListProjection& keep) {
  return DecodeList<ContainerInfo>(
      in, pb::ListContainersResponse::kContainersFieldNumber, "ListContainers",
      [&](CodedInputStream& c, Scratch& s, ContainerInfo& item) {
        return ReadContainer(c, keep, s, item);
      });
}

}  // namespace zun::cri::internal
