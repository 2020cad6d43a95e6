#pragma once
// im2col / col2im: unfold one image's receptive fields into a matrix so that a convolution becomes
// one GEMM (and fold the matrix back, summing overlaps, for the input gradient).
//
// Layout (one image, C channels, H x W, kernel R x S, output OH x OW):
//
//   image x: [C, H, W]                     col: [C*R*S, OH*OW]   (row-major)
//
//        W                                       OH*OW columns: output pixel p = oh*OW + ow
//     +-------+                             +-----------------------------+
//     | c = 0 |  H                   row    | x[0, oh*sh-ph+0, ow*sw-pw+0]| (c=0, r=0, s=0)
//     +-------+                 (c,r,s) ->  | x[0, oh*sh-ph+0, ow*sw-pw+1]| (c=0, r=0, s=1)
//     | c = 1 |                 c*R*S       |            ...              |
//     +-------+                 + r*S + s   | x[C-1, ... + R-1, ... + S-1]| (c=C-1, r=R-1, s=S-1)
//       ...                                 +-----------------------------+
//
//   col[(c*R + r)*S + s][oh*OW + ow] = x[c][oh*stride_h - pad_h + r][ow*stride_w - pad_w + s]
//                                      (0 where the index falls in the padding)
//
// A row of col is "tap (c,r,s) of every output pixel", so with OIHW weights viewed as a row-major
// [K, C*R*S] matrix, Y[K, OH*OW] = Wmat * col. col2im is the exact adjoint (transpose) of im2col:
// every col entry is added back to the pixel it was read from; padding entries are dropped.
#include <algorithm>
#include <cstdint>
#include <cstring>

namespace moodnet::kernels {

// The geometry of one im2col: input [C, H, W], kernel R x S, stride, zero padding.
struct Im2colShape {
  std::int64_t C = 0, H = 0, W = 0;
  std::int64_t R = 1, S = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;

  std::int64_t out_h() const { return (H + 2 * pad_h - R) / stride_h + 1; }
  std::int64_t out_w() const { return (W + 2 * pad_w - S) / stride_w + 1; }
  std::int64_t col_rows() const { return C * R * S; }
  std::int64_t col_cols() const { return out_h() * out_w(); }
};

namespace detail {
// Output columns ow in [lo, hi) read input column iw = ow*stride - pad + s inside [0, W).
inline void valid_range(std::int64_t OW, std::int64_t W, std::int64_t stride, std::int64_t pad, std::int64_t s,
                        std::int64_t& lo, std::int64_t& hi) {
  // iw >= 0  <=> ow >= ceil((pad - s) / stride);  iw < W <=> ow < ceil((W + pad - s) / stride)
  auto ceil_div = [](std::int64_t a, std::int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  lo = std::clamp<std::int64_t>(ceil_div(pad - s, stride), 0, OW);
  hi = std::clamp<std::int64_t>(ceil_div(W + pad - s, stride), lo, OW);
}
}  // namespace detail

// x: [C, H, W] (contiguous)  ->  col: [C*R*S, OH*OW] with row stride ld (ld >= OH*OW). Overwrites col.
template <class T>
inline void im2col(const T* x, const Im2colShape& g, T* col, std::int64_t ld) {
  const std::int64_t OH = g.out_h(), OW = g.out_w();
  for (std::int64_t c = 0; c < g.C; ++c) {
    const T* xc = x + c * g.H * g.W;
    for (std::int64_t r = 0; r < g.R; ++r) {
      for (std::int64_t s = 0; s < g.S; ++s) {
        T* row = col + ((c * g.R + r) * g.S + s) * ld;
        std::int64_t lo, hi;
        detail::valid_range(OW, g.W, g.stride_w, g.pad_w, s, lo, hi);
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          T* out = row + oh * OW;
          const std::int64_t ih = oh * g.stride_h - g.pad_h + r;
          if (ih < 0 || ih >= g.H) {
            std::fill(out, out + OW, T(0));
            continue;
          }
          const std::int64_t base = ih * g.W - g.pad_w + s;  // x[c, ih, ow*stride - pad + s]
          std::fill(out, out + lo, T(0));
          if (g.stride_w == 1) {
            if (hi > lo) std::memcpy(out + lo, xc + base + lo, sizeof(T) * static_cast<std::size_t>(hi - lo));
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) out[ow] = xc[base + ow * g.stride_w];
          }
          std::fill(out + hi, out + OW, T(0));
        }
      }
    }
  }
}
template <class T>
inline void im2col(const T* x, const Im2colShape& g, T* col) {
  im2col(x, g, col, g.col_cols());
}

// col: [C*R*S, OH*OW] (row stride ld)  ->  dx: [C, H, W]. ACCUMULATES: dx[c, ih, iw] += every col
// entry that im2col read from (c, ih, iw). Zero dx first for a plain transpose.
template <class T>
inline void col2im(const T* col, const Im2colShape& g, T* dx, std::int64_t ld) {
  const std::int64_t OH = g.out_h(), OW = g.out_w();
  for (std::int64_t c = 0; c < g.C; ++c) {
    T* dxc = dx + c * g.H * g.W;
    for (std::int64_t r = 0; r < g.R; ++r) {
      for (std::int64_t s = 0; s < g.S; ++s) {
        const T* row = col + ((c * g.R + r) * g.S + s) * ld;
        std::int64_t lo, hi;
        detail::valid_range(OW, g.W, g.stride_w, g.pad_w, s, lo, hi);
        for (std::int64_t oh = 0; oh < OH; ++oh) {
          const std::int64_t ih = oh * g.stride_h - g.pad_h + r;
          if (ih < 0 || ih >= g.H) continue;
          const T* in = row + oh * OW;
          const std::int64_t base = ih * g.W - g.pad_w + s;
          if (g.stride_w == 1) {
            for (std::int64_t ow = lo; ow < hi; ++ow) dxc[base + ow] += in[ow];
          } else {
            for (std::int64_t ow = lo; ow < hi; ++ow) dxc[base + ow * g.stride_w] += in[ow];
          }
        }
      }
    }
  }
}
template <class T>
inline void col2im(const T* col, const Im2colShape& g, T* dx) {
  col2im(col, g, dx, g.col_cols());
}

}  // namespace moodnet::kernels
