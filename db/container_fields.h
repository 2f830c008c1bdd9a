// File: container_fields.h
// The columns of Zun's `container` table, described once: each column (and
// the field of the oslo object of the same name, zun/objects/container.py)
// with the ContainerRecord member that holds it and how it is stored and
// shown. db/ owns the column names; this part of it has no libpqxx, so rpc/
// and tools/ link it alone (library zun_db_fields). The database codec, the
// agent's write check, the object encoder and decoder, and zun-capsule's view
// all walk this table; nothing else lists the columns.
//
// Immutable after first use; safe to read from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "capsule/model.h"
#include "nlohmann/json.hpp"

namespace zun::db {

using capsule::ContainerRecord;
using capsule::ContainerType;
using capsule::StringMap;

// Where a field lives in the record. Every member type is distinct, so a
// visitor dispatches on the type and never on the name.
using FieldMember = std::variant<
    int64_t ContainerRecord::*, std::string ContainerRecord::*,
    ContainerType ContainerRecord::*, std::optional<int64_t> ContainerRecord::*,
    std::optional<std::string> ContainerRecord::*,
    std::optional<double> ContainerRecord::*, bool ContainerRecord::*,
    std::vector<std::string> ContainerRecord::*,
    std::vector<int64_t> ContainerRecord::*, StringMap ContainerRecord::*,
    nlohmann::json ContainerRecord::*,
    std::optional<absl::Time> ContainerRecord::*>;

// How the oslo object carries the field.
enum class ObjectForm {
  kNone,       // not an object field (the type is the object's name)
  kPlain,      // the value itself (times as "%Y-%m-%dT%H:%M:%SZ")
  kJsonField,  // Zun's JsonField: JSON text in a string
  kCpuset,     // a nested zun Cpuset object
  kChildOnly,  // plain, and only on capsule (init) containers
};

// Where zun-capsule's `show --json` prints the field.
enum ViewIn : uint8_t {
  kViewNone = 0,
  kViewCapsule = 1,  // on the capsule
  kViewChild = 2,    // on each (init) container
};

struct Field {
  std::string_view name;  // the column and the object field
  FieldMember member;
  // Stored as JSON text in the database (lists, dicts, JsonField).
  bool json_text = false;
  // The agent may write it (contract §4.2 and the statuses it keeps
  // current); every other column belongs to zun-api.
  bool agent_writes = false;
  ObjectForm object = ObjectForm::kPlain;
  uint8_t view = kViewNone;
  // The key in the view when it is not `name`.
  std::string_view view_name = {};
};

// Every field, in the order of Zun's object (the encoder's order).
const std::vector<Field>& ContainerFields();

// The field called `name`, or nullptr.
const Field* FindField(std::string_view name);

// Calls `visit(member_reference)` with the record's member for `field`.
template <typename Record, typename Visitor>
decltype(auto) VisitField(const Field& field, Record& record, Visitor&& visit) {
  return std::visit(
      [&](auto member) -> decltype(auto) { return visit(record.*member); },
      field.member);
}

}  // namespace zun::db
