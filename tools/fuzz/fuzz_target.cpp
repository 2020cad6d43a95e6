// One libFuzzer program per target of targets.hpp: built with -DMOODNET_FUZZ_TARGET="<name>"
// (tools/fuzz/CMakeLists.txt) as fuzz_<name>; the targets themselves are compiled once (targets.cpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moodnet::fuzz {
bool run_target(std::string_view name, const std::uint8_t* data, std::size_t size);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  moodnet::fuzz::run_target(MOODNET_FUZZ_TARGET, data, size);
  return 0;
}
