// libFuzzer target: a Capsule zun_object primitive (as carried in the
// `container` argument), decoded, validated and mapped to CRI configs.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_common.h"
#include "nlohmann/json.hpp"
#include "rpc/oslo_codec.h"
#include "rpc/zun_object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zun::fuzz::Quiet();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The same guard the envelope decoder applies before parsing.
  if (zun::rpc::JsonDepth(text, 64) > 64) return 0;
  nlohmann::json j = nlohmann::json::parse(text, nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  absl::StatusOr<zun::capsule::Capsule> c = zun::rpc::DecodeCapsule(j);
  if (!c.ok()) return 0;
  zun::fuzz::MapCapsule(*c);
  (void)zun::rpc::EncodeCapsule(*c, "1.4");
  return 0;
}
