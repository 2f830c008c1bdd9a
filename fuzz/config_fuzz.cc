// libFuzzer target: the agent's configuration parser (oslo.config INI and
// the typed option table).
#include <cstddef>
#include <cstdint>

#include "agent/config.h"
#include "common/ini.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zun::fuzz::Quiet();
  absl::StatusOr<zun::IniFile> ini = zun::IniFile::Parse(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.conf");
  if (!ini.ok()) return 0;
  absl::StatusOr<zun::agent::AgentConfig> c = zun::agent::ParseConfig(*ini);
  if (c.ok()) (void)zun::agent::DescribeConfig(*c);
  return 0;
}
