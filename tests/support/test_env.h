// File: test_env.h
// Where integration tests find their servers and binaries. The services
// (RabbitMQ, PostgreSQL) are started by the ctest fixture `services`
// (scripts/test-services.sh), which writes <build>/test-env/services.env.
#pragma once

#include <string>

namespace zun::testing {

struct TestEnv {
  std::string amqp_url;   // rabbit://guest:guest@127.0.0.1:PORT/
  std::string pg_url;     // libpq URI of the zun database (socket)
  std::string pg_socket;  // socket directory
  int pg_port = 0;
  std::string pg_base;  // for stop/start scripts
  std::string rmq_base;
  int rmq_port = 0;
  int rmq_tls_port = 0;  // AMQPS, client certificate required
  std::string tls_dir;   // ca.pem, client.pem/.key (CN zun_tls), other-ca.pem
  std::string scripts;   // <source>/scripts

  // Loads services.env; aborts the test run with a clear message if the
  // services fixture did not run.
  static const TestEnv& Get();
};

std::string SourceDir();
std::string BinDir();  // <build>/bin
// Where scratch directories go: $ZUN_TEST_TMPDIR if set (make bench points
// it at a tmpfs: scripts/bench.sh says why), else /tmp. Keep it short.
std::string ScratchRoot();
// A fresh directory under ScratchRoot() with a short path (unix socket
// paths must stay under 108 bytes). Removed by the caller (ScopedTempDir
// does it).
std::string MakeTempDir(const std::string& prefix);

class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix = "zt");
  ~ScopedTempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace zun::testing
