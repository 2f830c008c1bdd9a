// The compact list decoders of list_decode.h: items as views into the
// answer's own bytes (PodListing).
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "cri/list_decode.h"
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
using wire::ReadVarint;
using wire::SkipField;
using wire::Tag;

// A length-delimited string as a view into `base`, the start of the bytes
// `in` reads (an array stream: positions are offsets into them).
bool ReadView(CodedInputStream& in, const char* base, std::string_view* out) {
  int n;
  if (!in.ReadVarintSizeAsInt(&n)) return false;
  const int at = in.CurrentPosition();
  if (!in.Skip(n)) return false;
  *out = std::string_view(base + at, static_cast<size_t>(n));
  return true;
}

using Kept = std::array<std::string_view, kListedLabels>;

// One map<string, string> entry: its value goes to out[i] when its key is
// keys[i]. Later entries win, as in a map.
bool ReadLabel(CodedInputStream& in, const char* base,
               const std::vector<std::string>& keys, Kept& out) {
  std::string_view key, value;
  const bool ok = ForEachField(in, [&](uint32_t tag) {
    if (tag == Tag(kMapKey, kLen)) return ReadView(in, base, &key);
    if (tag == Tag(kMapValue, kLen)) return ReadView(in, base, &value);
    return SkipField(in, tag);
  });
  if (!ok) return false;
  const size_t n = std::min(keys.size(), kListedLabels);
  for (size_t i = 0; i < n; ++i) {
    if (key == keys[i]) out[i] = value;
  }
  return true;
}

// The attempt (field `number`) of a PodSandboxMetadata or ContainerMetadata.
bool ReadAttempt(CodedInputStream& in, int number, uint32_t* attempt) {
  return ForEachField(in, [&](uint32_t tag) {
    if (tag == Tag(number, kVarint)) return ReadVarint(in, attempt);
    return SkipField(in, tag);
  });
}

bool ReadSandbox(CodedInputStream& in, const char* base,
                 const std::vector<std::string>& keys, ListedSandbox& out) {
  using M = pb::PodSandbox;
  return ForEachField(in, [&](uint32_t tag) {
    switch (tag) {
      case Tag(M::kIdFieldNumber, kLen):
        return ReadView(in, base, &out.id);
      case Tag(M::kMetadataFieldNumber, kLen):
        return ReadAttempt(in, pb::PodSandboxMetadata::kAttemptFieldNumber,
                           &out.attempt);
      case Tag(M::kStateFieldNumber, kVarint):
        return ReadVarint(in, &out.state);
      case Tag(M::kCreatedAtFieldNumber, kVarint):
        return ReadVarint(in, &out.created_at);
      case Tag(M::kLabelsFieldNumber, kLen):
        return ReadLabel(in, base, keys, out.labels);
      default:
        return SkipField(in, tag);
    }
  });
}

bool ReadContainer(CodedInputStream& in, const char* base,
                   const std::vector<std::string>& keys, ListedContainer& out) {
  using M = pb::Container;
  return ForEachField(in, [&](uint32_t tag) {
    switch (tag) {
      case Tag(M::kIdFieldNumber, kLen):
        return ReadView(in, base, &out.id);
      case Tag(M::kPodSandboxIdFieldNumber, kLen):
        return ReadView(in, base, &out.sandbox_id);
      case Tag(M::kMetadataFieldNumber, kLen):
        return ReadAttempt(in, pb::ContainerMetadata::kAttemptFieldNumber,
                           &out.attempt);
      case Tag(M::kStateFieldNumber, kVarint):
        return ReadVarint(in, &out.state);
      case Tag(M::kCreatedAtFieldNumber, kVarint):
        return ReadVarint(in, &out.created_at);
      case Tag(M::kLabelsFieldNumber, kLen):
        return ReadLabel(in, base, keys, out.labels);
      default:
        return SkipField(in, tag);
    }
  });
}

// The repeated field `items_field` of a list answer, each item appended to
// `out` by read(in, base, item). On error `out` is left as it was.
template <typename Item, typename ReadItem>
absl::Status DecodeListed(std::string_view bytes, int items_field,
                          const char* what, std::vector<Item>* out,
                          ReadItem&& read) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InternalError(absl::StrCat(what, " answer over 2 GiB"));
  }
  const size_t size0 = out->size();
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  bool ok = true;
  while (ok) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      ok = in.ConsumedEntireMessage();
      break;
    }
    ok = tag == Tag(items_field, kLen)
             ? read(in, bytes.data(), out->emplace_back())
             : SkipField(in, tag);
  }
  if (ok) return absl::OkStatus();
  out->resize(size0);
  return absl::InternalError(absl::StrCat(
      "malformed ", what, " answer near byte ", in.CurrentPosition()));
}

}  // namespace

absl::Status DecodeListedSandboxes(std::string_view bytes,
                                   const std::vector<std::string>& keys,
                                   std::vector<ListedSandbox>* out) {
  return DecodeListed(
      bytes, pb::ListPodSandboxResponse::kItemsFieldNumber, "ListPodSandbox",
      out, [&](CodedInputStream& in, const char* base, ListedSandbox& item) {
        return ReadSandbox(in, base, keys, item);
      });
}

absl::Status DecodeListedContainers(std::string_view bytes,
                                    const std::vector<std::string>& keys,
                                    std::vector<ListedContainer>* out) {
  return DecodeListed(
      bytes, pb::ListContainersResponse::kContainersFieldNumber,
      "ListContainers", out,
      [&](CodedInputStream& in, const char* base, ListedContainer& item) {
        return ReadContainer(in, base, keys, item);
      });
}

}  // namespace zun::cri::internal
