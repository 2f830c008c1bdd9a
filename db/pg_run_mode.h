// File: pg_run_mode.h  (internal to db/)
// How statements run on the connection PgPool::Run lends to the calling
// thread. Behind a transaction-pooling PgBouncer a client owns a server
// connection only for one transaction, so nothing may live in the session:
// no named prepared statements and no session SETs. Run() installs the mode
// for the duration of its callback; the transaction types below and
// SqlParams::Exec read it.
// Thread-compatible: the mode is the calling thread's own (thread_local).
#pragma once

#include <string>

#include "pqxx/pqxx"

namespace zun::db {

struct RunMode {
  // Statements are sent unnamed (parsed on every call) instead of prepared
  // once per connection.
  bool unnamed_statements = false;
  // Sent at the start of every transaction (SET LOCAL timeouts and time
  // zone); empty when the session carries them.
  std::string transaction_prelude;
};

// The mode of the current thread's Run(); the default outside one.
const RunMode& CurrentRunMode();

// Installs `mode` for the current thread until destroyed. Not copyable.
class ScopedRunMode {
 public:
  explicit ScopedRunMode(const RunMode* mode);
  ~ScopedRunMode();
  ScopedRunMode(const ScopedRunMode&) = delete;
  ScopedRunMode& operator=(const ScopedRunMode&) = delete;

 private:
  const RunMode* previous_;
};

// pqxx::work and pqxx::read_transaction that begin with the run mode's
// prelude. Every transaction of the stores is one of these.
class Work : public pqxx::work {
 public:
  // (namedclass is a virtual base of pqxx's transactions: the most derived
  // class names it.)
  explicit Work(pqxx::connection& c)
      : pqxx::internal::namedclass("transaction", "work"), pqxx::work(c) {
    const std::string& p = CurrentRunMode().transaction_prelude;
    if (!p.empty()) exec(p);
  }
};

class ReadTransaction : public pqxx::read_transaction {
 public:
  explicit ReadTransaction(pqxx::connection& c)
      : pqxx::internal::namedclass("transaction", "read"),
        pqxx::read_transaction(c) {
    const std::string& p = CurrentRunMode().transaction_prelude;
    if (!p.empty()) exec(p);
  }
};

}  // namespace zun::db
