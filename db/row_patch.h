// File: row_patch.h
// `RowPatch`: typed writes to one `container` row, addressed by uuid. Only
// the fields the agent owns can be set (db/container_fields.h marks them), each
// through its own setter; db/ turns them into column values, formatting
// times itself. Setting a field twice keeps the last value.
//
// Value type; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "capsule/model.h"
#include "nlohmann/json.hpp"

namespace zun::db {

struct RowPatchTestPeer;  // tests write raw columns to check refusals

class RowPatch {
 public:
  explicit RowPatch(std::string uuid) : uuid_(std::move(uuid)) {}

  RowPatch& Status(std::string_view status);
  // nullopt writes NULL (clears).
  RowPatch& StatusReason(std::optional<std::string> reason);
  RowPatch& StatusDetail(std::optional<std::string> detail);
  // The CRI sandbox (capsule) or container (children) id; nullopt clears.
  RowPatch& ContainerId(std::optional<std::string> id);
  // Zun's JsonField columns: null writes NULL.
  RowPatch& Addresses(nlohmann::json addresses);
  RowPatch& CniMetadata(nlohmann::json metadata);
  RowPatch& StartedAt(absl::Time at);
  RowPatch& Host(std::string host);
  // Sets task_state to NULL, but only if it currently equals `expected`
  // (so the agent never clears a task state the API set meanwhile, such as
  // container_deleting).
  RowPatch& ClearTaskStateIf(std::string_view expected);

  const std::string& uuid() const { return uuid_; }
  // For db/: the column values, as the database stores them (JSON null is
  // SQL NULL; times are FormatDbTime text).
  const std::map<std::string, nlohmann::json, std::less<>>& values() const {
    return values_;
  }
  const std::optional<std::string>& clear_task_state_if() const {
    return clear_task_state_if_;
  }
  bool empty() const { return values_.empty() && !clear_task_state_if_; }

 private:
  friend struct RowPatchTestPeer;
  RowPatch& Column(std::string_view column, nlohmann::json value);

  std::string uuid_;
  std::map<std::string, nlohmann::json, std::less<>> values_;
  std::optional<std::string> clear_task_state_if_;
};

// Applies the values of `patch` to `record` as the database would (for
// in-memory copies of rows: the agent's registry and MemCapsuleStore).
void ApplyPatchTo(const RowPatch& patch, capsule::ContainerRecord& record);

// True if the agent may write `column` through a RowPatch.
bool IsWritableColumn(std::string_view column);
// True for columns stored as JSON text (JsonField and JSON-encoded lists and
// dicts).
bool IsJsonColumn(std::string_view column);

// "2026-11-26 22:10:01.123456" (UTC) <-> absl::Time: how the `container`
// table's DateTime columns are written and read.
std::optional<absl::Time> ParseDbTime(const std::string& text);
std::string FormatDbTime(absl::Time t);

}  // namespace zun::db
