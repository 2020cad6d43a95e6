// Every fuzz target of targets.hpp compiled once (with coverage instrumentation) and linked into
// each fuzz_<name> program, which picks its own by name: one heavy translation unit instead of six.
#include <string_view>

#include "targets.hpp"

namespace moodnet::fuzz {
bool run_target(std::string_view name, const std::uint8_t* data, std::size_t size) {
  for (const Target& t : kTargets)
    if (name == t.name) return t.run(data, size);
  std::fprintf(stderr, "fuzz: no target named %.*s\n", static_cast<int>(name.size()), name.data());
  std::abort();
}
}  // namespace moodnet::fuzz
