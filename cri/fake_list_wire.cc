#include "cri/fake_list_wire.h"

#include <string>

#include "cri/convert.h"
#include "google/protobuf/unknown_field_set.h"

namespace zun::cri::fake {
namespace {

namespace pb = ::runtime::v1;
using google::protobuf::UnknownFieldSet;

// Takes a list from the runtime page by page: `visit_page(after, limit,
// &last)` visits one page of items with ids after `after`, sets `last` to
// the last one's id and returns the page's size.
template <class VisitPageFn>
void ForEachPage(VisitPageFn visit_page) {
  std::string after;
  for (;;) {
    std::string last;
    if (visit_page(after, kListPage, &last) < kListPage) return;
    after = std::move(last);
  }
}

// One item into `out`: its fixed fields' encoding, then its state (field
// `state_field`, a varint, left out when 0 as proto3 leaves defaults out).
void AppendItem(UnknownFieldSet* out, int items_field, const std::string& fixed,
                int state_field, int state) {
  std::string* item = out->AddLengthDelimited(items_field);
  item->reserve(fixed.size() + 2);
  item->append(fixed);
  if (state != 0) {
    // Both states' values are below 128: a one-byte varint.
    item->push_back(static_cast<char>(state_field << 3));
    item->push_back(static_cast<char>(state));
  }
}

}  // namespace

void ListPodSandboxInto(FakeRuntime& rt, const SandboxFilter& filter,
                        pb::ListPodSandboxResponse* out) {
  UnknownFieldSet* items = out->GetReflection()->MutableUnknownFields(out);
  ForEachPage([&](const std::string& after, size_t limit, std::string* last) {
    return rt.VisitPodSandboxes(
        filter, after, limit, [&](const FakeRuntime::ListedSandbox& sb) {
          if (sb.wire.empty()) {
            pb::PodSandbox fixed;
            internal::ToProto(sb.info, &fixed);
            fixed.clear_state();
            sb.wire = fixed.SerializeAsString();
          }
          AppendItem(items, pb::ListPodSandboxResponse::kItemsFieldNumber,
                     sb.wire, pb::PodSandbox::kStateFieldNumber,
                     static_cast<int>(sb.info.state));
          *last = sb.info.id;
        });
  });
}

void ListContainersInto(FakeRuntime& rt, const ContainerFilter& filter,
                        pb::ListContainersResponse* out) {
  UnknownFieldSet* items = out->GetReflection()->MutableUnknownFields(out);
  ForEachPage([&](const std::string& after, size_t limit, std::string* last) {
    return rt.VisitContainers(
        filter, after, limit, [&](const FakeRuntime::ListedContainer& c) {
          if (c.wire.empty()) {
            pb::Container fixed;
            internal::ToProto(c.info(), &fixed);
            fixed.clear_state();
            c.wire = fixed.SerializeAsString();
          }
          AppendItem(items, pb::ListContainersResponse::kContainersFieldNumber,
                     c.wire, pb::Container::kStateFieldNumber,
                     static_cast<int>(c.state));
          *last = c.id;
        });
  });
}

}  // namespace zun::cri::fake
