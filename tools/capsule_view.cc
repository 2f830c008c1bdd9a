#include "tools/capsule_view.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "db/container_fields.h"
#include "rpc/zun_object.h"

namespace zun::tools {
namespace {

using capsule::ContainerRecord;
using OJson = nlohmann::ordered_json;

// A field as the view shows it, by the member's type: JsonField values
// that are unset show as {}.
struct ToView {
  OJson operator()(const nlohmann::json& v) const {
    return v.is_null() ? OJson::object() : OJson::parse(v.dump());
  }
  OJson operator()(const std::optional<absl::Time>& v) const {
    return v ? OJson(rpc::FormatObjectTime(*v)) : OJson();
  }
  OJson operator()(const capsule::ContainerType& v) const {
    return static_cast<int>(v);
  }
  template <typename T>
  OJson operator()(const std::optional<T>& v) const {
    return v ? OJson(*v) : OJson();
  }
  template <typename T>
  OJson operator()(const T& v) const {
    return v;
  }
};

// The fields of `r` the view shows in `where`, in the table's order.
OJson FieldsJson(const ContainerRecord& r, db::ViewIn where) {
  OJson j = OJson::object();
  for (const db::Field& f : db::ContainerFields()) {
    if ((f.view & where) == 0) continue;
    const std::string_view key = f.view_name.empty() ? f.name : f.view_name;
    j[std::string(key)] = db::VisitField(f, r, ToView{});
  }
  return j;
}

// Fixed-width columns, the last one unpadded.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size())
        out += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += "\n";
  }
  return out;
}

}  // namespace

std::string AddressList(const nlohmann::json& addresses) {
  std::vector<std::string> ips;
  if (addresses.is_object()) {
    for (const auto& [net, list] : addresses.items()) {
      if (!list.is_array()) continue;
      for (const auto& a : list) {
        if (a.is_object() && a.contains("addr") && a["addr"].is_string()) {
          ips.push_back(a["addr"].get<std::string>());
        }
      }
    }
  }
  return ips.empty() ? "-" : absl::StrJoin(ips, ",");
}

nlohmann::ordered_json CapsuleJson(const capsule::Capsule& c) {
  OJson j = FieldsJson(c.record, db::kViewCapsule);
  j["init_containers"] = OJson::array();
  for (const auto& k : c.init_containers) {
    j["init_containers"].push_back(FieldsJson(k, db::kViewChild));
  }
  j["containers"] = OJson::array();
  for (const auto& k : c.containers) {
    j["containers"].push_back(FieldsJson(k, db::kViewChild));
  }
  return j;
}

std::string CapsuleTable(const std::vector<capsule::Capsule>& capsules) {
  std::vector<std::vector<std::string>> rows = {
      {"UUID", "NAME", "STATUS", "HOST", "ADDRESSES", "CONTAINERS"}};
  for (const auto& c : capsules) {
    const ContainerRecord& r = c.record;
    std::string status = r.status.value_or("-");
    if (r.task_state) absl::StrAppend(&status, " (", *r.task_state, ")");
    rows.push_back(
        {r.uuid, r.name.value_or("-"), status, r.host.value_or("-"),
         AddressList(r.addresses),
         absl::StrCat(c.init_containers.size() + c.containers.size())});
  }
  return Table(rows);
}

std::string CapsuleDetail(const capsule::Capsule& c) {
  const ContainerRecord& r = c.record;
  std::vector<std::vector<std::string>> fields = {
      {"uuid", r.uuid},
      {"name", r.name.value_or("-")},
      {"status", r.status.value_or("-")},
      {"status_reason", r.status_reason.value_or("-")},
      {"task_state", r.task_state.value_or("-")},
      {"host", r.host.value_or("-")},
      {"addresses", AddressList(r.addresses)},
      {"cpu", r.cpu ? absl::StrCat(*r.cpu) : "-"},
      {"memory", r.memory ? *r.memory + " MiB" : "-"},
      {"restart_policy",
       r.restart_policy.count("Name") ? r.restart_policy.at("Name") : "-"},
      {"sandbox", r.container_id.value_or("-")}};
  std::string out = Table(fields);
  std::vector<std::vector<std::string>> rows = {
      {"KIND", "NAME", "IMAGE", "STATUS", "DETAIL", "REASON"}};
  for (const auto* list : {&c.init_containers, &c.containers}) {
    for (const ContainerRecord& k : *list) {
      rows.push_back({list == &c.init_containers ? "init" : "container",
                      k.name.value_or("-"), k.image.value_or("-"),
                      k.status.value_or("-"), k.status_detail.value_or("-"),
                      k.status_reason.value_or("-")});
    }
  }
  return out + "\n" + Table(rows);
}

}  // namespace zun::tools
