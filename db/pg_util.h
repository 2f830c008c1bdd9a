// File: pg_util.h  (internal to db/)
// Parameter lists with NULLs for libpqxx 6.4, and statements run as
// prepared statements (each distinct SQL text is parsed and planned once per
// connection, not on every call), or unnamed behind a transaction pooler
// (pg_run_mode.h).
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "db/pg_run_mode.h"
#include "pqxx/pqxx"

namespace zun::db {

// A PostgreSQL array literal of `items` as text ('{"a","b"}'), each element
// quoted, for a `$n::varchar[]` parameter.
inline std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const std::string& item : items) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    for (char ch : item) {
      if (ch == '"' || ch == '\\') out.push_back('\\');
      out.push_back(ch);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

class SqlParams {
 public:
  SqlParams& Add(std::optional<std::string> v) {
    values_.push_back(std::move(v));
    return *this;
  }
  SqlParams& Add(const char* v) { return Add(std::optional<std::string>(v)); }
  SqlParams& Add(const std::string& v) {
    return Add(std::optional<std::string>(v));
  }
  SqlParams& Add(std::string_view v) {
    return Add(std::optional<std::string>(std::string(v)));
  }
  SqlParams& AddNull() { return Add(std::optional<std::string>()); }
  int size() const { return static_cast<int>(values_.size()); }

  pqxx::result Exec(pqxx::transaction_base& t, const std::string& sql) const {
    std::vector<const char*> ptrs;
    ptrs.reserve(values_.size());
    for (const auto& v : values_) ptrs.push_back(v ? v->c_str() : nullptr);
    if (CurrentRunMode().unnamed_statements) {
      return t.exec_params(sql, pqxx::prepare::make_dynamic_params(ptrs));
    }
    // pqxx remembers the definition and prepares it on the server at first
    // use on each connection; declaring it again with the same text is a
    // no-op.
    char name[24];
    std::snprintf(name, sizeof(name), "z%016zx", std::hash<std::string>{}(sql));
    t.conn().prepare(name, sql);
    return t.exec_prepared(name, pqxx::prepare::make_dynamic_params(ptrs));
  }

 private:
  std::vector<std::optional<std::string>> values_;
};

}  // namespace zun::db
