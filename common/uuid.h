// File: uuid.h
// Random (version 4) UUIDs: oslo's _unique_id / _msg_id style ("hex", no
// dashes) and the canonical dashed form used for Zun uuids.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace zun {

std::string NewUuid4Hex();  // 32 lowercase hex digits
std::string NewUuid4();     // 8-4-4-4-12
// True for the canonical dashed, case-insensitive hex form.
bool IsUuid(std::string_view s);

}  // namespace zun
