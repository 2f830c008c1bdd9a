// Fernet against the reference implementation: tokens made by Debian's
// python3-cryptography (what the Zun API uses to store registry passwords)
// decrypt here, and tokens made here decrypt there.
#include "common/fernet.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/subprocess.h"

namespace zun {
namespace {

using testing::RunCommand;

// Runs a Python snippet under Debian's python3 (cryptography installed)
// and returns its stdout, trimmed.
std::string Py(const std::string& code, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", code};
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<testing::CommandResult> r =
      RunCommand(argv, absl::Seconds(60));
  REQUIRE(r.ok());
  INFO(r->output);
  REQUIRE(r->exit_code == 0);
  return std::string(absl::StripAsciiWhitespace(r->output));
}

constexpr char kZunKey[] = "0123456789abcdef0123456789ABCDEF";  // 32 chars

// What zun.common.crypt does: Fernet(base64(key.encode('utf-8'))).
constexpr char kEncrypt[] = R"py(
import base64, sys
from cryptography.fernet import Fernet
f = Fernet(base64.b64encode(sys.argv[1].encode('utf-8')))
print(f.encrypt(sys.argv[2].encode('utf-8')).decode())
)py";
constexpr char kDecrypt[] = R"py(
import base64, sys
from cryptography.fernet import Fernet
f = Fernet(base64.b64encode(sys.argv[1].encode('utf-8')))
print(f.decrypt(sys.argv[2].encode()).decode('utf-8'))
)py";

TEST_CASE("Fernet tokens of python3-cryptography decrypt with Zun's key",
          "[fernet]") {
  absl::StatusOr<std::string> key = ZunFernetKey(kZunKey);
  REQUIRE(key.ok());
  const std::vector<std::string> secrets = {
      "s3cret", "", "p\u00e4ssw\u00f6rd with spaces", std::string(100, 'x'),
      "exactly-16-bytes"};
  for (const std::string& secret : secrets) {
    const std::string token = Py(kEncrypt, {kZunKey, secret});
    CHECK(LooksLikeFernetToken(token));
    absl::StatusOr<std::string> plain = FernetDecrypt(*key, token);
    REQUIRE(plain.ok());
    CHECK(*plain == secret);
  }
}

TEST_CASE("a fixed vector: Zun's default key, zero IV", "[fernet]") {
  // Fernet._encrypt_from_parts(b"secret", 1700000000, b"\0" * 16) with
  // Fernet(base64.b64encode(b"notgood but just long enough i t")).
  absl::StatusOr<std::string> key = ZunFernetKey(kZunDefaultEncryptionKey);
  REQUIRE(key.ok());
  CHECK(*key == "bm90Z29vZCBidXQganVzdCBsb25nIGVub3VnaCBpIHQ=");
  absl::StatusOr<std::string> plain = FernetDecrypt(
      *key,
      "gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAABa3paTJ8ICTrl-S9qMeJtYMFye7d-"
      "RpYyqrqVLv9O6q5x2RJKOwJmA5WtNWYDjPCQ==");
  REQUIRE(plain.ok());
  CHECK(*plain == "secret");
  // Longer keys are cut to 32 characters, as Zun does.
  CHECK(*ZunFernetKey(std::string(kZunDefaultEncryptionKey) + "ignored") ==
        *key);
}

TEST_CASE("Fernet tokens made here decrypt with python3-cryptography",
          "[fernet]") {
  absl::StatusOr<std::string> key = ZunFernetKey(kZunKey);
  REQUIRE(key.ok());
  absl::StatusOr<std::string> token =
      FernetEncrypt(*key, "registry-pw", 1700000000);
  REQUIRE(token.ok());
  CHECK(Py(kDecrypt, {kZunKey, *token}) == "registry-pw");
}

TEST_CASE("Fernet refuses a wrong key, a tampered token and a bad key",
          "[fernet]") {
  absl::StatusOr<std::string> key = ZunFernetKey(kZunKey);
  absl::StatusOr<std::string> other =
      ZunFernetKey("ffffffffffffffffffffffffffffffff");
  REQUIRE(key.ok());
  REQUIRE(other.ok());
  absl::StatusOr<std::string> token = FernetEncrypt(*key, "pw", 1);
  REQUIRE(token.ok());
  CHECK(FernetDecrypt(*other, *token).status().code() ==
        absl::StatusCode::kPermissionDenied);
  std::string tampered = *token;
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  CHECK(FernetDecrypt(*key, tampered).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(FernetDecrypt(*key, "plaintext-password").status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(!LooksLikeFernetToken("plaintext-password"));
  CHECK(ZunFernetKey("too short").status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(FernetDecrypt("not-a-key", *token).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace zun
