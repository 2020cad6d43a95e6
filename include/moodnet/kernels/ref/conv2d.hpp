#pragma once
// Reference (oracle) convolution: plain nested loops straight from the definition, templated on T,
// for tests only. Same parameters and layouts as kernels/conv2d.hpp:
//   y[n, k, oh, ow] = b[k] + sum_{c in group(k), r, s} w[k, c - g*Cg, r, s] * x[n, c, oh*sh - ph + r, ow*sw - pw + s]
#include <cstdint>

#include "moodnet/kernels/conv2d.hpp"

namespace moodnet::kernels::ref {

// Calls f(n, k, oh, ow, c, cl, r, s, ih, iw) for every (output, tap) pair that reads a real input
// pixel (taps falling in the zero padding are skipped). cl = c - g*Cg is the weight's channel index.
template <class F>
inline void conv2d_for_each_tap(const Conv2dParams& p, F&& f) {
  const std::int64_t Cg = p.C / p.groups, Kg = p.K / p.groups, OH = p.out_h(), OW = p.out_w();
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t k = 0; k < p.K; ++k)
      for (std::int64_t oh = 0; oh < OH; ++oh)
        for (std::int64_t ow = 0; ow < OW; ++ow)
          for (std::int64_t cl = 0; cl < Cg; ++cl)
            for (std::int64_t r = 0; r < p.R; ++r)
              for (std::int64_t s = 0; s < p.S; ++s) {
                const std::int64_t c = (k / Kg) * Cg + cl;
                const std::int64_t ih = oh * p.stride_h - p.pad_h + r, iw = ow * p.stride_w - p.pad_w + s;
                if (ih < 0 || ih >= p.H || iw < 0 || iw >= p.W) continue;
                f(n, k, oh, ow, c, cl, r, s, ih, iw);
              }
}

template <class T>
inline void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  p.validate();
  const std::int64_t OH = p.out_h(), OW = p.out_w(), Cg = p.C / p.groups;
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t k = 0; k < p.K; ++k)
      for (std::int64_t i = 0; i < OH * OW; ++i) y[(n * p.K + k) * OH * OW + i] = bias ? bias[k] : T(0);
  conv2d_for_each_tap(p, [&](auto n, auto k, auto oh, auto ow, auto c, auto cl, auto r, auto s, auto ih, auto iw) {
    y[((n * p.K + k) * OH + oh) * OW + ow] +=
        w[((k * Cg + cl) * p.R + r) * p.S + s] * x[((n * p.C + c) * p.H + ih) * p.W + iw];
  });
}

// dx = dL/dx, overwritten.
template <class T>
inline void conv2d_backward_input(const Conv2dParams& p, const T* dy, const T* w, T* dx) {
  p.validate();
  const std::int64_t OH = p.out_h(), OW = p.out_w(), Cg = p.C / p.groups;
  for (std::int64_t i = 0; i < p.N * p.C * p.H * p.W; ++i) dx[i] = T(0);
  conv2d_for_each_tap(p, [&](auto n, auto k, auto oh, auto ow, auto c, auto cl, auto r, auto s, auto ih, auto iw) {
    dx[((n * p.C + c) * p.H + ih) * p.W + iw] +=
        w[((k * Cg + cl) * p.R + r) * p.S + s] * dy[((n * p.K + k) * OH + oh) * OW + ow];
  });
}

// dw += dL/dw (accumulated).
template <class T>
inline void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw) {
  p.validate();
  const std::int64_t OH = p.out_h(), OW = p.out_w(), Cg = p.C / p.groups;
  conv2d_for_each_tap(p, [&](auto n, auto k, auto oh, auto ow, auto c, auto cl, auto r, auto s, auto ih, auto iw) {
    dw[((k * Cg + cl) * p.R + r) * p.S + s] +=
        x[((n * p.C + c) * p.H + ih) * p.W + iw] * dy[((n * p.K + k) * OH + oh) * OW + ow];
  });
}

// db += dL/db (accumulated).
template <class T>
inline void conv2d_backward_bias(const Conv2dParams& p, const T* dy, T* db) {
  p.validate();
  const std::int64_t OHW = p.out_h() * p.out_w();
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t k = 0; k < p.K; ++k)
      for (std::int64_t i = 0; i < OHW; ++i) db[k] += dy[(n * p.K + k) * OHW + i];
}

}  // namespace moodnet::kernels::ref
