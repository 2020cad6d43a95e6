#pragma once
// Naive oracle for depthwise_conv2d.hpp: plain loops straight from the definitions, no scratch,
// single-threaded. Same contracts (dx overwritten, dw/db accumulated).
#include <cstdint>

#include "moodnet/kernels/depthwise_conv2d.hpp"

namespace moodnet::kernels::ref {

// x: [N, C, H, W]; w: [C, 1, R, S]; bias: [C] or nullptr; y: [N, C, Ho, Wo].
template <class T>
inline void depthwise_conv2d_forward(const DepthwiseConv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w();
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t c = 0; c < p.C; ++c)
      for (std::int64_t oh = 0; oh < Ho; ++oh)
        for (std::int64_t ow = 0; ow < Wo; ++ow) {
          T acc = bias ? bias[c] : T(0);
          for (std::int64_t r = 0; r < p.R; ++r)
            for (std::int64_t s = 0; s < p.S; ++s) {
              const std::int64_t ih = oh * p.stride_h - p.pad_h + r, iw = ow * p.stride_w - p.pad_w + s;
              if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
              acc += w[(c * p.R + r) * p.S + s] * x[((n * p.C + c) * p.H + ih) * p.W + iw];
            }
          y[((n * p.C + c) * Ho + oh) * Wo + ow] = acc;
        }
}

// dy: [N, C, Ho, Wo]; w: [C, 1, R, S]; dx: [N, C, H, W] (overwritten).
template <class T>
inline void depthwise_conv2d_backward_input(const DepthwiseConv2dParams& p, const T* dy, const T* w, T* dx) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w();
  for (std::int64_t i = 0; i < p.N * p.C * p.H * p.W; ++i) dx[i] = T(0);
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t c = 0; c < p.C; ++c)
      for (std::int64_t oh = 0; oh < Ho; ++oh)
        for (std::int64_t ow = 0; ow < Wo; ++ow)
          for (std::int64_t r = 0; r < p.R; ++r)
            for (std::int64_t s = 0; s < p.S; ++s) {
              const std::int64_t ih = oh * p.stride_h - p.pad_h + r, iw = ow * p.stride_w - p.pad_w + s;
              if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
              dx[((n * p.C + c) * p.H + ih) * p.W + iw] +=
                  w[(c * p.R + r) * p.S + s] * dy[((n * p.C + c) * Ho + oh) * Wo + ow];
            }
}

// x: [N, C, H, W]; dy: [N, C, Ho, Wo]; dw: [C, 1, R, S] (accumulated).
template <class T>
inline void depthwise_conv2d_backward_weight(const DepthwiseConv2dParams& p, const T* x, const T* dy, T* dw) {
  p.validate();
  const std::int64_t Ho = p.out_h(), Wo = p.out_w();
  for (std::int64_t c = 0; c < p.C; ++c)
    for (std::int64_t r = 0; r < p.R; ++r)
      for (std::int64_t s = 0; s < p.S; ++s) {
        T acc = 0;
        for (std::int64_t n = 0; n < p.N; ++n)
          for (std::int64_t oh = 0; oh < Ho; ++oh)
            for (std::int64_t ow = 0; ow < Wo; ++ow) {
              const std::int64_t ih = oh * p.stride_h - p.pad_h + r, iw = ow * p.stride_w - p.pad_w + s;
              if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
              acc += dy[((n * p.C + c) * Ho + oh) * Wo + ow] * x[((n * p.C + c) * p.H + ih) * p.W + iw];
            }
        dw[(c * p.R + r) * p.S + s] += acc;
      }
}

}  // namespace moodnet::kernels::ref
