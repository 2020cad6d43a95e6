#pragma once
// Eigen matrix maps on raw row-major pointers, the way kernels hand their buffers to Eigen's GEMM.
//
// Threads: moodnet is the one owner of threads. Eigen's GEMM would parallelise itself with OpenMP
// (when compiled with -fopenmp) and pick its blocking from the thread count, which changes the order
// of the K-sum and so the bits of the result. We switch that off once at start-up: every GEMM runs
// on the calling thread, and parallelism comes from our own loops (over samples, tiles or blocks),
// so results are bit-identical for any thread count.
#include <Eigen/Core>

#include <cstdint>

namespace moodnet {

namespace detail {
inline const bool eigen_gemm_is_serial = [] {
  Eigen::setNbThreads(1);
  return true;
}();
}  // namespace detail

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using ConstRowMap = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// Row-major matrix maps with an explicit leading dimension (ld >= cols).
template <class T>
inline RowMap<T> row_map(T* p, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  return RowMap<T>(p, rows, cols, Eigen::OuterStride<>(ld));
}
template <class T>
inline ConstRowMap<T> row_map(const T* p, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  return ConstRowMap<T>(p, rows, cols, Eigen::OuterStride<>(ld));
}

}  // namespace moodnet
