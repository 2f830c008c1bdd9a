// File: row_codec.h  (internal to db/)
// Decoding of `container` rows into capsule::ContainerRecord, and encoding
// of RowPatch values into SQL parameters. Zun stores lists and dicts as JSON
// text; a value that does not decode is reported as INVALID_ARGUMENT naming
// the row and column (bad data written by someone else must not crash us).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "capsule/model.h"
#include "db/row_patch.h"
#include "nlohmann/json.hpp"
#include "pqxx/pqxx"

namespace zun::db {

// The SELECT list matching DecodeContainerRow (every field of
// db/container_fields.h).
const std::string& ContainerColumns();

absl::StatusOr<capsule::ContainerRecord> DecodeContainerRow(
    const pqxx::row& row);

// The SQL parameter text for writing `value` into `column` (nullopt = NULL).
absl::StatusOr<std::optional<std::string>> EncodeColumnValue(
    const std::string& column, const nlohmann::json& value);

}  // namespace zun::db
