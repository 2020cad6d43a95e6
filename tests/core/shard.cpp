// shard_of: the contiguous shares of n items that data-parallel workers take.
#include <catch2/catch.hpp>

#include <cstdint>

#include "moodnet/core/shard.hpp"

using namespace moodnet;

TEST_CASE("Shards partition a batch: contiguous, sizes within one, every item once", "[core]") {
  for (std::int64_t n : {0, 1, 5, 64, 65, 127})
    for (int size : {1, 2, 3, 7}) {
      std::int64_t next = 0;
      for (int r = 0; r < size; ++r) {
        const Shard s = shard_of(n, r, size);
        CHECK(s.begin == next);
        CHECK((s.size() == n / size || s.size() == n / size + 1));
        next = s.end;
      }
      CHECK(next == n);
    }
}

TEST_CASE("A shard that does not exist is an error", "[core]") {
  CHECK_THROWS_WITH(shard_of(10, 2, 2), Catch::Contains("shard 2 of 2 does not exist"));
  CHECK_THROWS_WITH(shard_of(10, 0, 0), Catch::Contains("shard 0 of 0 does not exist"));
}
