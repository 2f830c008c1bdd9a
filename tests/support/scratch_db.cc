#include "tests/support/scratch_db.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/uuid.h"
#include "db/pg_capsule_store.h"
#include "pqxx/pqxx"
#include "tests/support/test_env.h"

namespace zun::testing {
std::string ScratchDatabase::AdminConn() const {
  return absl::StrCat("host=", socket_, " port=", port_,
                      " dbname=postgres user=postgres");
}

ScratchDatabase::ScratchDatabase(bool sync_schema, const std::string& socket,
                                 int port)
    : socket_(socket.empty() ? TestEnv::Get().pg_socket : socket),
      port_(port == 0 ? TestEnv::Get().pg_port : port) {
  name_ = "zun_t_" + NewUuid4Hex().substr(0, 12);
  {
    pqxx::connection c(AdminConn());
    pqxx::nontransaction n(c);
    n.exec(absl::StrCat("CREATE DATABASE ", name_, " OWNER zun"));
  }
  url_ = absl::StrCat("postgresql://zun:zun@/", name_, "?host=", socket_,
                      "&port=", port_);
  if (sync_schema) {
    absl::StatusOr<int> v = db::SyncSchema(options());
    if (!v.ok()) {
      std::cerr << "schema sync failed: " << v.status() << "\n";
      std::abort();
    }
  }
}

void ScratchDatabase::Repoint(const std::string& socket, int port) {
  socket_ = socket;
  port_ = port;
  url_ = absl::StrCat("postgresql://zun:zun@/", name_, "?host=", socket_,
                      "&port=", port_);
}

ScratchDatabase ScratchDatabase::Attach(const std::string& name,
                                        const std::string& socket, int port) {
  return ScratchDatabase(socket, port, name);
}

ScratchDatabase::ScratchDatabase(const std::string& socket, int port,
                                 const std::string& name)
    : name_(name),
      socket_(socket.empty() ? TestEnv::Get().pg_socket : socket),
      port_(port == 0 ? TestEnv::Get().pg_port : port),
      owned_(false) {
  url_ = absl::StrCat("postgresql://zun:zun@/", name_, "?host=", socket_,
                      "&port=", port_);
}

ScratchDatabase::~ScratchDatabase() {
  if (!owned_ || name_.empty()) return;
  try {
    pqxx::connection c(AdminConn());
    pqxx::nontransaction n(c);
    n.exec(absl::StrCat("DROP DATABASE IF EXISTS ", name_, " WITH (FORCE)"));
  } catch (const std::exception& e) {
    std::cerr << "cannot drop " << name_ << ": " << e.what() << "\n";
  }
}

namespace {

std::vector<SqlRow> Rows(const pqxx::result& r) {
  std::vector<SqlRow> out;
  for (const auto& row : r) {
    SqlRow m;
    for (const auto& f : row) {
      m[f.name()] =
          f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str());
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

std::vector<SqlRow> ScratchDatabase::AdminQuery(const std::string& sql) const {
  pqxx::connection c(AdminConn());
  pqxx::nontransaction n(c);
  return Rows(n.exec(sql));
}

db::PgOptions ScratchDatabase::options() const {
  db::PgOptions o;
  o.connection = url_;
  o.pool_size = 4;
  return o;
}

std::vector<SqlRow> ScratchDatabase::Query(const std::string& sql) const {
  pqxx::connection c(url_);
  pqxx::work w(c);
  pqxx::result r = w.exec(sql);
  w.commit();
  return Rows(r);
}

}  // namespace zun::testing
