#pragma once
// Naive oracle for dropout.hpp: draws the mask of the whole tensor, positions [0, offset + n),
// element by element from the same per-chunk streams (Rng(seed, g / kDropoutChunk), two 32-bit
// uniforms per 64-bit draw), keeps its last n (the piece's) and applies them.
#include <cstdint>

#include "moodnet/kernels/dropout.hpp"

namespace moodnet::kernels::ref {

// x, y, mask: [n].
template <class T>
inline void dropout_forward(const DropoutParams& p, const T* x, T* y, std::uint8_t* mask) {
  p.validate();
  if (!p.training) {
    for (std::int64_t i = 0; i < p.n; ++i) y[i] = x[i];
    return;
  }
  Rng rng;
  std::uint64_t u = 0;
  for (std::int64_t g = 0; g < p.offset + p.n; ++g) {
    if (g % kDropoutChunk == 0) rng = Rng(p.seed, static_cast<std::uint64_t>(g / kDropoutChunk));
    if (g % 2 == 0) u = rng.next_u64();
    if (g < p.offset) continue;  // before the piece
    const std::uint64_t u32 = g % 2 == 0 ? (u & 0xFFFFFFFFull) : (u >> 32);
    const std::int64_t i = g - p.offset;
    mask[i] = u32 >= p.threshold();
    y[i] = mask[i] ? x[i] * static_cast<T>(1.0 / (1.0 - p.p)) : T(0);
  }
}

// dy, mask, dx: [n].
template <class T>
inline void dropout_backward(const DropoutParams& p, const T* dy, const std::uint8_t* mask, T* dx) {
  p.validate();
  for (std::int64_t i = 0; i < p.n; ++i)
    dx[i] = !p.training ? dy[i] : mask[i] ? dy[i] * static_cast<T>(1.0 / (1.0 - p.p)) : T(0);
}

}  // namespace moodnet::kernels::ref
