#include "common/uuid.h"

#include <cstdint>
#include <random>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"

namespace zun {
namespace {

void RandomBytes(uint8_t (&b)[16]) {
  thread_local absl::BitGen gen;
  for (auto& x : b) x = absl::Uniform<uint8_t>(gen);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string NewUuid4Hex() {
  uint8_t b[16];
  RandomBytes(b);
  std::string s;
  s.reserve(32);
  for (uint8_t x : b) {
    s.push_back(kHex[x >> 4]);
    s.push_back(kHex[x & 15]);
  }
  return s;
}

std::string NewUuid4() {
  std::string h = NewUuid4Hex();
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
         h.substr(16, 4) + "-" + h.substr(20);
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!absl::ascii_isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace zun
