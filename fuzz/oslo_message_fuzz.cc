// libFuzzer target: an AMQP message body as the agent receives it. The
// oslo envelope is decoded with the agent's limits; a `container` argument
// goes through the zun_object decoder, and a decoded capsule through
// validation and the capsule-to-CRI mapper, as the create path does.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_common.h"
#include "rpc/oslo_codec.h"
#include "rpc/zun_object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zun::fuzz::Quiet();
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  zun::rpc::DecodeLimits limits;
  absl::StatusOr<zun::rpc::IncomingMessage> msg =
      zun::rpc::DecodeMessage(body, limits);
  if (!msg.ok()) return 0;
  auto it = msg->args.find("container");
  if (it == msg->args.end()) return 0;
  absl::StatusOr<zun::capsule::Capsule> c = zun::rpc::DecodeCapsule(*it);
  if (!c.ok()) return 0;
  zun::fuzz::MapCapsule(*c);
  // What container_show would send back must encode.
  (void)zun::rpc::EncodeCapsule(*c,
                                msg->version.empty() ? "1.4" : msg->version);
  return 0;
}
