#pragma once
// Fully connected layer, forward and backward, with PyTorch's weight layout.
//
//   x: [N, in]      w: [out, in]      b: [out] or nullptr      y: [N, out]
//
//   forward          y  = x w^T + b          (one GEMM: [N, in] x [in, out])
//   backward input   dx = dy w               (overwritten; [N, out] x [out, in])
//   backward weight  dw += dy^T x            (accumulated; [out, N] x [N, in])
//   backward bias    db += sum_n dy[n, :]    (accumulated)
//
// Threads: forward and backward-input are single GEMMs on the calling thread (every Eigen product
// runs through eigen_single_threaded, core/gemm.hpp: a GEMM Eigen spread over threads would change
// its rounding with the thread count). The weight gradient, the largest of the three (out x in from
// a sum over the batch), runs as fixed blocks of kLinearRowBlock output rows, one single-threaded
// GEMM each, in parallel over the blocks, so its bits do not depend on the thread count either. The
// bias gradient sums each column in batch order on one thread. Nothing here allocates.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "moodnet/core/error.hpp"
#include "moodnet/core/gemm.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/instantiation.hpp"

namespace moodnet::kernels {

struct LinearParams {
  std::int64_t N = 1, in = 1, out = 1;

  Shape input_shape() const { return {N, in}; }
  Shape weight_shape() const { return {out, in}; }
  Shape output_shape() const { return {N, out}; }
  double macs() const { return double(N) * double(in) * double(out); }
  void validate() const {
    MOODNET_CHECK(N > 0 && in > 0 && out > 0, "linear: sizes must be positive, got N=", N, " in=", in,
                  " out=", out);
  }
};

// Output rows of dw per block in the weight-gradient GEMM (fixed: the result never depends on threads).
inline constexpr std::int64_t kLinearRowBlock = 32;

template <class T>
void linear_forward(const LinearParams& p, const T* x, const T* w, const T* b, T* y) {
  p.validate();
  eigen_single_threaded([&] {
    row_map(y, p.N, p.out, p.out).noalias() = row_map(x, p.N, p.in, p.in) * row_map(w, p.out, p.in, p.in).transpose();
  });
  if (b)
    for (std::int64_t n = 0; n < p.N; ++n)
      for (std::int64_t o = 0; o < p.out; ++o) y[n * p.out + o] += b[o];
}

template <class T>
void linear_backward_input(const LinearParams& p, const T* dy, const T* w, T* dx) {
  p.validate();
  eigen_single_threaded([&] {
    row_map(dx, p.N, p.in, p.in).noalias() = row_map(dy, p.N, p.out, p.out) * row_map(w, p.out, p.in, p.in);
  });
}

template <class T>
void linear_backward_weight(const LinearParams& p, const T* x, const T* dy, T* dw) {
  p.validate();
  const std::int64_t blocks = (p.out + kLinearRowBlock - 1) / kLinearRowBlock;
  auto X = row_map(x, p.N, p.in, p.in);
#pragma omp parallel for schedule(static)
  for (std::int64_t blk = 0; blk < blocks; ++blk) {
    const std::int64_t o0 = blk * kLinearRowBlock, rows = std::min(kLinearRowBlock, p.out - o0);
    eigen_single_threaded([&] {
      row_map(dw + o0 * p.in, rows, p.in, p.in).noalias() += row_map(dy + o0, p.N, rows, p.out).transpose() * X;
    });
  }
}

template <class T>
inline void linear_backward_bias(const LinearParams& p, const T* dy, T* db) {
  p.validate();
  parallel_for(p.out, [&](std::int64_t o) {
    T s = 0;
    for (std::int64_t n = 0; n < p.N; ++n) s += dy[n * p.out + o];
    db[o] += s;
  });
}

// ---- tensor overloads: check the shapes, then call the pointer versions ----

template <class T>
inline void linear_forward(const LinearParams& p, std::type_identity_t<TensorView<const T>> x,
                           std::type_identity_t<TensorView<const T>> w, const T* b, TensorView<T> y) {
  p.validate();
  check_shape(x.shape(), p.input_shape(), "linear input x");
  check_shape(w.shape(), p.weight_shape(), "linear weight w");
  check_shape(y.shape(), p.output_shape(), "linear output y");
  linear_forward(p, x.data(), w.data(), b, y.data());
}

template <class T>
inline void linear_backward_input(const LinearParams& p, std::type_identity_t<TensorView<const T>> dy,
                                  std::type_identity_t<TensorView<const T>> w, TensorView<T> dx) {
  p.validate();
  check_shape(dy.shape(), p.output_shape(), "linear output gradient dy");
  check_shape(w.shape(), p.weight_shape(), "linear weight w");
  check_shape(dx.shape(), p.input_shape(), "linear input gradient dx");
  linear_backward_input(p, dy.data(), w.data(), dx.data());
}

template <class T>
inline void linear_backward_weight(const LinearParams& p, std::type_identity_t<TensorView<const T>> x,
                                   std::type_identity_t<TensorView<const T>> dy, TensorView<T> dw) {
  p.validate();
  check_shape(x.shape(), p.input_shape(), "linear input x");
  check_shape(dy.shape(), p.output_shape(), "linear output gradient dy");
  check_shape(dw.shape(), p.weight_shape(), "linear weight gradient dw");
  linear_backward_weight(p, x.data(), dy.data(), dw.data());
}

template <class T>
inline void linear_backward_bias(const LinearParams& p, std::type_identity_t<TensorView<const T>> dy,
                                 TensorView<T> db) {
  p.validate();
  check_shape(dy.shape(), p.output_shape(), "linear output gradient dy");
  check_shape(db.shape(), Shape{p.out}, "linear bias gradient db");
  linear_backward_bias(p, dy.data(), db.data());
}

// Compiled once where the program asks for it (kernels/instantiation.hpp).
#define MOODNET_LINEAR_KERNELS(prefix, T) \
  prefix template void linear_forward<T>(const LinearParams&, const T*, const T*, const T*, T*); \
  prefix template void linear_backward_input<T>(const LinearParams&, const T*, const T*, T*); \
  prefix template void linear_backward_weight<T>(const LinearParams&, const T*, const T*, T*);
MOODNET_KERNEL_INSTANTIATIONS(MOODNET_LINEAR_KERNELS)

}  // namespace moodnet::kernels
