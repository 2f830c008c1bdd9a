// libFuzzer target: the agent's configuration parser (oslo.config INI and
// the typed option table).
#include <cstddef>
#include <cstdint>

#include "common/ini.h"
#include "config/config.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  zun::fuzz::Quiet();
  absl::StatusOr<zun::IniFile> ini = zun::IniFile::Parse(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.conf");
  if (!ini.ok()) return 0;
  absl::StatusOr<zun::config::AgentConfig> c = zun::config::ParseConfig(*ini);
  if (c.ok()) (void)zun::config::DescribeConfig(*c);
  return 0;
}
