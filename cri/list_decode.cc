#include "cri/list_decode.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "runtime/v1/api.pb.h"

namespace zun::cri::internal {
namespace {

namespace pb = ::runtime::v1;
using google::protobuf::io::CodedInputStream;

// Wire types and map entry fields, from the protobuf encoding.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kFixed64 = 1;
constexpr uint32_t kLen = 2;
constexpr uint32_t kStartGroup = 3;
constexpr uint32_t kEndGroup = 4;
constexpr uint32_t kFixed32 = 5;
constexpr int kMapKey = 1;
constexpr int kMapValue = 2;

constexpr uint32_t Tag(int number, uint32_t wire_type) {
  return (static_cast<uint32_t>(number) << 3) | wire_type;
}

// Skips the field whose tag was just read (a group up to its end, nested
// no deeper than the stream's recursion limit); false on bad bytes.
bool SkipField(CodedInputStream& in, uint32_t tag) {
  switch (tag & 7) {
    case kStartGroup: {
      if (!in.IncrementRecursionDepth()) return false;
      for (;;) {
        const uint32_t inner = in.ReadTag();
        if (inner == 0) return false;
        if ((inner & 7) == kEndGroup) {
          in.DecrementRecursionDepth();
          return inner >> 3 == tag >> 3;
        }
        if (!SkipField(in, inner)) return false;
      }
    }
    case kVarint: {
      uint64_t v;
      return in.ReadVarint64(&v);
    }
    case kFixed64: {
      uint64_t v;
      return in.ReadLittleEndian64(&v);
    }
    case kLen: {
      int n;
      return in.ReadVarintSizeAsInt(&n) && in.Skip(n);
    }
    case kFixed32: {
      uint32_t v;
      return in.ReadLittleEndian32(&v);
    }
    default:
      return false;
  }
}

bool ReadString(CodedInputStream& in, std::string* out) {
  int n;
  return in.ReadVarintSizeAsInt(&n) && in.ReadString(out, n);
}

// Integers and enums (an enum's value converts through its int, as the
// generated parser's does).
template <typename T>
bool ReadVarint(CodedInputStream& in, T* out) {
  uint64_t v;
  if (!in.ReadVarint64(&v)) return false;
  *out = static_cast<T>(v);  // truncates, as the generated parser does
  return true;
}

// A string the projection may leave out: read when `wanted`, else skipped.
bool ReadStringIf(bool wanted, CodedInputStream& in, uint32_t tag,
                  std::string* out) {
  return wanted ? ReadString(in, out) : SkipField(in, tag);
}

// Calls field(tag) for each field of the length-delimited message that
// follows; `field` reads or skips it and returns false on bad bytes.
template <typename Fn>
bool ForEachField(CodedInputStream& in, Fn&& field) {
  int size;
  if (!in.ReadVarintSizeAsInt(&size)) return false;
  const CodedInputStream::Limit limit = in.PushLimit(size);
  bool ok = true;
  while (ok) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    ok = field(tag);
  }
  // The end must be the limit's, not the input's (a cut answer).
  ok = ok && in.ConsumedEntireMessage() && in.BytesUntilLimit() == 0;
  in.PopLimit(limit);
  return ok;
}

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
