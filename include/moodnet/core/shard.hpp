#pragma once
// The share of worker `index` of `count` in n items: contiguous, sizes differ by at most one, lower
// indices take the extra items, every item in exactly one share. Data-parallel training splits each
// global batch this way (data/loader.hpp's shard options, distributed/data_parallel.hpp).
#include <algorithm>
#include <cstdint>

#include "moodnet/core/error.hpp"

namespace moodnet {

struct Shard {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};

inline Shard shard_of(std::int64_t n, int index, int count) {
  MOODNET_CHECK(count >= 1 && index >= 0 && index < count, "shard ", index, " of ", count, " does not exist");
  MOODNET_ASSERT(n >= 0);
  const std::int64_t base = n / count, extra = n % count, r = index;
  const std::int64_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

}  // namespace moodnet
