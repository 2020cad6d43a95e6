#include "moodnet/core/parallel.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

TEST_CASE("Thread control sets and reports the OpenMP thread count", "[core][parallel]") {
  const int saved = moodnet::num_threads();
  moodnet::set_num_threads(1);
  CHECK(moodnet::num_threads() == 1);
  moodnet::set_num_threads(2);
  CHECK(moodnet::num_threads() == 2);
  REQUIRE_THROWS_WITH(moodnet::set_num_threads(0), Catch::Contains("got 0"));
  moodnet::set_num_threads(saved);
}

TEST_CASE("parallel_for and parallel_for_chunks cover every index exactly once", "[core][parallel]") {
  for (int threads : {1, 2, 3}) {
    moodnet::set_num_threads(threads);
    std::vector<std::atomic<int>> hits(1001);
    moodnet::parallel_for(1001, [&](std::int64_t i) { hits[i]++; });
    moodnet::parallel_for_chunks(1001, [&](std::int64_t b, std::int64_t e) {
      for (std::int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (auto& h : hits) REQUIRE(h == 2);
  }
  moodnet::parallel_for_chunks(0, [](std::int64_t, std::int64_t) { FAIL("called on an empty range"); });
}
