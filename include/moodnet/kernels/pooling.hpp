#pragma once
// Pooling, NCHW: max pooling (argmax kept for backward), average pooling (count_include_pad like
// PyTorch's default), global average pooling. Planes (n, c) are independent and spread over the
// threads, so every result is the same for any thread count.
//
//   window of output (oh, ow):  rows oh*sh - ph .. + kh-1, cols ow*sw - pw .. + kw-1
//   x plane [H, W]                      y plane [Ho, Wo], Ho = (H + 2ph - kh)/sh + 1
//   +----+----+----+----+               +----+----+
//   | a  | b  | .  | .  |  2x2 s2  ──►  |max |    |      argmax[n,c,oh,ow] = ih*W + iw of the
//   | c  | d  | .  | .  |               |abcd|    |      winner (an index into the x plane)
//   +----+----+----+----+               +----+----+
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"

namespace moodnet::kernels {

// Max-pool comparison: v replaces the running maximum m when larger, or when it is the first NaN.
template <class T>
inline bool max_pool_wins(T v, T m) {
  return v > m || (v != v && m == m);  // (v != v) is isnan(v), written so that it vectorises
}

struct Pool2dParams {
  std::int64_t N = 0, C = 0, H = 0, W = 0;  // input [N, C, H, W]
  std::int64_t kernel_h = 2, kernel_w = 2;
  std::int64_t stride_h = 2, stride_w = 2;
  std::int64_t pad_h = 0, pad_w = 0;

  std::int64_t out_h() const { return (H + 2 * pad_h - kernel_h) / stride_h + 1; }
  std::int64_t out_w() const { return (W + 2 * pad_w - kernel_w) / stride_w + 1; }

  // Throws moodnet::Error naming the bad value. Padding is at most half the kernel (as PyTorch),
  // so every window holds at least one real input.
  void validate() const {
    MOODNET_CHECK(N >= 1 && C >= 1 && H >= 1 && W >= 1, "pool2d: sizes must be >= 1, got N=", N, " C=", C,
                  " H=", H, " W=", W);
    MOODNET_CHECK(kernel_h >= 1 && kernel_w >= 1, "pool2d: kernel must be >= 1x1, got kernel_h=", kernel_h,
                  " kernel_w=", kernel_w);
    MOODNET_CHECK(stride_h >= 1 && stride_w >= 1, "pool2d: strides must be >= 1, got stride_h=", stride_h,
                  " stride_w=", stride_w);
    MOODNET_CHECK(pad_h >= 0 && pad_w >= 0 && 2 * pad_h <= kernel_h && 2 * pad_w <= kernel_w,
                  "pool2d: padding must be in [0, kernel/2], got pad_h=", pad_h, " pad_w=", pad_w, " for kernel ",
                  kernel_h, "x", kernel_w);
    MOODNET_CHECK(H + 2 * pad_h >= kernel_h && W + 2 * pad_w >= kernel_w, "pool2d: kernel ", kernel_h, "x",
                  kernel_w, " larger than the padded input ", H + 2 * pad_h, "x", W + 2 * pad_w);
    MOODNET_CHECK(H * W <= std::numeric_limits<std::int32_t>::max(), "pool2d: plane ", H, "x", W,
                  " too large for int32 argmax indices");
  }
};

// The window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1).
struct PoolWindow {
  std::int64_t h0, h1, w0, w1;
};
inline PoolWindow pool_window(const Pool2dParams& p, std::int64_t oh, std::int64_t ow) {
  const std::int64_t hs = oh * p.stride_h - p.pad_h, ws = ow * p.stride_w - p.pad_w;
  return {std::max<std::int64_t>(hs, 0), std::min(hs + p.kernel_h, p.H), std::max<std::int64_t>(ws, 0),
          std::min(ws + p.kernel_w, p.W)};
}

// y = max over each window; argmax = index (ih*W + iw) of the first maximum in row-major window
// order (a NaN wins, so NaNs propagate as in PyTorch). Padding never wins.
// x: [N, C, H, W]; y: [N, C, Ho, Wo]; argmax: [N, C, Ho, Wo] int32.
template <class T>
inline void max_pool2d_forward(const Pool2dParams& p, const T* x, T* y, std::int32_t* argmax) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w(), HW = p.H * p.W;
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    const T* xc = x + nc * HW;
    T* yc = y + nc * Ho * Wo;
    std::int32_t* ac = argmax + nc * Ho * Wo;
    if (p.kernel_h == 2 && p.kernel_w == 2 && p.stride_h == 2 && p.stride_w == 2 && p.pad_h == 0 && p.pad_w == 0) {
      // The CustomNet case: four candidates, no bounds checks, selects instead of branches (random
      // data would mispredict about half of them), vectorised along the output row.
      const std::int64_t W = p.W;
      for (std::int64_t oh = 0; oh < Ho; ++oh) {
        const T* r0 = xc + 2 * oh * W;
        const T* r1 = r0 + W;
        T* yr = yc + oh * Wo;
        std::int32_t* ar = ac + oh * Wo;
        const auto base = static_cast<std::int32_t>(2 * oh * W);
#pragma omp simd
        for (std::int64_t ow = 0; ow < Wo; ++ow) {
          const auto iw = static_cast<std::int32_t>(2 * ow);
          T m = r0[2 * ow];
          std::int32_t a = base + iw;
          const T v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
          const bool b1 = max_pool_wins(v1, m);
          m = b1 ? v1 : m;
          a = b1 ? base + iw + 1 : a;
          const bool b2 = max_pool_wins(v2, m);
          m = b2 ? v2 : m;
          a = b2 ? base + static_cast<std::int32_t>(W) + iw : a;
          const bool b3 = max_pool_wins(v3, m);
          m = b3 ? v3 : m;
          a = b3 ? base + static_cast<std::int32_t>(W) + iw + 1 : a;
          yr[ow] = m;
          ar[ow] = a;
        }
      }
      return;
    }
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const PoolWindow win = pool_window(p, oh, ow);
        std::int64_t a = win.h0 * p.W + win.w0;
        T m = xc[a];
        for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
          for (std::int64_t iw = win.w0; iw < win.w1; ++iw) {
            const T v = xc[ih * p.W + iw];
            if (max_pool_wins(v, m)) m = v, a = ih * p.W + iw;
          }
        yc[oh * Wo + ow] = m;
        ac[oh * Wo + ow] = static_cast<std::int32_t>(a);
      }
  });
}

// dx = dL/dx (overwritten): dx[n,c,argmax[n,c,oh,ow]] += dy[n,c,oh,ow], zero elsewhere (a value
// that wins several overlapping windows collects all of their gradients).
// dy: [N, C, Ho, Wo]; argmax: [N, C, Ho, Wo] from max_pool2d_forward; dx: [N, C, H, W].
template <class T>
inline void max_pool2d_backward(const Pool2dParams& p, const T* dy, const std::int32_t* argmax, T* dx) {
  p.validate();
  const std::int64_t HoWo = p.out_h() * p.out_w(), HW = p.H * p.W;
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    T* dxc = dx + nc * HW;
    const T* dyc = dy + nc * HoWo;
    const std::int32_t* ac = argmax + nc * HoWo;
    std::fill(dxc, dxc + HW, T(0));
    for (std::int64_t i = 0; i < HoWo; ++i) dxc[ac[i]] += dyc[i];
  });
}

// PyTorch's count_include_pad divisor: the window clipped to the *padded* input, before clipping
// to the real input (so padding counts, but the part beyond the padding does not).
inline std::int64_t avg_pool_divisor(const Pool2dParams& p, std::int64_t oh, std::int64_t ow) {
  const std::int64_t h0 = oh * p.stride_h - p.pad_h, w0 = ow * p.stride_w - p.pad_w;
  const std::int64_t h1 = std::min(h0 + p.kernel_h, p.H + p.pad_h), w1 = std::min(w0 + p.kernel_w, p.W + p.pad_w);
  return (h1 - h0) * (w1 - w0);
}

// y = mean over each window, zero padding included in the count (count_include_pad=True).
// x: [N, C, H, W]; y: [N, C, Ho, Wo].
template <class T>
inline void avg_pool2d_forward(const Pool2dParams& p, const T* x, T* y) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w(), HW = p.H * p.W;
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    const T* xc = x + nc * HW;
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const PoolWindow win = pool_window(p, oh, ow);
        T s = 0;
        for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
          for (std::int64_t iw = win.w0; iw < win.w1; ++iw) s += xc[ih * p.W + iw];
        y[(nc * Ho + oh) * Wo + ow] = s / static_cast<T>(avg_pool_divisor(p, oh, ow));
      }
  });
}

// dx = dL/dx (overwritten): every input of window (oh, ow) receives dy[oh, ow] / divisor(oh, ow).
// dy: [N, C, Ho, Wo]; dx: [N, C, H, W].
template <class T>
inline void avg_pool2d_backward(const Pool2dParams& p, const T* dy, T* dx) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w(), HW = p.H * p.W;
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    T* dxc = dx + nc * HW;
    std::fill(dxc, dxc + HW, T(0));
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const PoolWindow win = pool_window(p, oh, ow);
        const T g = dy[(nc * Ho + oh) * Wo + ow] / static_cast<T>(avg_pool_divisor(p, oh, ow));
        for (std::int64_t ih = win.h0; ih < win.h1; ++ih)
          for (std::int64_t iw = win.w0; iw < win.w1; ++iw) dxc[ih * p.W + iw] += g;
      }
  });
}

struct GlobalPoolParams {
  std::int64_t N = 0, C = 0, H = 0, W = 0;  // input [N, C, H, W] -> output [N, C]
  void validate() const {
    MOODNET_CHECK(N >= 1 && C >= 1 && H >= 1 && W >= 1, "global_avg_pool2d: sizes must be >= 1, got N=", N,
                  " C=", C, " H=", H, " W=", W);
  }
};

// y[n,c] = mean_{h,w} x[n,c,h,w]. x: [N, C, H, W]; y: [N, C].
template <class T>
inline void global_avg_pool2d_forward(const GlobalPoolParams& p, const T* x, T* y) {
  p.validate();
  const std::int64_t HW = p.H * p.W;
  const T inv = T(1) / static_cast<T>(HW);
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    const T* xc = x + nc * HW;
    T s = 0;
    for (std::int64_t i = 0; i < HW; ++i) s += xc[i];
    y[nc] = s * inv;
  });
}

// dx[n,c,h,w] = dy[n,c] / (H*W) (overwritten). dy: [N, C]; dx: [N, C, H, W].
template <class T>
inline void global_avg_pool2d_backward(const GlobalPoolParams& p, const T* dy, T* dx) {
  p.validate();
  const std::int64_t HW = p.H * p.W;
  const T inv = T(1) / static_cast<T>(HW);
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    const T g = dy[nc] * inv;
    std::fill(dx + nc * HW, dx + (nc + 1) * HW, g);
  });
}

}  // namespace moodnet::kernels
