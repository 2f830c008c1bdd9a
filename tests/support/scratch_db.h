// File: scratch_db.h
// A fresh PostgreSQL database per test, on the test server, with the
// schema applied (db-sync); dropped when the object goes away. Also a tiny
// SQL helper for assertions on rows.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/pg_options.h"

namespace zun::testing {

using SqlRow = std::map<std::string, std::optional<std::string>>;

class ScratchDatabase {
 public:
  // `sync_schema`: apply the migrations (as `zun-agent db-sync` does).
  // `socket`/`port`: another PostgreSQL than the shared test server.
  explicit ScratchDatabase(bool sync_schema = true,
                           const std::string& socket = "", int port = 0);
  // Another handle on the existing database `name` (made by another
  // ScratchDatabase, which drops it): neither creates nor drops it.
  static ScratchDatabase Attach(const std::string& name,
                                const std::string& socket = "", int port = 0);
  ScratchDatabase(ScratchDatabase&& o) noexcept
      : name_(std::move(o.name_)),
        url_(std::move(o.url_)),
        socket_(std::move(o.socket_)),
        port_(o.port_),
        owned_(o.owned_) {
    o.owned_ = false;
  }
  ~ScratchDatabase();

  const std::string& name() const { return name_; }
  // After a failover: the same database is now served by the PostgreSQL on
  // `socket`/`port` (a promoted standby). Queries and the drop go there.
  void Repoint(const std::string& socket, int port);
  // libpq URI for the app role (zun) on the socket.
  const std::string& url() const { return url_; }
  db::PgOptions options() const;

  // Runs SQL as the app role; returns the rows (column -> value, NULL as
  // nullopt). Throws on SQL errors (tests only).
  std::vector<SqlRow> Query(const std::string& sql) const;
  void Exec(const std::string& sql) const { Query(sql); }
  // Runs SQL as the superuser on the `postgres` database (roles, settings,
  // every session's statistics).
  std::vector<SqlRow> AdminQuery(const std::string& sql) const;
  void AdminExec(const std::string& sql) const { AdminQuery(sql); }

 private:
  ScratchDatabase(const std::string& socket, int port, const std::string& name);
  std::string AdminConn() const;
  std::string name_;
  std::string url_;
  std::string socket_;
  int port_ = 0;
  bool owned_ = true;  // created here, dropped here
};

}  // namespace zun::testing
