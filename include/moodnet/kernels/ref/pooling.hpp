#pragma once
// Naive oracle for pooling.hpp: windows read through bounds checks on the padded coordinates.
#include <cstdint>

#include "moodnet/kernels/pooling.hpp"

namespace moodnet::kernels::ref {

// x: [N, C, H, W]; y, argmax: [N, C, Ho, Wo].
template <class T>
inline void max_pool2d_forward(const Pool2dParams& p, const T* x, T* y, std::int32_t* argmax) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w();
  for (std::int64_t nc = 0; nc < p.N * p.C; ++nc)
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        bool any = false;
        T m = 0;
        std::int64_t a = -1;
        for (std::int64_t kh = 0; kh < p.kernel_h; ++kh)
          for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const std::int64_t ih = oh * p.stride_h - p.pad_h + kh, iw = ow * p.stride_w - p.pad_w + kw;
            if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
            const T v = x[(nc * p.H + ih) * p.W + iw];
            if (!any || max_pool_wins(v, m)) m = v, a = ih * p.W + iw, any = true;
          }
        y[(nc * Ho + oh) * Wo + ow] = m;
        argmax[(nc * Ho + oh) * Wo + ow] = static_cast<std::int32_t>(a);
      }
}

// dy: [N, C, Ho, Wo]; argmax: [N, C, Ho, Wo]; dx: [N, C, H, W] (overwritten).
template <class T>
inline void max_pool2d_backward(const Pool2dParams& p, const T* dy, const std::int32_t* argmax, T* dx) {
  p.validate();
  const std::int64_t HoWo = p.out_h() * p.out_w(), HW = p.H * p.W;
  for (std::int64_t i = 0; i < p.N * p.C * HW; ++i) dx[i] = T(0);
  for (std::int64_t nc = 0; nc < p.N * p.C; ++nc)
    for (std::int64_t i = 0; i < HoWo; ++i) dx[nc * HW + argmax[nc * HoWo + i]] += dy[nc * HoWo + i];
}

// x: [N, C, H, W]; y: [N, C, Ho, Wo]; count_include_pad: padded positions count in the divisor.
template <class T>
inline void avg_pool2d_forward(const Pool2dParams& p, const T* x, T* y) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w();
  for (std::int64_t nc = 0; nc < p.N * p.C; ++nc)
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        T s = 0;
        std::int64_t count = 0;
        for (std::int64_t kh = 0; kh < p.kernel_h; ++kh)
          for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const std::int64_t ih = oh * p.stride_h - p.pad_h + kh, iw = ow * p.stride_w - p.pad_w + kw;
            if (ih >= p.H + p.pad_h || iw >= p.W + p.pad_w) continue;  // beyond the padding
            ++count;
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W) s += x[(nc * p.H + ih) * p.W + iw];
          }
        y[(nc * Ho + oh) * Wo + ow] = s / static_cast<T>(count);
      }
}

// dy: [N, C, Ho, Wo]; dx: [N, C, H, W] (overwritten).
template <class T>
inline void avg_pool2d_backward(const Pool2dParams& p, const T* dy, T* dx) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w();
  for (std::int64_t i = 0; i < p.N * p.C * p.H * p.W; ++i) dx[i] = T(0);
  for (std::int64_t nc = 0; nc < p.N * p.C; ++nc)
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        std::int64_t count = 0;
        for (std::int64_t kh = 0; kh < p.kernel_h; ++kh)
          for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const std::int64_t ih = oh * p.stride_h - p.pad_h + kh, iw = ow * p.stride_w - p.pad_w + kw;
            if (ih < p.H + p.pad_h && iw < p.W + p.pad_w) ++count;
          }
        for (std::int64_t kh = 0; kh < p.kernel_h; ++kh)
          for (std::int64_t kw = 0; kw < p.kernel_w; ++kw) {
            const std::int64_t ih = oh * p.stride_h - p.pad_h + kh, iw = ow * p.stride_w - p.pad_w + kw;
            if (ih >= 0 && ih < p.H && iw >= 0 && iw < p.W)
              dx[(nc * p.H + ih) * p.W + iw] += dy[(nc * Ho + oh) * Wo + ow] / static_cast<T>(count);
          }
      }
}

// x: [N, C, H, W]; y: [N, C].
template <class T>
inline void global_avg_pool2d_forward(const GlobalPoolParams& p, const T* x, T* y) {
  p.validate();
  for (std::int64_t nc = 0; nc < p.N * p.C; ++nc) {
    T s = 0;
    for (std::int64_t i = 0; i < p.H * p.W; ++i) s += x[nc * p.H * p.W + i];
    y[nc] = s / static_cast<T>(p.H * p.W);
  }
}

// dy: [N, C]; dx: [N, C, H, W] (overwritten).
template <class T>
inline void global_avg_pool2d_backward(const GlobalPoolParams& p, const T* dy, T* dx) {
  p.validate();
  for (std::int64_t nc = 0; nc < p.N * p.C; ++nc)
    for (std::int64_t i = 0; i < p.H * p.W; ++i) dx[nc * p.H * p.W + i] = dy[nc] / static_cast<T>(p.H * p.W);
}

}  // namespace moodnet::kernels::ref
