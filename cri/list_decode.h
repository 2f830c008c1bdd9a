// File: list_decode.h  (internal to cri/)
// Decodes the runtime's answers to ListPodSandbox and ListContainers from
// their wire bytes straight into SandboxInfo / ContainerInfo, keeping only
// what a ListProjection asks for.
//
// Why not the generated parser: a relist of 1,000 capsules receives 1,000
// sandboxes and 2,000 containers (about 1.7 MB from fake-cri). Parsed into
// the generated messages, every id, label key and value and annotation
// becomes a heap string, and converting to our types copies the kept ones
// again: the two calls took 10-11 ms of the relist thread's CPU on the bench
// machine, most of it in malloc and free, and 4-5 ms decoded here. Here
// protobuf's own CodedInputStream walks the bytes; field numbers come from
// the generated classes (runtime/v1/api.pb.h); only what is kept is copied.
//
// Contract: for any input the generated parser accepts, the result equals
// FromProto(parsed, keep) for each item (tests/unit/list_decode_test.cc
// checks this on random, merged, truncated and mutated encodings, and
// fuzz/cri_list_fuzz.cc on what libFuzzer finds). Unlike the generated
// parser, strings are not checked for valid UTF-8: a runtime that returns
// one odd label does not fail the whole relist. Unknown fields (groups
// too), and known field numbers with an unexpected wire type, are skipped,
// as the generated parser does. Returns INTERNAL on bytes that are not a
// message (cut short, a zero tag, an invalid wire type, a bad length, a
// group not closed by its own number).
//
// The compact decoders (listing_decode.cc) read the same answers into
// PodListing items: views into `bytes`, which must outlive them; the
// labels kept are the values of the first kListedLabels of `keys`. For any
// input the generated parser accepts, the result equals MakePodListing of
// the full decoders' (list_decode_test.cc, cri_list_fuzz.cc); they reject
// exactly what those reject, and then leave `out` as it was.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cri/pod_listing.h"
#include "cri/types.h"
#include "google/protobuf/io/zero_copy_stream.h"

namespace zun::cri::internal {

// `in` holds one runtime.v1.ListPodSandboxResponse.
absl::StatusOr<std::vector<SandboxInfo>> DecodeSandboxList(
    google::protobuf::io::ZeroCopyInputStream& in, const ListProjection& keep);

// `in` holds one runtime.v1.ListContainersResponse.
absl::StatusOr<std::vector<ContainerInfo>> DecodeContainerList(
    google::protobuf::io::ZeroCopyInputStream& in, const ListProjection& keep);

// `bytes` holds one ListPodSandboxResponse; its items are appended to *out.
absl::Status DecodeListedSandboxes(std::string_view bytes,
                                   const std::vector<std::string>& keys,
                                   std::vector<ListedSandbox>* out);

// `bytes` holds one ListContainersResponse; its items are appended to *out.
absl::Status DecodeListedContainers(std::string_view bytes,
                                    const std::vector<std::string>& keys,
                                    std::vector<ListedContainer>* out);

}  // namespace zun::cri::internal
