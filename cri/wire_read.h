// File: wire_read.h  (internal to cri/)
// Small readers over protobuf's CodedInputStream shared by the list
// decoders (list_decode.cc, listing_decode.cc): tags, skipping a field as
// the generated parser would, strings, varints, one length-delimited
// message field by field. Each returns false on bytes that are not a
// message. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "google/protobuf/io/coded_stream.h"

namespace zun::cri::internal::wire {

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
inline bool SkipField(CodedInputStream& in, uint32_t tag) {
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

inline bool ReadString(CodedInputStream& in, std::string* out) {
  int n;
  return in.ReadVarintSizeAsInt(&n) && in.ReadString(out, n);
}

// Integers and enums (an enum's value converts through its int, as the
// generated parser's does).
template <typename T>
inline bool ReadVarint(CodedInputStream& in, T* out) {
  uint64_t v;
  if (!in.ReadVarint64(&v)) return false;
  *out = static_cast<T>(v);  // truncates, as the generated parser does
  return true;
}

// A string the projection may leave out: read when `wanted`, else skipped.
inline bool ReadStringIf(bool wanted, CodedInputStream& in, uint32_t tag,
                         std::string* out) {
  return wanted ? ReadString(in, out) : SkipField(in, tag);
}

// Calls field(tag) for each field of the length-delimited message that
// follows; `field` reads or skips it and returns false on bad bytes.
template <typename Fn>
inline bool ForEachField(CodedInputStream& in, Fn&& field) {
  int size;
  if (!in.ReadVarintSizeAsInt(&size)) return false;
  const int start = in.CurrentPosition();
  const CodedInputStream::Limit limit = in.PushLimit(size);
  bool ok = true;
  while (ok) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    ok = field(tag);
  }
  // The end must be the limit's, not the input's (a cut answer). Counted
  // from the start: over an array, a limit past its end reads as reached.
  ok = ok && in.ConsumedEntireMessage() && in.BytesUntilLimit() == 0 &&
       in.CurrentPosition() - start == size;
  in.PopLimit(limit);
  return ok;
}

}  // namespace zun::cri::internal::wire
