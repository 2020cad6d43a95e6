#pragma once
// Eigen matrix maps on raw row-major pointers, the way kernels hand their buffers to Eigen's GEMM.
//
// Threads: Eigen's GEMM is OpenMP-parallel when compiled with -fopenmp, but it runs serially when
// called from inside an OpenMP parallel region (it checks omp_get_num_threads() > 1). So a GEMM
// called from a serial section uses moodnet's thread count (set_num_threads), and a GEMM called
// inside one of our parallel loops uses one thread: the two never oversubscribe the cores.
#include <Eigen/Core>

#include <cstdint>

namespace moodnet {

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
