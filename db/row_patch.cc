#include <set>

#include "db/capsule_store.h"

namespace zun::db {
namespace {

// Columns of `container` that the agent writes (contract §4.2 plus the
// statuses it keeps current). Anything else belongs to the API.
const std::set<std::string, std::less<>>& WritableColumns() {
  static const auto* cols = new std::set<std::string, std::less<>>{
      "container_id",  "status",         "status_reason", "status_detail",
      "task_state",    "host",           "addresses",     "cni_metadata",
      "image_driver",  "started_at",     "cpuset",        "disk",
      "websocket_url", "websocket_token"};
  return *cols;
}

const std::set<std::string, std::less<>>& JsonColumns() {
  static const auto* cols = new std::set<std::string, std::less<>>{
      "addresses",     "cni_metadata", "annotations",    "healthcheck",
      "exposed_ports", "cpuset",       "command",        "environment",
      "ports",         "labels",       "restart_policy", "security_groups",
      "entrypoint"};
  return *cols;
}

}  // namespace

bool IsWritableColumn(std::string_view column) {
  return WritableColumns().count(column) > 0;
}

bool IsJsonColumn(std::string_view column) {
  return JsonColumns().count(column) > 0;
}

RowPatch& RowPatch::Set(std::string_view column, nlohmann::json value) {
  values_[std::string(column)] = std::move(value);
  return *this;
}

RowPatch& RowPatch::ClearTaskStateIf(std::string_view expected) {
  clear_task_state_if_ = std::string(expected);
  return *this;
}

}  // namespace zun::db
