#pragma once
// Inverted dropout, forward and backward.
//
//   training: mask_i ~ Bernoulli(1 - p)      y_i = x_i * mask_i / (1 - p)     (E[y_i] = x_i)
//   eval:     y = x (the mask is not touched)
//   backward: dx_i = dy_i * mask_i / (1 - p) in training, dx = dy in eval (y is linear in x).
//
// The mask is stored as one uint8 per element (1 = kept) and reused by the backward pass.
// Determinism: element i sits at position g = offset + i of a whole tensor (offset 0 unless the
// caller holds a piece of one); positions are split into fixed chunks of kDropoutChunk and chunk c
// draws from Rng(seed, c), so the mask of position g depends only on (seed, g, p), never on the
// thread count nor on how the tensor is split: a data-parallel rank holding items [b, e) of a
// global batch passes offset = b x item size and gets the masks the whole batch has there. A layer
// passes a different seed each step (e.g. base seed + step). Each 64-bit draw gives two 32-bit
// uniforms (position k of a chunk: the low half of draw k / 2 for even k, the high half for odd);
// an element keeps when its uniform u satisfies u >= floor(p * 2^32), i.e. with probability 1 - p
// to within 2^-32. In-place capable: y may be x, dx may be dy.
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
  std::int64_t offset = 0;  // position of element 0 in the whole tensor (a shard's first item x item size)

  void validate() const {
    MOODNET_CHECK(n >= 0, "dropout: element count must be >= 0, got n=", n);
    MOODNET_CHECK(offset >= 0, "dropout: offset must be >= 0, got offset=", offset);
    MOODNET_CHECK(p >= 0.0 && p < 1.0, "dropout: p must be in [0, 1), got p=", p);
  }
  // Keep threshold on a 32-bit uniform: keep when u >= threshold.
  std::uint64_t threshold() const { return static_cast<std::uint64_t>(p * 4294967296.0); }
};

namespace detail {
// Fills mask[0, count) with positions [first, first + count) of chunk `chunk` of DropoutParams p
// (first + count <= kDropoutChunk). A piece that starts inside the chunk (a shard's first chunk)
// skips the first / 2 draws before it, and takes the high half of the next one when first is odd.
inline void dropout_draw_chunk(const DropoutParams& p, std::int64_t chunk, std::int64_t first, std::int64_t count,
                               std::uint8_t* mask) {
  Rng rng(p.seed, static_cast<std::uint64_t>(chunk));
  for (std::int64_t k = 0; k < first / 2; ++k) rng.next_u64();
  const std::uint64_t th = p.threshold();
  std::int64_t i = 0;
  if (first % 2 == 1 && count > 0) mask[i++] = (rng.next_u64() >> 32) >= th;
  for (; i < count; i += 2) {
    const std::uint64_t u = rng.next_u64();
    mask[i] = (u & 0xFFFFFFFFull) >= th;
    if (i + 1 < count) mask[i + 1] = (u >> 32) >= th;
  }
}

// body(chunk, first, begin, end) for every fixed chunk the positions [offset, offset + n) touch:
// elements [begin, end) of the piece are positions [first, first + end - begin) of chunk `chunk`.
// In parallel when there are several.
template <class Body>
inline void for_each_dropout_chunk(std::int64_t offset, std::int64_t n, Body&& body) {
  if (n <= 0) return;
  const std::int64_t c0 = offset / kDropoutChunk, chunks = (offset + n - 1) / kDropoutChunk - c0 + 1;
  const auto run = [&](std::int64_t k) {
    const std::int64_t c = c0 + k, start = c * kDropoutChunk;
    const std::int64_t b = std::max(offset, start), e = std::min(offset + n, start + kDropoutChunk);
    body(c, b - start, b - offset, e - offset);
  };
  if (chunks == 1) {
    run(0);
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
  detail::for_each_dropout_chunk(p.offset, p.n, [=](std::int64_t c, std::int64_t at, std::int64_t b, std::int64_t e) {
    detail::dropout_draw_chunk(p, c, at, e - b, mask + b);
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
  detail::for_each_dropout_chunk(p.offset, p.n, [=](std::int64_t, std::int64_t, std::int64_t b, std::int64_t e) {
#pragma omp simd
    for (std::int64_t i = b; i < e; ++i) dx[i] = mask[i] ? dy[i] * scale : T(0);
  });
}

}  // namespace moodnet::kernels
