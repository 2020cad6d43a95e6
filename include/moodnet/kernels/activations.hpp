#pragma once
// Elementwise activations, forward and backward: ReLU, ReLU6, LeakyReLU(slope).
//
// All are in-place capable (x == y, dy == dx allowed): every element is read before it is written
// and elements are independent. Backward passes take the saved forward OUTPUT y, not the input,
// so a layer may run the forward in place and keep only y:
//   ReLU:       y = max(x, 0)             dx = dy * [y > 0]          (y > 0 <=> x > 0)
//   ReLU6:      y = min(max(x, 0), 6)     dx = dy * [0 < y < 6]      (<=> 0 < x < 6, as PyTorch)
//   LeakyReLU:  y = x > 0 ? x : slope*x   dx = dy * (y > 0 ? 1 : slope), needs slope >= 0 so that
//                                         y > 0 <=> x > 0 (a negative slope would flip the sign)
// At the kinks (x == 0, x == 6) the gradient is 0 for ReLU/ReLU6 and slope for LeakyReLU, as PyTorch.
// Large tensors are split into contiguous chunks over the threads; small ones run serially (a
// parallel region costs more than a few thousand elements). Results never depend on the split.
// The loop lambdas capture by value: with captured references GCC reloads the pointers after
// every store (they might alias) and the loops do not vectorise.
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"

namespace moodnet::kernels {

struct ActivationParams {
  std::int64_t n = 0;       // number of elements
  double slope = 0.01;      // LeakyReLU only: negative slope, >= 0
  void validate() const {
    MOODNET_CHECK(n >= 0, "activation: element count must be >= 0, got n=", n);
    MOODNET_CHECK(slope >= 0, "leaky_relu: slope must be >= 0 (backward reads the output), got slope=", slope);
  }
};

namespace detail {
// Elements below which an elementwise kernel runs on the calling thread.
inline constexpr std::int64_t kEltwiseSerialBelow = 1 << 15;

// body(begin, end) over [0, n): in parallel chunks for large n, serially otherwise.
template <class Body>
inline void eltwise_for(std::int64_t n, Body&& body) {
  if (n < kEltwiseSerialBelow)
    body(std::int64_t{0}, n);
  else
    parallel_for_chunks(n, body);
}
}  // namespace detail

// x, y: [n] (y may be x).
template <class T>
inline void relu_forward(const ActivationParams& p, const T* x, T* y) {
  p.validate();
  detail::eltwise_for(p.n, [=](std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) {
      const T v = x[i];
      y[i] = v > T(0) ? v : T(0);
    }
  });
}
// y: [n] saved forward output; dy, dx: [n] (dx overwritten, may be dy).
template <class T>
inline void relu_backward(const ActivationParams& p, const T* y, const T* dy, T* dx) {
  p.validate();
  detail::eltwise_for(p.n, [=](std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) {
      const T g = dy[i];  // loaded unconditionally: a blend, not a masked load
      dx[i] = y[i] > T(0) ? g : T(0);
    }
  });
}

// x, y: [n] (y may be x).
template <class T>
inline void relu6_forward(const ActivationParams& p, const T* x, T* y) {
  p.validate();
  detail::eltwise_for(p.n, [=](std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) {
      const T v = x[i] > T(0) ? x[i] : T(0);
      y[i] = v < T(6) ? v : T(6);
    }
  });
}
// y: [n] saved forward output; dy, dx: [n] (dx overwritten, may be dy).
template <class T>
inline void relu6_backward(const ActivationParams& p, const T* y, const T* dy, T* dx) {
  p.validate();
  detail::eltwise_for(p.n, [=](std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) {
      const T g = dy[i];
      dx[i] = (y[i] > T(0) && y[i] < T(6)) ? g : T(0);
    }
  });
}

// x, y: [n] (y may be x); p.slope >= 0.
template <class T>
inline void leaky_relu_forward(const ActivationParams& p, const T* x, T* y) {
  p.validate();
  const T slope = static_cast<T>(p.slope);
  detail::eltwise_for(p.n, [=](std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) y[i] = x[i] > T(0) ? x[i] : slope * x[i];
  });
}
// y: [n] saved forward output; dy, dx: [n] (dx overwritten, may be dy).
template <class T>
inline void leaky_relu_backward(const ActivationParams& p, const T* y, const T* dy, T* dx) {
  p.validate();
  const T slope = static_cast<T>(p.slope);
  detail::eltwise_for(p.n, [=](std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) {
      const T g = dy[i];
      dx[i] = y[i] > T(0) ? g : slope * g;
    }
  });
}

}  // namespace moodnet::kernels
