// File: fake_list_wire.h  (internal to cri/)
// fake-cri's list answers, built cheaply. A relist of a full node asks for
// thousands of items (1,000 sandboxes and 2,000 containers, about 1.7 MB),
// and building them as protobuf messages cost fake-cri about 18 ms of CPU
// per relist: more than the agent spent on the whole relist, on the two
// cores a benchmark shares with it. Every field of a listed item but its
// state is fixed once the item exists, so each item's fixed fields are
// encoded once, kept with the item (FakeRuntime::ListedSandbox::wire), and
// an answer is those bytes with the current state appended: the same wire
// format a generated serialiser writes (the fields of a message may come in
// any order), carried as the answer's unknown fields under the items'
// field number.
//
// Pure functions over a FakeRuntime (thread-safe); the answer is the
// caller's.
#pragma once

#include "cri/fake_runtime.h"
#include "runtime/v1/api.pb.h"

namespace zun::cri::fake {

// Items a list takes from the runtime at a time: the runtime is held for a
// page, not for the whole list, so that other calls get it in between.
inline constexpr size_t kListPage = 64;

// The sandboxes of `rt` that match `filter`, in id order, into `out`.
void ListPodSandboxInto(FakeRuntime& rt, const SandboxFilter& filter,
                        ::runtime::v1::ListPodSandboxResponse* out);

// The containers of `rt` that match `filter`, in id order, into `out`.
void ListContainersInto(FakeRuntime& rt, const ContainerFilter& filter,
                        ::runtime::v1::ListContainersResponse* out);

}  // namespace zun::cri::fake
