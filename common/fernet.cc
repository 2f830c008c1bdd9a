#include "common/fernet.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"

namespace zun {
namespace {

constexpr size_t kHeader = 1 + 8 + 16;  // version, timestamp, IV
constexpr size_t kMac = 32;

std::optional<std::string> Base64Decode(std::string in, bool url) {
  if (url) {
    for (char& c : in) {
      if (c == '-')
        c = '+';
      else if (c == '_')
        c = '/';
    }
  }
  while (in.size() % 4 != 0) in.push_back('=');
  size_t pad = 0;
  while (pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  if (pad > 2) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(in.data()),
                      static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Base64Encode(const std::string& in, bool url) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(in.data()),
                      static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  if (url) {
    for (char& c : out) {
      if (c == '+')
        c = '-';
      else if (c == '/')
        c = '_';
    }
  }
  return out;
}

absl::StatusOr<std::string> RawKey(const std::string& key) {
  std::optional<std::string> raw = Base64Decode(key, /*url=*/true);
  if (!raw || raw->size() != 32) {
    return absl::InvalidArgumentError(
        "a Fernet key is 32 bytes, base64url-encoded");
  }
  return *raw;
}

std::string Hmac(const std::string& signing_key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), signing_key.data(), static_cast<int>(signing_key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// AES-128-CBC with PKCS#7 padding, in either direction.
std::optional<std::string> Aes128Cbc(bool encrypt, const std::string& key,
                                     const std::string& iv,
                                     const std::string& in) {
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* v = reinterpret_cast<const unsigned char*>(iv.data());
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_128_cbc(), nullptr, k, v,
                        encrypt ? 1 : 0) != 1) {
    return std::nullopt;
  }
  std::string out(in.size() + 16, '\0');
  int n1 = 0, n2 = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_CipherUpdate(ctx.get(), o, &n1,
                       reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), o + n1, &n2) != 1) {
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(n1 + n2));
  return out;
}

}  // namespace

absl::StatusOr<std::string> ZunFernetKey(const std::string& auth_key) {
  // Python's key[:32] counts characters: keep the first 32 code points.
  size_t end = 0;
  for (int chars = 0; end < auth_key.size() && chars < 32; ++chars) {
    const auto lead = static_cast<unsigned char>(auth_key[end]);
    end += lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  }
  const std::string key = auth_key.substr(0, std::min(end, auth_key.size()));
  if (key.size() != 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "[DEFAULT] auth_encryption_key must be 32 characters of one byte "
        "each (it gives ",
        key.size(), " bytes)"));
  }
  return Base64Encode(key, /*url=*/true);
}

absl::StatusOr<std::string> FernetDecrypt(const std::string& key,
                                          const std::string& token) {
  absl::StatusOr<std::string> raw_key = RawKey(key);
  if (!raw_key.ok()) return raw_key.status();
  std::optional<std::string> data = Base64Decode(token, /*url=*/true);
  if (!data || data->size() < kHeader + 16 + kMac ||
      static_cast<unsigned char>((*data)[0]) != 0x80 ||
      (data->size() - kHeader - kMac) % 16 != 0) {
    return absl::PermissionDeniedError("not a Fernet token");
  }
  const std::string signed_part = data->substr(0, data->size() - kMac);
  const std::string mac = data->substr(data->size() - kMac);
  const std::string want = Hmac(raw_key->substr(0, 16), signed_part);
  if (CRYPTO_memcmp(mac.data(), want.data(), kMac) != 0) {
    return absl::PermissionDeniedError(
        "the Fernet token was not made with this key");
  }
  std::optional<std::string> plain =
      Aes128Cbc(false, raw_key->substr(16), data->substr(9, 16),
                data->substr(kHeader, data->size() - kHeader - kMac));
  if (!plain) return absl::PermissionDeniedError("bad Fernet padding");
  return *plain;
}

absl::StatusOr<std::string> FernetEncrypt(const std::string& key,
                                          const std::string& plaintext,
                                          uint64_t timestamp) {
  absl::StatusOr<std::string> raw_key = RawKey(key);
  if (!raw_key.ok()) return raw_key.status();
  std::string iv(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(iv.data()), 16) != 1) {
    return absl::InternalError("no random bytes for the IV");
  }
  std::optional<std::string> ct =
      Aes128Cbc(true, raw_key->substr(16), iv, plaintext);
  if (!ct) return absl::InternalError("AES-128-CBC failed");
  std::string data(1, static_cast<char>(0x80));
  for (int i = 7; i >= 0; --i) {
    data.push_back(static_cast<char>((timestamp >> (8 * i)) & 0xff));
  }
  data += iv;
  data += *ct;
  data += Hmac(raw_key->substr(0, 16), data);
  return Base64Encode(data, /*url=*/true);
}

bool LooksLikeFernetToken(const std::string& s) {
  if (s.size() < 100 || s.rfind("gAAAAA", 0) != 0) return false;
  std::optional<std::string> data = Base64Decode(s, /*url=*/true);
  return data && data->size() >= kHeader + 16 + kMac &&
         (data->size() - kHeader - kMac) % 16 == 0;
}

}  // namespace zun
