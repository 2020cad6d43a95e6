#pragma once
// Eigen matrix maps on raw row-major pointers and on tensors, the way kernels hand their buffers to
// Eigen's GEMM, and the one rule for calling it: eigen_single_threaded.
//
//   eigen_single_threaded([&] { row_map(y, N, out, out).noalias() = row_map(x, N, in, in) * W; });
//   auto X = eigen_matrix(t.reshape({64, 32 * 48 * 48}));   // Eigen::Map, row-major 64 x 73728
//
// Threads: moodnet is the one owner of threads. Called outside an OpenMP team while OpenMP has more
// than one thread, Eigen's GEMM (built with -fopenmp) parallelises itself and picks its blocking from
// that thread count, which changes the order of the K-sum and so the bits of the result. Every Eigen
// product in moodnet therefore runs through eigen_single_threaded: it stays on the calling thread,
// parallelism comes from our own loops (over samples, tiles or blocks), and results are bit-identical
// for any thread count. Nothing here touches Eigen's process-wide setting (Eigen::setNbThreads), and
// including this header runs no code. A program that calls Eigen::setNbThreads(n > 1) itself makes
// Eigen follow that setting instead (its products are then deterministic for that n).
#include <omp.h>

#include <Eigen/Core>

#include <cstdint>
#include <type_traits>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"

namespace moodnet {

// Runs f, which evaluates Eigen products, with every Eigen GEMM on the calling thread.
//
// Eigen (Parallelizer.h) stays serial when omp_get_num_threads() > 1 (inside one of our parallel
// loops) or when its thread count, omp_get_max_threads(), is 1. Anywhere else we open a team of one
// thread and set that team's own thread count to 1 (omp_set_num_threads inside a parallel region
// changes the ICV of that region's task only), so Eigen sees 1. The blocking is then the serial one:
// the same bits as a product on one thread. f must not throw (it runs inside an OpenMP region).
template <class F>
inline void eigen_single_threaded(F&& f) {
  if (omp_get_num_threads() > 1 || omp_get_max_threads() == 1) {
    f();
    return;
  }
#pragma omp parallel num_threads(1)
  {
    omp_set_num_threads(1);
    f();
  }
}

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

// A tensor's storage as a row-major rows x cols matrix (default: dim 0 x the rest); throws when the
// sizes do not fit its shape.
template <class T>
inline auto eigen_matrix(TensorView<T> v, std::int64_t rows, std::int64_t cols) {
  MOODNET_CHECK(rows >= 0 && cols >= 0 && rows * cols == v.numel(), "matrix view ", rows, "x", cols,
                " does not fit shape ", v.shape().str());
  return row_map(v.data(), rows, cols, cols);
}
template <class T>
inline auto eigen_matrix(TensorView<T> v) {
  const std::int64_t rows = v.rank() == 0 ? 1 : v.dim(0);
  return eigen_matrix(v, rows, rows ? v.numel() / rows : 0);
}

}  // namespace moodnet
