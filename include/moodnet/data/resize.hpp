#pragma once
// Resizing 8-bit grayscale images to the network's input size: area averaging along an axis that
// shrinks (every source pixel contributes by its overlap, no aliasing), bilinear interpolation
// along an axis that grows (pixel centres at i + 0.5, as PIL and OpenCV). Same size is an exact copy.
//
// Separable: a weight table per axis, applied to rows then columns.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "moodnet/core/error.hpp"

namespace moodnet::data {

namespace detail {
// taps[d] = (source index, weight) pairs for destination index d; weights of each d sum to 1.
struct AxisTaps {
  std::vector<std::vector<std::pair<int, double>>> taps;
};

inline AxisTaps axis_taps(int src, int dst) {
  AxisTaps t;
  t.taps.resize(static_cast<std::size_t>(dst));
  const double s = static_cast<double>(src) / dst;  // source pixels per destination pixel
  for (int d = 0; d < dst; ++d) {
    auto& out = t.taps[static_cast<std::size_t>(d)];
    if (src > dst) {  // area: destination pixel d covers source interval [d*s, (d+1)*s)
      const double lo = d * s, hi = (d + 1) * s;
      for (int i = static_cast<int>(std::floor(lo)); i < static_cast<int>(std::ceil(hi)) && i < src; ++i) {
        const double overlap = std::min(hi, i + 1.0) - std::max(lo, static_cast<double>(i));
        if (overlap > 0) out.emplace_back(i, overlap / s);
      }
    } else {  // bilinear: centre of d maps to source coordinate (d + 0.5) * s - 0.5, clamped
      const double x = std::clamp((d + 0.5) * s - 0.5, 0.0, src - 1.0);
      const int i0 = static_cast<int>(std::floor(x));
      const int i1 = std::min(i0 + 1, src - 1);
      const double f = x - i0;
      out.emplace_back(i0, 1.0 - f);
      if (f > 0) out.emplace_back(i1, f);
    }
  }
  return t;
}
}  // namespace detail

// Resizes src [src_h, src_w] into dst [dst_h, dst_w] (see the header comment); values rounded to
// the nearest integer.
inline void resize_gray(const std::uint8_t* src, int src_h, int src_w, std::uint8_t* dst, int dst_h, int dst_w) {
  MOODNET_CHECK(src_h > 0 && src_w > 0 && dst_h > 0 && dst_w > 0, "resize_gray: bad sizes ", src_h, "x",
                src_w, " -> ", dst_h, "x", dst_w);
  if (src_h == dst_h && src_w == dst_w) {
    std::copy_n(src, static_cast<std::size_t>(src_h) * src_w, dst);
    return;
  }
  const auto tx = detail::axis_taps(src_w, dst_w), ty = detail::axis_taps(src_h, dst_h);
  std::vector<double> rows(static_cast<std::size_t>(src_h) * dst_w);  // [src_h, dst_w]: columns resized
  for (int y = 0; y < src_h; ++y)
    for (int x = 0; x < dst_w; ++x) {
      double v = 0;
      for (auto [i, w] : tx.taps[static_cast<std::size_t>(x)]) v += w * src[static_cast<std::size_t>(y) * src_w + i];
      rows[static_cast<std::size_t>(y) * dst_w + x] = v;
    }
  for (int y = 0; y < dst_h; ++y)
    for (int x = 0; x < dst_w; ++x) {
      double v = 0;
      for (auto [i, w] : ty.taps[static_cast<std::size_t>(y)]) v += w * rows[static_cast<std::size_t>(i) * dst_w + x];
      dst[static_cast<std::size_t>(y) * dst_w + x] = static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
}

}  // namespace moodnet::data
