#pragma once
// The shared back half of every reader: items [0, N) of a Dataset whose keys and labels are set
// are decoded in parallel (OpenMP, one item per iteration), then the bad-item policy is applied.
// Errors are caught per item, so one bad file never escapes an OpenMP region; under the strict
// policy the error of the FIRST bad item (in dataset order, whatever the thread count) is thrown.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "moodnet/core/parallel.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/memory_budget.hpp"

namespace moodnet::data::detail {

// Threads for reading many small files: opening and reading them waits on the file system more
// than on the CPU (FER-2013: ~0.9 s CPU, ~3 s of waits with 1 reader), so more readers than cores
// overlap the waits. Loading happens once, before training, so this does not compete with it.
inline int io_threads() { return std::max(num_threads(), 8); }

// produce(i, out) writes the C*H*W pixels of item i (d.shape()) into out and returns true when the source
// had to be resized; it throws moodnet::Error (naming the item) when the item is bad. `threads`
// run the items (dynamic schedule); results do not depend on the count. The image decodes of all
// threads together hold at most `budget_bytes` (0 = default_decode_budget_bytes(); memory_budget.hpp).
template <class Produce>
inline void decode_items(Dataset& d, BadItemPolicy policy, int threads, Produce&& produce,
                         std::uint64_t budget_bytes = 0) {
  const auto t0 = std::chrono::steady_clock::now();
  MemoryBudget budget(budget_bytes != 0 ? budget_bytes : default_decode_budget_bytes());
  const std::int64_t n = d.size(), m = d.image_numel();
  const ImageShape shape = d.shape();
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  std::vector<char> resized(static_cast<std::size_t>(n), 0);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      const DecodeBudgetScope scope(&budget);
      resized[static_cast<std::size_t>(i)] = produce(i, d.images.data() + i * m) ? 1 : 0;
    } catch (const std::exception& e) {
      errors[static_cast<std::size_t>(i)] = e.what();
      if (errors[static_cast<std::size_t>(i)].empty()) errors[static_cast<std::size_t>(i)] = "unknown error";
    } catch (...) {
      errors[static_cast<std::size_t>(i)] = "unknown error";
    }
  }
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto& err = errors[static_cast<std::size_t>(i)];
    if (!err.empty()) {
      if (policy == BadItemPolicy::strict) throw Error(err);
      d.report.skipped.push_back({d.keys[static_cast<std::size_t>(i)], err});
      continue;
    }
    if (kept != i) {  // compact: move item i down to position kept
      std::copy_n(d.image(i), m, d.images.data() + kept * m);
      d.labels[kept] = d.labels[i];
      d.keys[static_cast<std::size_t>(kept)] = std::move(d.keys[static_cast<std::size_t>(i)]);
    }
    d.report.resized += resized[static_cast<std::size_t>(i)];
    ++kept;
  }
  d.keys.resize(static_cast<std::size_t>(kept));
  d.images.resize({kept, shape.channels, shape.height, shape.width});  // keeps the storage: contents stay in place
  d.labels.resize({kept});
  d.report.loaded = kept;
  d.report.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace moodnet::data::detail
