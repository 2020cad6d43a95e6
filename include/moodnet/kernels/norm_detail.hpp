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
//
// AVX-512 float paths (the *_avx512 functions; every template below dispatches to its own for float
// in an AVX-512 build; double and portable builds run the template). Same contracts and the same
// math; what differs is only how the work is laid out:
//   * reductions widen 8 floats at a time to 8 double lanes and keep two accumulator vectors (the
//     even and the odd 8-blocks), so the add latency does not limit the pass; the tail (n % 8
//     values) is a masked block. Results depend only on the data and n, never on the thread count.
//   * elementwise passes handle 16 floats per instruction (8 for the masked ReLU backward), the
//     tail with a mask, and compute the ReLU pre-activation x*scale + bias with one fused
//     multiply-add in forward and backward alike, so a backward mask is bit-identical to the
//     forward's clamp.
// Why: the templates' masked reduction compiled to scalar code with a branch per element (4x
// slower than the unmasked pass, bench_layer_profile with MOODNET_BENCH_FUSE=1).
#include <algorithm>
#include <cstdint>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>

#include "moodnet/kernels/avx512_common.hpp"
#endif

namespace moodnet::kernels::detail {

inline constexpr int kLanes = 8;

// Adds the lanes in a fixed pairwise order.
inline double combine_lanes(const double (&a)[kLanes]) {
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

#if defined(__AVX512F__)
namespace simd {
// Bit mask selecting the first `count` (<= 8) lanes of an 8-lane vector (16 lanes: avx512::tail_mask).
inline __mmask8 first_lanes8(std::int64_t count) { return static_cast<__mmask8>((1u << count) - 1u); }

// 8 floats widened to doubles. (The zero-masked form: GCC 12 warns that the plain
// _mm512_cvtps_pd reads an uninitialised pass-through vector.)
inline __m512d widen(__m256 v) { return _mm512_maskz_cvtps_pd(__mmask8(0xFF), v); }
// 8 floats at p (only the first `count` lanes when count < 8; the others read as 0), widened.
inline __m512d load8_pd(const float* p, std::int64_t count = 8) {
  const __m256 v = count >= 8 ? _mm256_loadu_ps(p) : _mm256_maskz_loadu_ps(first_lanes8(count), p);
  return widen(v);
}
inline double lanes_sum(__m512d v) {
  alignas(64) double l[kLanes];
  _mm512_store_pd(l, v);
  return combine_lanes(l);
}
}  // namespace simd

// s1 += sum(x - shift), s2 += sum((x - shift)^2) over x[0, n).
inline void accumulate_shifted_moments_avx512(const float* x, std::int64_t n, double shift, double& s1, double& s2) {
  const __m512d sh = _mm512_set1_pd(shift);
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, b0 = a0, b1 = a0;
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512d d0 = _mm512_sub_pd(simd::load8_pd(x + i), sh);
    const __m512d d1 = _mm512_sub_pd(simd::load8_pd(x + i + 8), sh);
    a0 = _mm512_add_pd(a0, d0), b0 = _mm512_fmadd_pd(d0, d0, b0);
    a1 = _mm512_add_pd(a1, d1), b1 = _mm512_fmadd_pd(d1, d1, b1);
  }
  for (; i < n; i += 8) {
    const std::int64_t count = n - i < 8 ? n - i : 8;
    const __m512d d = _mm512_maskz_sub_pd(simd::first_lanes8(count), simd::load8_pd(x + i, count), sh);
    a0 = _mm512_add_pd(a0, d), b0 = _mm512_fmadd_pd(d, d, b0);
  }
  s1 += simd::lanes_sum(_mm512_add_pd(a0, a1));
  s2 += simd::lanes_sum(_mm512_add_pd(b0, b1));
}

namespace simd {
// g where x*scale + bias > 0, else 0: the fused ReLU's backward mask, as a VEX compare into a vector
// mask and an AND. (The AVX-512 form — compare into a k-mask, then a zero-masked move — measured
// 2.5x slower for the whole reduction on this Zen 5.)
inline __m256 relu_mask(__m256 g, __m256 x, __m256 scale, __m256 bias) {
  return _mm256_and_ps(_mm256_cmp_ps(_mm256_fmadd_ps(x, scale, bias), _mm256_setzero_ps(), _CMP_GT_OQ), g);
}

// The body of accumulate_dy_moments with the ReLU choice fixed at compile time (a run-time flag
// inside the loop, or a lambda taking the accumulators by reference, measured slower).
template <bool Relu>
inline void dy_moments(const float* dy, const float* x, std::int64_t n, double mean, double& s_dy, double& s_dyx,
                       float scale, float bias) {
  const __m512d m = _mm512_set1_pd(mean);
  const __m256 sc = _mm256_set1_ps(scale), bi = _mm256_set1_ps(bias);
  __m512d a0 = _mm512_setzero_pd(), a1 = a0, b0 = a0, b1 = a0;
  std::int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
    __m256 g0 = _mm256_loadu_ps(dy + i), g1 = _mm256_loadu_ps(dy + i + 8);
    if constexpr (Relu) g0 = relu_mask(g0, x0, sc, bi), g1 = relu_mask(g1, x1, sc, bi);
    const __m512d gd0 = widen(g0), gd1 = widen(g1);
    a0 = _mm512_add_pd(a0, gd0), a1 = _mm512_add_pd(a1, gd1);
    b0 = _mm512_fmadd_pd(gd0, _mm512_sub_pd(widen(x0), m), b0);
    b1 = _mm512_fmadd_pd(gd1, _mm512_sub_pd(widen(x1), m), b1);
  }
  for (; i < n; i += 8) {  // tail blocks of up to 8; masked-off lanes load g = 0
    const __mmask8 lanes = first_lanes8(n - i < 8 ? n - i : 8);
    const __m256 x0 = _mm256_maskz_loadu_ps(lanes, x + i);
    __m256 g0 = _mm256_maskz_loadu_ps(lanes, dy + i);
    if constexpr (Relu) g0 = relu_mask(g0, x0, sc, bi);
    const __m512d gd0 = widen(g0);
    a0 = _mm512_add_pd(a0, gd0);
    b0 = _mm512_fmadd_pd(gd0, _mm512_sub_pd(widen(x0), m), b0);
  }
  s_dy += lanes_sum(_mm512_add_pd(a0, a1));
  s_dyx += lanes_sum(_mm512_add_pd(b0, b1));
}
}  // namespace simd

// s_dy += sum(g), s_dyx += sum(g * (x - mean)), g = dy (masked by x*scale + bias > 0 when relu).
inline void accumulate_dy_moments_avx512(const float* dy, const float* x, std::int64_t n, double mean, double& s_dy,
                                         double& s_dyx, bool relu, float scale, float bias) {
  if (relu) simd::dy_moments<true>(dy, x, n, mean, s_dy, s_dyx, scale, bias);
  else simd::dy_moments<false>(dy, x, n, mean, s_dy, s_dyx, scale, bias);
}

// sum(x^2) over [0, n).
inline double sum_of_squares_avx512(const float* x, std::int64_t n) {
  __m512d a0 = _mm512_setzero_pd(), a1 = a0;
  for (std::int64_t i = 0, block = 0; i < n; i += 8, ++block) {
    const __m512d v = simd::load8_pd(x + i, n - i < 8 ? n - i : 8);
    if (block & 1) a1 = _mm512_fmadd_pd(v, v, a1);
    else a0 = _mm512_fmadd_pd(v, v, a0);
  }
  return simd::lanes_sum(_mm512_add_pd(a0, a1));
}

// y[i] = x[i]*scale + bias (optionally clamped at 0).
inline void affine_plane_avx512(const float* x, float* y, std::int64_t n, float scale, float bias, bool relu) {
  const __m512 sc = _mm512_set1_ps(scale), bi = _mm512_set1_ps(bias), zero = _mm512_setzero_ps();
  for (std::int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = avx512::tail_mask(n - i);
    __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, x + i), sc, bi);
    if (relu) v = _mm512_maskz_max_ps(__mmask16(0xFFFF), v, zero);  // (maskz: see widen())
    _mm512_mask_storeu_ps(y + i, lanes, v);
  }
}

// dx[i] = k*g + cx*(x[i] - mean) + c0, g = dy[i] (masked by x*scale + bias > 0 when relu).
inline void norm_input_grad_plane_avx512(const float* x, const float* dy, float* dx, std::int64_t n, float k,
                                         float cx, float c0, float mean, float scale, float bias, bool relu) {
  if (relu) {  // 8 at a time with the VEX mask (see simd::relu_mask)
    const __m256 kv = _mm256_set1_ps(k), cxv = _mm256_set1_ps(cx), c0v = _mm256_set1_ps(c0), mv = _mm256_set1_ps(mean),
                 sc = _mm256_set1_ps(scale), bi = _mm256_set1_ps(bias);
    for (std::int64_t i = 0; i < n; i += 8) {
      const __mmask8 lanes = simd::first_lanes8(n - i < 8 ? n - i : 8);
      const __m256 xv = n - i >= 8 ? _mm256_loadu_ps(x + i) : _mm256_maskz_loadu_ps(lanes, x + i);
      const __m256 dv = n - i >= 8 ? _mm256_loadu_ps(dy + i) : _mm256_maskz_loadu_ps(lanes, dy + i);
      const __m256 g = simd::relu_mask(dv, xv, sc, bi);
      const __m256 r = _mm256_fmadd_ps(kv, g, _mm256_fmadd_ps(cxv, _mm256_sub_ps(xv, mv), c0v));
      if (n - i >= 8) _mm256_storeu_ps(dx + i, r);
      else _mm256_mask_storeu_ps(dx + i, lanes, r);
    }
    return;
  }
  const __m512 kv = _mm512_set1_ps(k), cxv = _mm512_set1_ps(cx), c0v = _mm512_set1_ps(c0), mv = _mm512_set1_ps(mean);
  for (std::int64_t i = 0; i < n; i += 16) {
    const __mmask16 lanes = avx512::tail_mask(n - i);
    const __m512 xv = _mm512_maskz_loadu_ps(lanes, x + i);
    const __m512 g = _mm512_maskz_loadu_ps(lanes, dy + i);
    const __m512 r = _mm512_fmadd_ps(kv, g, _mm512_fmadd_ps(cxv, _mm512_sub_ps(xv, mv), c0v));
    _mm512_mask_storeu_ps(dx + i, lanes, r);
  }
}
#endif  // __AVX512F__

// s1 += sum(x - shift), s2 += sum((x - shift)^2) over x[0, n). Shifting by a value close to the
// mean (e.g. the first element) keeps var = E[d^2] - E[d]^2 free of catastrophic cancellation.
template <class T>
inline void accumulate_shifted_moments(const T* x, std::int64_t n, double shift, double& s1, double& s2) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    accumulate_shifted_moments_avx512(x, n, shift, s1, s2);
    return;
  }
#endif
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
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    accumulate_dy_moments_avx512(dy, x, n, mean, s_dy, s_dyx, relu, scale, bias);
    return;
  }
#endif
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
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) return sum_of_squares_avx512(x, n);
#endif
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
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    affine_plane_avx512(x, y, n, scale, bias, relu);
    return;
  }
#endif
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
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    norm_input_grad_plane_avx512(x, dy, dx, n, k, cx, c0, mean, scale, bias, relu);
    return;
  }
#endif
  if (relu)
    for (std::int64_t i = 0; i < n; ++i) {
      const T g = affine(x[i], scale, bias) > T(0) ? dy[i] : T(0);
      dx[i] = k * g + cx * (x[i] - mean) + c0;
    }
  else
    for (std::int64_t i = 0; i < n; ++i) dx[i] = k * dy[i] + cx * (x[i] - mean) + c0;
}

}  // namespace moodnet::kernels::detail
