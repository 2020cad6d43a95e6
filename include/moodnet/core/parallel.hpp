#pragma once
// The one owner of threads: every parallel loop in moodnet is an OpenMP loop, and this header is
// the one place that sets and reports how many threads they use. Eigen's GEMMs always run on the
// thread that calls them (eigen_single_threaded, core/gemm.hpp), so the two never oversubscribe the
// cores and results do not depend on the thread count. Nothing here changes global state until the
// program calls set_num_threads.
#include <omp.h>

#include <cstdint>

#include "moodnet/core/error.hpp"

namespace moodnet {

// Number of threads our parallel regions use.
inline int num_threads() { return omp_get_max_threads(); }

// Sets the number of threads for all later parallel regions (n >= 1).
inline void set_num_threads(int n) {
  MOODNET_CHECK(n >= 1, "thread count must be >= 1, got ", n);
  omp_set_num_threads(n);
}

// Index of the calling thread inside a parallel region (0 outside one).
inline int thread_index() { return omp_get_thread_num(); }

// Runs body(begin, end) on contiguous chunks of [0, n) in parallel, one chunk per thread
// (static schedule). Chunk boundaries depend on the thread count; code that needs results
// independent of the thread count must not depend on them (e.g. draw random numbers per index).
template <class Body>
inline void parallel_for_chunks(std::int64_t n, Body&& body) {
  if (n <= 0) return;
#pragma omp parallel
  {
    const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const std::int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) body(begin, end);
  }
}

// Runs body(i) for i in [0, n) in parallel (static schedule).
template <class Body>
inline void parallel_for(std::int64_t n, Body&& body) {
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace moodnet
