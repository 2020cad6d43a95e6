#pragma once
// Inverted dropout, forward and backward.
//
//   training: mask_i ~ Bernoulli(1 - p)      y_i = x_i * mask_i / (1 - p)     (E[y_i] = x_i)
//   eval:     y = x (the mask is not touched)
//   backward: dx_i = dy_i * mask_i / (1 - p) in training, dx = dy in eval (y is linear in x).
//
// The mask is stored as one uint8 per element (1 = kept) and reused by the backward pass.
// Determinism: elements are split into fixed chunks of kDropoutChunk; chunk c draws from
// Rng(seed, c), so the mask depends only on (seed, n, p) and never on the thread count. A layer
// passes a different seed each step (e.g. base seed + step). Each 64-bit draw gives two 32-bit
// uniforms, element i keeps when its uniform u satisfies u >= floor(p * 2^32), i.e. with
// probability 1 - p to within 2^-32. In-place capable: y may be x, dx may be dy.
#include <algorithm>
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"

namespace moodnet::kernels {

// Elements per random stream (a multiple of 2: each 64-bit draw serves two elements).
inline constexpr std::int64_t kDropoutChunk = kRngChunk;

struct DropoutParams {
  std::int64_t n = 0;       // number of elements
  double p = 0.5;           // drop probability, in [0, 1)
  bool training = true;     // eval mode is the identity
  std::uint64_t seed = 0;   // mask seed; change it every step

  void validate() const {
    MOODNET_CHECK(n >= 0, "dropout: element count must be >= 0, got n=", n);
    MOODNET_CHECK(p >= 0.0 && p < 1.0, "dropout: p must be in [0, 1), got p=", p);
  }
  // Keep threshold on a 32-bit uniform: keep when u >= threshold.
  std::uint64_t threshold() const { return static_cast<std::uint64_t>(p * 4294967296.0); }
};

namespace detail {
// Fills mask[0, count) for chunk `chunk` of DropoutParams p (count <= kDropoutChunk).
inline void dropout_draw_chunk(const DropoutParams& p, std::int64_t chunk, std::int64_t count, std::uint8_t* mask) {
  Rng rng(p.seed, static_cast<std::uint64_t>(chunk));
  const std::uint64_t th = p.threshold();
  for (std::int64_t i = 0; i < count; i += 2) {
    const std::uint64_t u = rng.next_u64();
    mask[i] = (u & 0xFFFFFFFFull) >= th;
    if (i + 1 < count) mask[i + 1] = (u >> 32) >= th;
  }
}

// body(chunk, begin, end) for every fixed chunk of [0, n): in parallel when there are several.
template <class Body>
inline void for_each_dropout_chunk(std::int64_t n, Body&& body) {
  const std::int64_t chunks = (n + kDropoutChunk - 1) / kDropoutChunk;
  const auto run = [&](std::int64_t c) { body(c, c * kDropoutChunk, std::min(n, (c + 1) * kDropoutChunk)); };
  if (chunks <= 1) {
    if (chunks == 1) run(0);
  } else {
    parallel_for(chunks, run);
  }
}
}  // namespace detail

// x, y: [n] (y may be x); mask: [n] uint8, written in training (1 = kept), untouched in eval.
template <class T>
inline void dropout_forward(const DropoutParams& p, const T* x, T* y, std::uint8_t* mask) {
  p.validate();
  if (!p.training) {
    if (y != x) std::copy(x, x + p.n, y);
    return;
  }
  const T scale = static_cast<T>(1.0 / (1.0 - p.p));
  detail::for_each_dropout_chunk(p.n, [=](std::int64_t c, std::int64_t b, std::int64_t e) {
    detail::dropout_draw_chunk(p, c, e - b, mask + b);
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) y[i] = mask[i] ? x[i] * scale : T(0);
  });
}

// dy, dx: [n] (dx overwritten, may be dy); mask: [n] from dropout_forward with the same p.
template <class T>
inline void dropout_backward(const DropoutParams& p, const T* dy, const std::uint8_t* mask, T* dx) {
  p.validate();
  if (!p.training) {
    if (dx != dy) std::copy(dy, dy + p.n, dx);
    return;
  }
  const T scale = static_cast<T>(1.0 / (1.0 - p.p));
  detail::for_each_dropout_chunk(p.n, [=](std::int64_t, std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) dx[i] = mask[i] ? dy[i] * scale : T(0);
  });
}

}  // namespace moodnet::kernels
