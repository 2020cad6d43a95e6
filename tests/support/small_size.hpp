#pragma once
// A small configuration of a registered model, for tests that run every model: each size argument
// at its minimum, or at the recipe's value when the minimum is below 1 (alpha). Keeps such tests
// fast for any model added later.
#include "moodnet/models/registry.hpp"

namespace moodnet::test {

inline SizeArgs small_size(const ModelInfo& info) {
  SizeArgs s;
  for (const auto& a : info.size_args) {
    const auto recipe = info.recipe.size.find(a.key);
    s[a.key] = a.min >= 1 ? a.min : recipe != info.recipe.size.end() ? recipe->second : a.default_value;
  }
  return s;
}

}  // namespace moodnet::test
