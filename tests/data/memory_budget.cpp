// The memory budget of parallel image decoding (data/memory_budget.hpp): the decodes of all loading
// threads together never hold more than the budget, a request larger than the whole budget runs
// alone instead of waiting forever, and a budget changes no pixel of a loaded dataset.
#include "moodnet/data/memory_budget.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "moodnet/data/image_decode.hpp"
#include "moodnet/data/image_folder.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;

TEST_CASE("MemoryBudget: holders never exceed the limit; a request above it runs alone", "[data][memory]") {
  MemoryBudget budget(100);
  std::atomic<int> inside{0}, most_inside{0}, large_not_alone{0};  // Catch2's CHECK is not thread-safe
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 50; ++k) {
        const std::uint64_t bytes = t == 0 && k % 10 == 0 ? 250 : 40;  // some requests exceed the limit
        budget.acquire(bytes);
        const int now = ++inside;
        int seen = most_inside.load();
        while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {}
        if (bytes > budget.limit() && now != 1) ++large_not_alone;
        std::this_thread::yield();
        --inside;
        budget.release(bytes);
      }
    });
  for (auto& th : threads) th.join();
  CHECK(budget.peak() == 250);  // the large requests, alone; the 40-byte ones at most 2 at a time
  CHECK(most_inside.load() >= 1);
  CHECK(large_not_alone.load() == 0);
  MemoryBudget small(100);
  small.acquire(40);
  small.acquire(40);
  CHECK(small.peak() == 80);
  small.release(40);
  small.release(40);
}

TEST_CASE("decode_image reserves its bytes from the thread's budget, and parallel decodes stay under it",
          "[data][memory]") {
  // 64 x 48 gray PGMs: one decode reserves 64 * 48 * (2 * 1 + 1) + file bytes.
  std::vector<std::string> files;
  for (int k = 0; k < 24; ++k) {
    std::vector<std::uint8_t> px(64 * 48);
    for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(k * 7 + i % 13);
    files.push_back(test::pgm(64, 48, px));
  }
  const std::uint64_t one = 64 * 48 * 3 + files[0].size();
  MemoryBudget budget(2 * one + one / 2);  // room for two decodes at a time
  std::vector<Image> out(files.size());
#pragma omp parallel for num_threads(6) schedule(dynamic, 1)
  for (int k = 0; k < static_cast<int>(files.size()); ++k) {
    const DecodeBudgetScope scope(&budget);
    const auto& f = files[static_cast<std::size_t>(k)];
    out[static_cast<std::size_t>(k)] = decode_image(reinterpret_cast<const std::uint8_t*>(f.data()), f.size(), "p.pgm", 1);
  }
  CHECK(budget.peak() >= one);      // the decodes did reserve
  CHECK(budget.peak() <= budget.limit());
  for (int k = 0; k < 24; ++k) CHECK(out[static_cast<std::size_t>(k)].pixels[5] == static_cast<std::uint8_t>(k * 7 + 5));
  // Without a scope nothing is reserved (a single decode, e.g. predict's, is not limited).
  const Image alone = decode_image(reinterpret_cast<const std::uint8_t*>(files[0].data()), files[0].size(), "p.pgm", 1);
  CHECK(alone.width == 64);
}

TEST_CASE("load_image_folder: a small decode budget loads the same dataset", "[data][memory]") {
  test::TempDir root("budget");
  test::write_class_folders(root.path, "train", {"a", "b", "c"}, 9, 40);
  FolderOptions o;
  const Dataset full = load_image_folder(root.path, "train", o);
  o.decode_budget_bytes = 1;  // smaller than any one decode: each runs alone
  const Dataset tight = load_image_folder(root.path, "train", o);
  REQUIRE(tight.size() == full.size());
  CHECK(tight.keys == full.keys);
  for (std::int64_t i = 0; i < full.images.numel(); ++i)
    if (tight.images[i] != full.images[i]) FAIL("pixel " << i << " differs");
}
