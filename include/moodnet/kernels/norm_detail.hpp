#pragma once
// Shared internals of batchnorm2d.hpp and groupnorm.hpp (and the gradient-norm helper in
// optimizer_updates.hpp): deterministic double-precision sums over contiguous arrays and the
// per-plane affine loops of the normalisation forward/backward passes.
//
// Why: a compiler may not reorder a plain `double s += x[i]` loop (no -ffast-math), so such a loop
// runs one add at a time. Here every sum keeps kLanes independent double accumulators (lane j
// takes elements i with i % kLanes == j), which the compiler turns into vector adds, and then
// combines the lanes in a fixed order. The result depends only on the data and n (for a given
// build), never on the thread count: every caller sums a fixed block (a channel plane, a group, a
// fixed-size chunk) on one thread.
#include <algorithm>
#include <cstdint>

namespace moodnet::kernels::detail {

inline constexpr int kLanes = 8;

// Adds the lanes in a fixed pairwise order.
inline double combine_lanes(const double (&a)[kLanes]) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

// s1 += sum(x - shift), s2 += sum((x - shift)^2) over x[0, n). Shifting by a value close to the
// mean (e.g. the first element) keeps var = E[d^2] - E[d]^2 free of catastrophic cancellation.
template <class T>
inline void accumulate_shifted_moments(const T* x, std::int64_t n, double shift, double& s1, double& s2) {
  double a[kLanes] = {}, b[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double d = static_cast<double>(x[i + j]) - shift;
      a[j] += d;
      b[j] += d * d;
    }
  for (int j = 0; i < n; ++i, ++j) {
    const double d = static_cast<double>(x[i]) - shift;
    a[j] += d;
    b[j] += d * d;
  }
  s1 += combine_lanes(a);
  s2 += combine_lanes(b);
}

// A training-mode normalisation's per-channel affine y = x*scale + bias from the saved statistics
// (T-rounded): scale = gamma*rstd, bias = beta - mean*scale, computed in double and rounded once.
// Forward and backward both call it, so a fused ReLU's backward mask matches the forward.
template <class T>
inline void norm_scale_bias(T gamma, T beta, T mean, T rstd, T& scale, T& bias) {
  const double s = static_cast<double>(gamma) * static_cast<double>(rstd);
  scale = static_cast<T>(s);
  bias = static_cast<T>(static_cast<double>(beta) - static_cast<double>(mean) * s);
}

// The pre-activation of a fused ReLU, x*scale + bias. Forward and backward passes compute it with
// this one function so a backward mask is the forward's exactly.
template <class T>
inline T affine(T x, T scale, T bias) {
  return x * scale + bias;
}

// s_dy += sum(g), s_dyx += sum(g * (x - mean)) over [0, n): the two reductions of a normalisation
// backward pass. g = dy, or with relu g = (affine(x, scale, bias) > 0 ? dy : 0): a fused ReLU masks
// dy by its recomputed pre-activation.
template <class T>
inline void accumulate_dy_moments(const T* dy, const T* x, std::int64_t n, double mean, double& s_dy,
                                  double& s_dyx, bool relu = false, T scale = T(0), T bias = T(0)) {
  double a[kLanes] = {}, b[kLanes] = {};
  // Select in T, then widen: a branch-free blend (a branch on a ~50% random mask costs more than
  // the whole pass).
  auto grad = [&](std::int64_t i) {
    return static_cast<double>(!relu || affine(x[i], scale, bias) > T(0) ? dy[i] : T(0));
  };
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double g = grad(i + j);
      a[j] += g;
      b[j] += g * (static_cast<double>(x[i + j]) - mean);
    }
  for (int j = 0; i < n; ++i, ++j) {
    const double g = grad(i);
    a[j] += g;
    b[j] += g * (static_cast<double>(x[i]) - mean);
  }
  s_dy += combine_lanes(a);
  s_dyx += combine_lanes(b);
}

// sum(x^2) over [0, n).
template <class T>
inline double sum_of_squares(const T* x, std::int64_t n) {
  double a[kLanes] = {};
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double v = static_cast<double>(x[i + j]);
      a[j] += v * v;
    }
  for (int j = 0; i < n; ++i, ++j) a[j] += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return combine_lanes(a);
}

// y[i] = x[i]*scale + bias (optionally clamped at 0) over one plane.
template <class T>
inline void affine_plane(const T* x, T* y, std::int64_t n, T scale, T bias, bool relu) {
  if (relu)
    for (std::int64_t i = 0; i < n; ++i) y[i] = std::max(affine(x[i], scale, bias), T(0));
  else
    for (std::int64_t i = 0; i < n; ++i) y[i] = affine(x[i], scale, bias);
}

// dx[i] = k*dy[i] + cx*(x[i] - mean) + c0 over one plane, with dy masked by a fused ReLU when relu
// (mask: affine(x, scale, bias) > 0). (x - mean) is formed first so a large mean does not cancel
// against cx*x in float.
template <class T>
inline void norm_input_grad_plane(const T* x, const T* dy, T* dx, std::int64_t n, T k, T cx, T c0, T mean,
                                  T scale = T(0), T bias = T(0), bool relu = false) {
  if (relu)
    for (std::int64_t i = 0; i < n; ++i) {
      const T g = affine(x[i], scale, bias) > T(0) ? dy[i] : T(0);
      dx[i] = k * g + cx * (x[i] - mean) + c0;
    }
  else
    for (std::int64_t i = 0; i < n; ++i) dx[i] = k * dy[i] + cx * (x[i] - mean) + c0;
}

}  // namespace moodnet::kernels::detail

// Hand-vectorised float overloads of the functions above for AVX-512 builds (overload resolution
// prefers them for float; double and other builds use the templates).
#include "moodnet/kernels/norm_detail_avx512.hpp"
