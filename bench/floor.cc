#include "bench/floor.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/uuid.h"
#include "db/pg_pool.h"
#include "rpc/amqp_connection.h"
#include "rpc/transport_url.h"

namespace zun::bench {

absl::Duration RabbitFloor(const std::string& amqp_url, int messages,
                           size_t body_bytes) {
  absl::StatusOr<rpc::TransportUrl> url = rpc::ParseTransportUrl(amqp_url);
  if (!url.ok()) return absl::InfiniteDuration();
  rpc::AmqpConnectOptions co;
  co.host = url->hosts.front();
  co.vhost = url->vhost;
  auto pub = rpc::AmqpConnection::Open(co);
  auto sub = rpc::AmqpConnection::Open(co);
  if (!pub.ok() || !sub.ok()) return absl::InfiniteDuration();
  const std::string queue = "bench-floor-" + NewUuid4Hex();
  (*pub)->OpenChannel(1).IgnoreError();
  (*pub)->ConfirmSelect(1).IgnoreError();
  (*pub)
      ->DeclareQueue(1, rpc::QueueSpec{queue, false, false, true, {}})
      .IgnoreError();
  (*sub)->OpenChannel(1).IgnoreError();
  (*sub)->Qos(1, 64).IgnoreError();
  if (!(*sub)->Consume(1, queue, "").ok()) return absl::InfiniteDuration();
  const std::string body(body_bytes, 'x');
  const absl::Time start = absl::Now();
  std::atomic<int> consumed{0};
  std::thread consumer([&] {
    const absl::Time give_up = absl::Now() + absl::Minutes(2);
    while (consumed < messages && absl::Now() < give_up) {
      auto ev = (*sub)->Read(absl::Milliseconds(100));
      if (!ev.ok()) return;
      if (ev->kind == rpc::AmqpEvent::Kind::kDelivery) {
        (*sub)->Ack(1, ev->delivery_tag).IgnoreError();
        ++consumed;
      }
    }
  });
  uint64_t acked = 0;
  for (int i = 0; i < messages; ++i) {
    (*pub)
        ->Publish(1, "", queue, false, body, rpc::PublishProps{})
        .IgnoreError();
    for (;;) {
      auto ev = (*pub)->Read(absl::ZeroDuration());
      if (!ev.ok() || ev->kind == rpc::AmqpEvent::Kind::kNone) break;
      if (ev->kind == rpc::AmqpEvent::Kind::kPublishAck)
        acked = ev->delivery_tag;
    }
  }
  while (acked < static_cast<uint64_t>(messages)) {
    auto ev = (*pub)->Read(absl::Seconds(5));
    if (!ev.ok() || ev->kind == rpc::AmqpEvent::Kind::kNone) break;
    if (ev->kind == rpc::AmqpEvent::Kind::kPublishAck) acked = ev->delivery_tag;
  }
  consumer.join();
  const absl::Duration took = absl::Now() - start;
  (*pub)->DeleteQueue(1, queue).IgnoreError();
  return consumed == messages ? took : absl::InfiniteDuration();
}

namespace {

// Runs `sql` in a transaction of its own and commits it.
absl::Status Commit(db::PgPool& pool, const std::string& sql) {
  return pool.Run([&](pqxx::connection& c) {
    pqxx::work t(c);
    t.exec(sql);
    t.commit();
    return absl::OkStatus();
  });
}

// A table of `rows` (id, v) rows for single-row updates; its name.
std::string MakeCounterTable(db::PgPool& pool, const std::string& prefix,
                             int rows) {
  const std::string table = absl::StrCat(prefix, NewUuid4Hex().substr(0, 8));
  Commit(pool, absl::StrCat("CREATE TABLE ", table,
                            " (id INT PRIMARY KEY, v BIGINT NOT NULL)"))
      .IgnoreError();
  Commit(pool,
         absl::StrCat("INSERT INTO ", table,
                      " SELECT g, 0 FROM generate_series(0, ", rows, ") g"))
      .IgnoreError();
  return table;
}

std::string Increment(const std::string& table, int id) {
  return absl::StrCat("UPDATE ", table, " SET v = v + 1 WHERE id = ", id);
}

}  // namespace

absl::Duration PostgresFloor(const db::PgOptions& options, int commits,
                             int clients) {
  db::PgOptions o = options;
  o.pool_size = clients;
  db::PgPool pool(o);
  const std::string table = MakeCounterTable(pool, "bench_floor_", clients);
  std::atomic<int> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&, k] {
      while (next.fetch_add(1) < commits) {
        Commit(pool, Increment(table, k)).IgnoreError();
      }
    });
  }
  for (auto& t : threads) t.join();
  const absl::Duration took = absl::Now() - start;
  Commit(pool, "DROP TABLE " + table).IgnoreError();
  return took;
}

std::vector<double> PostgresPacedMs(const db::PgOptions& options, int n,
                                    double rate, int clients) {
  db::PgOptions o = options;
  o.pool_size = clients;
  db::PgPool pool(o);
  const std::string table = MakeCounterTable(pool, "bench_paced_", n);
  std::vector<double> out(n, -1);  // -1: a commit failed
  std::atomic<int> next{0};
  const absl::Time start = absl::Now();
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&] {
      for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
        const absl::Time arrival = start + absl::Seconds(i / rate);
        const absl::Duration early = arrival - absl::Now();
        if (early > absl::ZeroDuration()) absl::SleepFor(early);
        if (Commit(pool, Increment(table, i)).ok() &&
            Commit(pool, Increment(table, i)).ok()) {
          out[i] = absl::ToDoubleMilliseconds(absl::Now() - arrival);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  Commit(pool, "DROP TABLE " + table).IgnoreError();
  std::erase_if(out, [](double ms) { return ms < 0; });
  return out;
}

}  // namespace zun::bench
