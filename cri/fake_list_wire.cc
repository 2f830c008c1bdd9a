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

// Puts into `out` the items `visit_page` visits, page by page: a
// FakeRuntime visitor bound to its filter, `visit_page(after, limit,
// visit)`. `Item` is the items' message; its fixed fields are encoded the
// first time the item is listed.
template <class Item, class VisitPageFn>
void EncodeList(google::protobuf::Message* out, int items_field,
                VisitPageFn visit_page) {
  UnknownFieldSet* items = out->GetReflection()->MutableUnknownFields(out);
  ForEachPage([&](const std::string& after, size_t limit, std::string* last) {
    return visit_page(after, limit, [&](const auto& listed) {
      if (listed.wire.empty()) {
        Item fixed;
        internal::ToProto(listed.info(), &fixed);
        fixed.clear_state();
        listed.wire = fixed.SerializeAsString();
      }
      AppendItem(items, items_field, listed.wire, Item::kStateFieldNumber,
                 static_cast<int>(listed.state));
      *last = listed.id;
    });
  });
}

}  // namespace

void ListPodSandboxInto(FakeRuntime& rt, const SandboxFilter& filter,
                        pb::ListPodSandboxResponse* out) {
  EncodeList<pb::PodSandbox>(
      out, pb::ListPodSandboxResponse::kItemsFieldNumber,
      [&](const std::string& after, size_t limit, const auto& visit) {
        return rt.VisitPodSandboxes(filter, after, limit, visit);
      });
}

void ListContainersInto(FakeRuntime& rt, const ContainerFilter& filter,
                        pb::ListContainersResponse* out) {
  EncodeList<pb::Container>(
      out, pb::ListContainersResponse::kContainersFieldNumber,
      [&](const std::string& after, size_t limit, const auto& visit) {
        return rt.VisitContainers(filter, after, limit, visit);
      });
}

}  // namespace zun::cri::fake
