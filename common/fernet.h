// File: fernet.h
// Fernet tokens (the cryptography library's format: version 0x80, 64-bit
// big-endian timestamp, 128-bit IV, AES-128-CBC ciphertext with PKCS#7
// padding, HMAC-SHA256 over all of it; base64url with padding), with
// OpenSSL. Zun stores registry passwords this way under
// [DEFAULT] auth_encryption_key (ZunFernetKey derives the Fernet key).
//
// Stateless functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace zun {

// Zun's default [DEFAULT] auth_encryption_key (zun/conf/utils.py): what a
// cloud that never set one encrypts with.
inline constexpr char kZunDefaultEncryptionKey[] =
    "notgood but just long enough i t";

// A Fernet key is 32 bytes, base64url-encoded (44 characters). This is the
// one Zun derives from `auth_encryption_key` (zun/common/crypt.py): its first
// 32 characters, UTF-8 encoded, base64-encoded. INVALID_ARGUMENT if those
// are not 32 bytes.
absl::StatusOr<std::string> ZunFernetKey(
    const std::string& auth_encryption_key);

// The plaintext of `token`. INVALID_ARGUMENT if the key is malformed;
// PERMISSION_DENIED if the token is malformed or was not made with this
// key (the HMAC does not match). Tokens never expire here (Zun decrypts
// without a TTL).
absl::StatusOr<std::string> FernetDecrypt(const std::string& key,
                                          const std::string& token);

// A token of `plaintext` made at unix time `timestamp` with a random IV
// (what the Zun API stores).
absl::StatusOr<std::string> FernetEncrypt(const std::string& key,
                                          const std::string& plaintext,
                                          uint64_t timestamp);

// True if `s` has the shape of a Fernet token (base64url of a version-0x80
// token of plausible length). For telling a stored plaintext apart.
bool LooksLikeFernetToken(const std::string& s);

}  // namespace zun
