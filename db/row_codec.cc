#include "db/row_codec.h"

#include "absl/strings/str_cat.h"
#include "db/capsule_store.h"
#include "db/container_fields.h"

namespace zun::db {
namespace {

using capsule::ContainerRecord;

std::optional<std::string> Str(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str(), f.size());
}

bool Bool(const pqxx::field& f) { return !f.is_null() && f.as<bool>(); }

template <typename T>
std::optional<T> Num(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}

absl::Status Bad(const ContainerRecord& r, const char* column,
                 const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("row '", r.uuid, "': column ", column, " ", why));
}

absl::StatusOr<nlohmann::json> Json(const ContainerRecord& r,
                                    const char* column, const pqxx::field& f) {
  if (f.is_null()) return nlohmann::json();
  nlohmann::json j = nlohmann::json::parse(f.c_str(), nullptr, false);
  if (j.is_discarded()) return Bad(r, column, "is not valid JSON");
  return j;
}

absl::Status DecodeList(const ContainerRecord& r, const char* column,
                        const pqxx::field& f, std::vector<std::string>* out) {
  absl::StatusOr<nlohmann::json> j = Json(r, column, f);
  if (!j.ok()) return j.status();
  if (j->is_null()) return absl::OkStatus();
  if (!j->is_array()) return Bad(r, column, "is not a JSON list");
  for (const auto& v : *j) {
    if (v.is_string()) {
      out->push_back(v.get<std::string>());
    } else if (v.is_number() || v.is_boolean()) {
      out->push_back(v.dump());  // Zun converts command items with str()
    } else {
      return Bad(r, column, "holds a non-string item");
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeDict(const ContainerRecord& r, const char* column,
                        const pqxx::field& f, capsule::StringMap* out) {
  absl::StatusOr<nlohmann::json> j = Json(r, column, f);
  if (!j.ok()) return j.status();
  if (j->is_null()) return absl::OkStatus();
  if (!j->is_object()) return Bad(r, column, "is not a JSON dict");
  for (const auto& [k, v] : j->items()) {
    if (v.is_string()) {
      (*out)[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      (*out)[k] = v.dump();
    } else if (v.is_null()) {
      (*out)[k] = "";
    } else {
      return Bad(r, column,
                 absl::StrCat("has a non-string value for '", k, "'"));
    }
  }
  return absl::OkStatus();
}

// Sets a member from its column, by the member's type.
struct FromField {
  const ContainerRecord& r;  // for error messages (uuid decoded first)
  const char* column;
  const pqxx::field& f;
  absl::Status operator()(int64_t& m) const {
    m = f.as<int64_t>();
    return absl::OkStatus();
  }
  absl::Status operator()(std::string& m) const {
    m = f.is_null() ? "" : f.c_str();
    return absl::OkStatus();
  }
  absl::Status operator()(capsule::ContainerType& m) const {
    m = static_cast<capsule::ContainerType>(f.as<int>());
    return absl::OkStatus();
  }
  absl::Status operator()(std::optional<int64_t>& m) const {
    m = Num<int64_t>(f);
    return absl::OkStatus();
  }
  absl::Status operator()(std::optional<std::string>& m) const {
    m = Str(f);
    return absl::OkStatus();
  }
  absl::Status operator()(std::optional<double>& m) const {
    m = Num<double>(f);
    return absl::OkStatus();
  }
  absl::Status operator()(bool& m) const {
    m = Bool(f);
    return absl::OkStatus();
  }
  absl::Status operator()(std::vector<std::string>& m) const {
    return DecodeList(r, column, f, &m);
  }
  absl::Status operator()(std::vector<int64_t>& m) const {
    absl::StatusOr<nlohmann::json> j = Json(r, column, f);
    if (!j.ok()) return j.status();
    if (j->is_array()) {
      for (const auto& p : *j) {
        if (p.is_number_integer()) m.push_back(p.get<int64_t>());
      }
    }
    return absl::OkStatus();
  }
  absl::Status operator()(capsule::StringMap& m) const {
    return DecodeDict(r, column, f, &m);
  }
  absl::Status operator()(nlohmann::json& m) const {
    absl::StatusOr<nlohmann::json> j = Json(r, column, f);
    if (!j.ok()) return j.status();
    m = *std::move(j);
    return absl::OkStatus();
  }
  absl::Status operator()(std::optional<absl::Time>& m) const {
    std::optional<std::string> s = Str(f);
    m = s ? ParseDbTime(*s) : std::nullopt;
    return absl::OkStatus();
  }
};

std::string SelectList() {
  std::string out;
  for (const Field& field : ContainerFields()) {
    if (!out.empty()) out += ", ";
    out += field.name;
  }
  return out;
}

}  // namespace

const std::string& ContainerColumns() {
  static const auto* list = new std::string(SelectList());
  return *list;
}

absl::StatusOr<ContainerRecord> DecodeContainerRow(const pqxx::row& row) {
  ContainerRecord r;
  try {
    r.uuid = row["uuid"].c_str();
    for (const Field& field : ContainerFields()) {
      const std::string column(field.name);
      absl::Status s =
          VisitField(field, r, FromField{r, column.c_str(), row[column]});
      if (!s.ok()) return s;
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("row '", r.uuid, "' does not decode: ", e.what()));
  }
  return r;
}

absl::StatusOr<std::optional<std::string>> EncodeColumnValue(
    const std::string& column, const nlohmann::json& value) {
  if (!IsWritableColumn(column)) {
    return absl::InvalidArgumentError(
        absl::StrCat("column '", column, "' is not writable by the agent"));
  }
  if (value.is_null()) return std::optional<std::string>();
  if (IsJsonColumn(column)) return std::optional<std::string>(value.dump());
  if (value.is_string())
    return std::optional<std::string>(value.get<std::string>());
  if (value.is_number_integer()) {
    return std::optional<std::string>(std::to_string(value.get<int64_t>()));
  }
  if (value.is_boolean()) {
    return std::optional<std::string>(value.get<bool>() ? "true" : "false");
  }
  if (value.is_number()) return std::optional<std::string>(value.dump());
  return absl::InvalidArgumentError(
      absl::StrCat("column '", column, "' cannot take ", value.dump()));
}

}  // namespace zun::db
