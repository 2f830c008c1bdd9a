// cri/list_decode.h against the generated parser: for every encoding the
// generated parser accepts, the projected decode must equal FromProto of
// each parsed item, for every projection; the compact decoders must equal
// MakePodListing of the projected decode's items, and reject exactly what
// it rejects. Encodings: random lists, items
// sent as several merged pieces, unknown fields and unexpected wire types,
// every truncation, and random byte mutations (the sanitizer builds run
// these too).
#include "cri/list_decode.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cri/convert.h"

namespace zun::cri::internal {
namespace {

using google::protobuf::io::ArrayInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;

constexpr const char* kKeyA = "zun.openstack.org/capsule-uuid";
constexpr const char* kKeyB = "zun.openstack.org/container-uuid";

std::vector<ListProjection> Projections() {
  return {ListProjection{{}, true}, ListProjection{{kKeyA, kKeyB}, false},
          ListProjection{{kKeyB}, true}, ListProjection{{}, false}};
}

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  // Valid UTF-8 of 0..40 characters, some of them not ASCII.
  std::string Str() {
    static const char* kPieces[] = {"a", "Z", "0", "-", "/", ".", "é", "漢"};
    std::string s;
    for (int i = Int(0, 40); i > 0; --i) s += kPieces[Int(0, 7)];
    return s;
  }
  template <typename Map>
  void Labels(Map* m) {
    if (Int(0, 1)) (*m)[kKeyA] = Str();
    if (Int(0, 1)) (*m)[kKeyB] = Str();
    for (int i = Int(0, 4); i > 0; --i) (*m)[Str()] = Str();
  }
  pb::PodSandbox Sandbox() {
    pb::PodSandbox s;
    if (Int(0, 5)) s.set_id(Str());
    if (Int(0, 5)) {
      auto* md = s.mutable_metadata();
      md->set_name(Str());
      md->set_uid(Str());
      md->set_namespace_(Str());
      md->set_attempt(static_cast<uint32_t>(Int(0, 1 << 30)));
    }
    s.set_state(static_cast<pb::PodSandboxState>(Int(0, 1)));
    s.set_created_at(static_cast<int64_t>(Int(0, 1 << 30)) * Int(-9, 9999));
    Labels(s.mutable_labels());
    Labels(s.mutable_annotations());
    s.set_runtime_handler(Str());
    return s;
  }
  pb::Container Container() {
    pb::Container c;
    if (Int(0, 5)) c.set_id(Str());
    c.set_pod_sandbox_id(Str());
    if (Int(0, 5)) {
      c.mutable_metadata()->set_name(Str());
      c.mutable_metadata()->set_attempt(static_cast<uint32_t>(Int(0, 99)));
    }
    if (Int(0, 5)) {
      c.mutable_image()->set_image(Str());
      Labels(c.mutable_image()->mutable_annotations());
    }
    c.set_image_ref(Str());
    c.set_state(static_cast<pb::ContainerState>(Int(0, 3)));
    c.set_created_at(Int(0, 1 << 30));
    Labels(c.mutable_labels());
    Labels(c.mutable_annotations());
    c.set_image_id(Str());
    return c;
  }
  // Extra fields between an item's pieces: unknown numbers, known numbers
  // with an unexpected wire type (unknown fields to protobuf too), and
  // varints that land on the item's own varint fields.
  std::string Noise() {
    std::string out;
    StringOutputStream zs(&out);
    CodedOutputStream o(&zs);
    for (int i = Int(0, 3); i > 0; --i) {
      const uint32_t number =
          static_cast<uint32_t>(Int(0, 1) ? Int(1, 9) : Int(20, 500));
      switch (Int(0, 4)) {
        case 0:
          o.WriteTag(number << 3 | 0);
          o.WriteVarint64(static_cast<uint64_t>(Int(0, 1 << 30)) << Int(0, 30));
          break;
        case 1:
          o.WriteTag(number << 3 | 1);
          o.WriteLittleEndian64(42);
          break;
        case 2:
          o.WriteTag(number << 3 | 5);
          o.WriteLittleEndian32(7);
          break;
        case 3:  // a group (deprecated, but protobuf skips them)
          o.WriteTag(number << 3 | 3);
          o.WriteTag(7 << 3 | 3);
          o.WriteTag(1 << 3 | 0);
          o.WriteVarint32(5);
          o.WriteTag(7 << 3 | 4);
          o.WriteTag(number << 3 | 4);
          break;
        default:
          if (number <= 9) break;  // a known field's own type is not noise
          o.WriteTag(number << 3 | 2);
          o.WriteVarint32(3);
          o.WriteRaw("xyz", 3);
      }
    }
    o.Trim();
    return out;
  }

 private:
  std::mt19937 rng_;
};

std::string Show(const Labels& m) {
  std::string out = "{";
  for (const auto& [k, v] : m) out += k + "=" + v + ",";
  return out + "}";
}
// Every field, readable in a failed CHECK.
std::string Show(const SandboxInfo& s) {
  return absl::StrCat(s.id, "|", s.name, "|", s.uid, "|", s.namespace_, "|",
                      s.attempt, "|", static_cast<int>(s.state), "|",
                      s.created_at, "|", Show(s.labels), "|",
                      Show(s.annotations), "|", s.runtime_handler);
}
std::string Show(const ContainerInfo& c) {
  return absl::StrCat(c.id, "|", c.sandbox_id, "|", c.name, "|", c.attempt, "|",
                      c.image, "|", c.image_ref, "|", static_cast<int>(c.state),
                      "|", c.created_at, "|", Show(c.labels), "|",
                      Show(c.annotations));
}
std::string Show(const ListedSandbox& s) {
  return absl::StrCat(std::string(s.id), "|", s.attempt, "|",
                      static_cast<int>(s.state), "|", s.created_at, "|",
                      std::string(s.labels[0]), "|", std::string(s.labels[1]));
}
std::string Show(const ListedContainer& c) {
  return absl::StrCat(std::string(c.id), "|", std::string(c.sandbox_id), "|",
                      c.attempt, "|", static_cast<int>(c.state), "|",
                      c.created_at, "|", std::string(c.labels[0]), "|",
                      std::string(c.labels[1]));
}

// The compact decoders against MakePodListing of the full decoder's items
// (details off, the same label keys): the same acceptance and the same
// items, appended after what `out` held (kept as it was on an error).
template <typename Listed, typename Full, typename Compact, typename Pick>
void ListedAgree(const std::string& bytes, Full full, Compact compact,
                 Pick pick) {
  for (const ListProjection& p : Projections()) {
    const ListProjection keep{p.label_keys, false};
    ArrayInputStream in(bytes.data(), static_cast<int>(bytes.size()));
    auto items = full(in, keep);
    std::vector<Listed> got(1);
    got[0].attempt = 77;
    const absl::Status s = compact(bytes, keep.label_keys, &got);
    REQUIRE(s.ok() == items.ok());
    REQUIRE(!got.empty());
    CHECK(got[0].attempt == 77);
    if (!s.ok()) {
      CHECK(s.code() == absl::StatusCode::kInternal);
      CHECK(got.size() == 1);
      continue;
    }
    const std::vector<Listed>& want = pick(*items, keep.label_keys);
    REQUIRE(got.size() == want.size() + 1);
    for (size_t i = 0; i < want.size(); ++i) {
      CHECK(Show(got[i + 1]) == Show(want[i]));
    }
  }
}

void ListedSandboxesAgree(const std::string& bytes) {
  PodListing listing;  // holds what `want` views
  ListedAgree<ListedSandbox>(
      bytes, DecodeSandboxList, DecodeListedSandboxes,
      [&](const std::vector<SandboxInfo>& items,
          const std::vector<std::string>& keys) -> const auto& {
        listing = MakePodListing(items, keys, {}, {});
        return listing.sandboxes;
      });
}
void ListedContainersAgree(const std::string& bytes) {
  PodListing listing;
  ListedAgree<ListedContainer>(
      bytes, DecodeContainerList, DecodeListedContainers,
      [&](const std::vector<ContainerInfo>& items,
          const std::vector<std::string>& keys) -> const auto& {
        listing = MakePodListing({}, {}, items, keys);
        return listing.containers;
      });
}

// The list field (number 1 in both answers) written item by item, each
// item as the concatenation of its pieces (protobuf merges them).
std::string Encode(const std::vector<std::vector<std::string>>& items) {
  std::string out;
  StringOutputStream zs(&out);
  CodedOutputStream o(&zs);
  for (const std::vector<std::string>& pieces : items) {
    std::string item;
    for (const std::string& p : pieces) item += p;
    o.WriteTag(1 << 3 | 2);
    o.WriteVarint32(static_cast<uint32_t>(item.size()));
    o.WriteString(item);
  }
  o.Trim();
  return out;
}

// Both decoders on `bytes`: they agree whenever the generated parser
// accepts it. Returns whether it did.
template <typename Response, typename Info, typename Items, typename Decode>
bool Agree(const std::string& bytes, Items items, Decode decode) {
  Response parsed;
  const bool parsed_ok = parsed.ParseFromString(bytes);
  for (const ListProjection& keep : Projections()) {
    ArrayInputStream in(bytes.data(), static_cast<int>(bytes.size()));
    absl::StatusOr<std::vector<Info>> got = decode(in, keep);
    if (!parsed_ok) continue;  // ours may be more lenient (UTF-8)
    REQUIRE(got.ok());
    const auto& want = items(parsed);
    REQUIRE(got->size() == static_cast<size_t>(want.size()));
    for (int i = 0; i < want.size(); ++i) {
      CHECK(Show((*got)[static_cast<size_t>(i)]) ==
            Show(FromProto(want.Get(i), keep)));
    }
  }
  return parsed_ok;
}

bool SandboxesAgree(const std::string& bytes) {
  ListedSandboxesAgree(bytes);
  return Agree<pb::ListPodSandboxResponse, SandboxInfo>(
      bytes, [](const pb::ListPodSandboxResponse& r) -> const auto& {
        return r.items();
      },
      DecodeSandboxList);
}
bool ContainersAgree(const std::string& bytes) {
  ListedContainersAgree(bytes);
  return Agree<pb::ListContainersResponse, ContainerInfo>(
      bytes, [](const pb::ListContainersResponse& r) -> const auto& {
        return r.containers();
      },
      DecodeContainerList);
}

// A message's bytes with its maps in key order: protobuf's own order is
// seeded per process, and the same seed must give the same inputs.
std::string Bytes(const google::protobuf::MessageLite& m) {
  std::string out;
  {
    StringOutputStream zs(&out);
    CodedOutputStream o(&zs);
    o.SetSerializationDeterministic(true);
    m.SerializeToCodedStream(&o);
  }
  return out;
}

// Random lists, items in 1-3 merged pieces with noise between them.
std::string RandomList(Gen& g, bool sandboxes) {
  std::vector<std::vector<std::string>> items;
  for (int i = g.Int(0, 6); i > 0; --i) {
    std::vector<std::string>& pieces = items.emplace_back();
    for (int p = g.Int(1, 3); p > 0; --p) {
      pieces.push_back(sandboxes ? Bytes(g.Sandbox()) : Bytes(g.Container()));
      pieces.push_back(g.Noise());
    }
  }
  return Encode(items);
}

TEST_CASE("projected list decoding equals the generated parser's") {
  Gen g(20261205);
  for (int round = 0; round < 300; ++round) {
    REQUIRE(SandboxesAgree(RandomList(g, true)));
    REQUIRE(ContainersAgree(RandomList(g, false)));
  }
}

TEST_CASE("projected list decoding keeps only the labels asked for") {
  pb::ListContainersResponse r;
  pb::Container* c = r.add_containers();
  c->set_id("c1");
  (*c->mutable_labels())[kKeyA] = "capsule";
  (*c->mutable_labels())["other"] = "x";
  (*c->mutable_annotations())["note"] = "y";
  c->mutable_image()->set_image("busybox");
  const std::string bytes = r.SerializeAsString();
  ArrayInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  absl::StatusOr<std::vector<ContainerInfo>> got =
      DecodeContainerList(in, ListProjection{{kKeyA, kKeyB}, false});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK(got->front().id == "c1");
  CHECK(got->front().labels == Labels{{kKeyA, "capsule"}});
  CHECK(got->front().annotations.empty());
  CHECK(got->front().image.empty());
}

TEST_CASE("a compact listing keeps at most kListedLabels labels per item") {
  SandboxFilter sf;
  ContainerFilter cf;
  cf.keep.label_keys = {kKeyA, kKeyB};
  CHECK(CheckListPodsArgs(sf, cf).ok());
  sf.keep.label_keys = {kKeyA, kKeyB, "third"};
  CHECK(CheckListPodsArgs(sf, cf).code() == absl::StatusCode::kInvalidArgument);
  sf.keep.label_keys.pop_back();
  cf.keep.label_keys.push_back("third");
  CHECK(CheckListPodsArgs(sf, cf).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("projected list decoding rejects what is not a message") {
  Gen g(7);
  const std::string sandboxes = RandomList(g, true);
  const std::string containers = RandomList(g, false);
  // Every truncation: accepted exactly when the generated parser accepts.
  for (const auto& [bytes, sb] :
       {std::pair{sandboxes, true}, std::pair{containers, false}}) {
    for (size_t n = 0; n <= bytes.size(); ++n) {
      const std::string cut = bytes.substr(0, n);
      const bool parsed = sb ? SandboxesAgree(cut) : ContainersAgree(cut);
      ArrayInputStream in(cut.data(), static_cast<int>(cut.size()));
      const bool ours = sb ? DecodeSandboxList(in, {}).ok()
                           : DecodeContainerList(in, {}).ok();
      CHECK(ours == parsed);
    }
  }
  // Rejected by both: a cut item, a zero tag, an item longer than 2 GiB,
  // wire type 7, a group never ended, ended by another number, or an end
  // with no start.
  for (const std::string& bad :
       {std::string("\x0a\x05\x0a", 3), std::string("\x00", 1),
        std::string("\x0a\xff\xff\xff\xff\x0f", 6), std::string("\x0f", 1),
        std::string("\x0b", 1), std::string("\x0b\x14", 2),
        std::string("\x0c", 1)}) {
    CHECK_FALSE(pb::ListContainersResponse().ParseFromString(bad));
    ArrayInputStream in(bad.data(), static_cast<int>(bad.size()));
    CHECK(DecodeContainerList(in, {}).status().code() ==
          absl::StatusCode::kInternal);
    std::vector<ListedContainer> listed;
    CHECK(DecodeListedContainers(bad, {kKeyA}, &listed).code() ==
          absl::StatusCode::kInternal);
  }
  // An unknown group, even one on the items' own number, is skipped.
  const std::string group("\x0b\x08\x01\x0c", 4);
  ArrayInputStream in(group.data(), static_cast<int>(group.size()));
  CHECK(DecodeContainerList(in, {}).ok());
  CHECK(pb::ListContainersResponse().ParseFromString(group));
}

TEST_CASE("projected list decoding survives random mutations") {
  google::protobuf::LogSilencer quiet;  // the parser logs bad UTF-8
  Gen g(99);
  for (int round = 0; round < 200; ++round) {
    const bool sb = round % 2 == 0;
    std::string bytes = RandomList(g, sb);
    if (bytes.empty()) continue;
    for (int flips = g.Int(1, 4); flips > 0; --flips) {
      bytes[static_cast<size_t>(g.Int(0, static_cast<int>(bytes.size()) - 1))] =
          static_cast<char>(g.Int(0, 255));
    }
    sb ? SandboxesAgree(bytes) : ContainersAgree(bytes);
  }
}

}  // namespace
}  // namespace zun::cri::internal
