#pragma once
// Resizing 8-bit images to the size a dataset is stored at: area averaging along an axis that
// shrinks (every source pixel contributes by its overlap, no aliasing), bilinear interpolation
// along an axis that grows (pixel centres at i + 0.5, as PIL and OpenCV). Same size is an exact copy.
// Separable: a weight table per axis, applied to rows then columns, the same for every channel.
//
// Aspect rule (ResizeMode) when the source and target aspect ratios differ:
//   crop     (the default) keep the aspect: take the largest centred window of the source with
//            the target's aspect ratio, then resize it — the same as "resize the shorter side to
//            the target, then centre-crop" (torchvision Resize + CenterCrop) up to rounding the
//            window to whole source pixels. Nothing is distorted; the borders of the longer side
//            are lost.
//   stretch  resize each axis independently to the target: the whole image is kept, distorted
//            when the aspect ratios differ (what FER-2013's readers have always done; its images
//            are 48x48, so it never matters there).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
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

namespace detail {
// Resizes the window [src_h, src_w] of a plane whose rows are `stride` bytes apart into dst
// [dst_h, dst_w] with the given taps; `rows` is scratch.
inline void resize_plane(const std::uint8_t* src, std::ptrdiff_t stride, int src_h, std::uint8_t* dst, int dst_h,
                         int dst_w, const AxisTaps& tx, const AxisTaps& ty, std::vector<double>& rows) {
  rows.resize(static_cast<std::size_t>(src_h) * dst_w);  // [src_h, dst_w]: columns resized
  for (int y = 0; y < src_h; ++y)
    for (int x = 0; x < dst_w; ++x) {
      double v = 0;
      for (auto [i, w] : tx.taps[static_cast<std::size_t>(x)]) v += w * src[y * stride + i];
      rows[static_cast<std::size_t>(y) * dst_w + x] = v;
    }
  for (int y = 0; y < dst_h; ++y)
    for (int x = 0; x < dst_w; ++x) {
      double v = 0;
      for (auto [i, w] : ty.taps[static_cast<std::size_t>(y)]) v += w * rows[static_cast<std::size_t>(i) * dst_w + x];
      dst[static_cast<std::size_t>(y) * dst_w + x] = static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
}
}  // namespace detail

enum class ResizeMode { crop, stretch };

inline const char* resize_mode_name(ResizeMode m) { return m == ResizeMode::crop ? "crop" : "stretch"; }
inline ResizeMode parse_resize_mode(const std::string& s) {
  if (s == "crop") return ResizeMode::crop;
  if (s == "stretch") return ResizeMode::stretch;
  fail("unknown resize mode '", s, "' (expected crop or stretch)");
}

// The source window that ResizeMode::crop resizes: rows [y0, y0+h) x columns [x0, x0+w).
struct CropBox {
  int y0 = 0, x0 = 0, h = 0, w = 0;
};
// The largest centred window of a src_h x src_w image with the aspect ratio dst_w / dst_h
// (rounded to whole pixels, at least 1); the whole image when the aspects agree.
inline CropBox centre_crop_box(int src_h, int src_w, int dst_h, int dst_w) {
  CropBox b{0, 0, src_h, src_w};
  const std::int64_t wide = std::int64_t{src_w} * dst_h, tall = std::int64_t{src_h} * dst_w;
  if (wide > tall) {  // source relatively wider: keep all rows, crop columns
    b.w = std::clamp(static_cast<int>(std::lround(static_cast<double>(src_h) * dst_w / dst_h)), 1, src_w);
    b.x0 = (src_w - b.w) / 2;
  } else if (tall > wide) {
    b.h = std::clamp(static_cast<int>(std::lround(static_cast<double>(src_w) * dst_h / dst_w)), 1, src_h);
    b.y0 = (src_h - b.h) / 2;
  }
  return b;
}

// Resizes planar src [channels, src_h, src_w] into dst [channels, dst_h, dst_w] by `mode` (see
// the header comment); values rounded to the nearest integer.
inline void resize_image(const std::uint8_t* src, int channels, int src_h, int src_w, std::uint8_t* dst, int dst_h,
                         int dst_w, ResizeMode mode) {
  MOODNET_CHECK(channels > 0 && src_h > 0 && src_w > 0 && dst_h > 0 && dst_w > 0, "resize: bad sizes ", channels,
                "x", src_h, "x", src_w, " -> ", dst_h, "x", dst_w);
  const std::size_t src_plane = static_cast<std::size_t>(src_h) * src_w, dst_plane = static_cast<std::size_t>(dst_h) * dst_w;
  if (src_h == dst_h && src_w == dst_w) {
    std::copy_n(src, src_plane * static_cast<std::size_t>(channels), dst);
    return;
  }
  const CropBox b = mode == ResizeMode::crop ? centre_crop_box(src_h, src_w, dst_h, dst_w) : CropBox{0, 0, src_h, src_w};
  const auto tx = detail::axis_taps(b.w, dst_w), ty = detail::axis_taps(b.h, dst_h);
  std::vector<double> rows;
  for (int c = 0; c < channels; ++c)
    detail::resize_plane(src + c * src_plane + static_cast<std::size_t>(b.y0) * src_w + b.x0, src_w, b.h,
                         dst + c * dst_plane, dst_h, dst_w, tx, ty, rows);
}

// One gray plane, stretched: src [src_h, src_w] -> dst [dst_h, dst_w].
inline void resize_gray(const std::uint8_t* src, int src_h, int src_w, std::uint8_t* dst, int dst_h, int dst_w) {
  resize_image(src, 1, src_h, src_w, dst, dst_h, dst_w, ResizeMode::stretch);
}

}  // namespace moodnet::data
