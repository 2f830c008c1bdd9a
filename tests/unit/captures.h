// Test vectors: real oslo.messaging messages recorded from Zun's client and
// an oslo RPC server (tests/data/captures, copied from the project's spec).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "nlohmann/json.hpp"

namespace zun::testing {

inline nlohmann::json LoadCapture(const std::string& name) {
  std::ifstream in(std::string(ZUN_TEST_DATA_DIR) + "/captures/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

}  // namespace zun::testing
