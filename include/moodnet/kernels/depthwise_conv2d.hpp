#pragma once
// Depthwise 2-D convolution (channel multiplier 1, PyTorch groups == C), NCHW, forward and backward.
//
//   x: [N, C, H, W]   w: [C, 1, R, S]   bias: [C] or nullptr   y: [N, C, Ho, Wo]
//   y[n,c,oh,ow] = bias[c] + sum_{r,s} w[c,r,s] * x[n, c, oh*sh - ph + r, ow*sw - pw + s]
//
// Why a direct kernel and not im2col + GEMM: each output needs only R*S multiply-adds from one
// plane, so an im2col matrix would be R*S times larger than the work it feeds. Instead every plane
// is copied once into a small per-thread scratch buffer with its zero padding already in place and
// its columns split by phase (column index mod stride_w):
//
//   padded plane, stride_w = 2                      phase-split copy (what the inner loop reads)
//   col:  0  1  2  3  4  5  6  7  ...               phase 0: cols 0 2 4 6 ...  (wq entries)
//        [0][a][b][c][d][e][f][g] ...  ─────►        phase 1: cols 1 3 5 7 ...  (wq entries)
//         ^ pad_w zeros                              row r of the padded plane = sw rows of wq
//
// so the input column ow*sw + s is element (ow + s/sw) of phase s%sw: for every kernel tap (r, s)
// the inputs of one output row are *contiguous* for any stride. The inner loop runs along the
// output width with no bounds checks (the borders were handled once by the copy) and vectorises:
//
//   for oh:                              // one output row
//     for ow (simd):                     // 3x3: 9 contiguous loads, 9 FMAs, 1 store per output
//       y[oh,ow] = b + sum_{r,s} w[r,s] * xp[phase s%sw of row oh*sh+r][ow + s/sw]
//
// 3x3 and 5x5 have a fused fixed-size inner loop; other kernel sizes accumulate tap by tap.
// Planes (n, c) are independent and are spread over the threads.
//
// Two loop structures (DepthwiseAlgo), chosen by the output width and the stride:
//   rows            (stride 1, out_w >= 16)  the plane-at-a-time scheme above, vectorised along the width;
//   channel_blocks  (otherwise)  16 channels of one image transposed to [Hp][Wp][16], vectorised
//                   across channels (a 3-, 6- or 12-wide row would waste the vector, and a strided
//                   row path needs phase-split copies and a scattered input gradient).
// Backward input: stride 1 is the forward correlation of the zero-padded dy with the rotated kernel
// (gather); other strides scatter dy tap by tap into a zeroed padded dx. Backward weight reduces
// each channel (or channel block) over the batch on one thread in a fixed order: deterministic.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/avx512_common.hpp"
#include "moodnet/kernels/channel_affine.hpp"
#include "moodnet/kernels/instantiation.hpp"

namespace moodnet::kernels {

// Loop structure: automatic picks rows for wide stride-1 outputs (out_w >= 16) and channel blocks
// for narrow or strided ones; the others force one path (tests run both on every shape; results agree to rounding).
enum class DepthwiseAlgo { automatic, rows, channel_blocks };

struct DepthwiseConv2dParams {
  std::int64_t N = 0, C = 0, H = 0, W = 0;  // input [N, C, H, W]
  std::int64_t R = 3, S = 3;                // kernel height, width (weight [C, 1, R, S])
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  DepthwiseAlgo algo = DepthwiseAlgo::automatic;

  std::int64_t out_h() const { return (H + 2 * pad_h - R) / stride_h + 1; }
  std::int64_t out_w() const { return (W + 2 * pad_w - S) / stride_w + 1; }

  // Throws moodnet::Error naming the bad value.
  void validate() const {
    MOODNET_CHECK(N >= 1 && C >= 1 && H >= 1 && W >= 1, "depthwise_conv2d: sizes must be >= 1, got N=", N,
                  " C=", C, " H=", H, " W=", W);
    MOODNET_CHECK(R >= 1 && S >= 1, "depthwise_conv2d: kernel must be >= 1x1, got R=", R, " S=", S);
    MOODNET_CHECK(stride_h >= 1 && stride_w >= 1, "depthwise_conv2d: strides must be >= 1, got stride_h=",
                  stride_h, " stride_w=", stride_w);
    MOODNET_CHECK(pad_h >= 0 && pad_h < R && pad_w >= 0 && pad_w < S,
                  "depthwise_conv2d: padding must be in [0, kernel), got pad_h=", pad_h, " pad_w=", pad_w,
                  " for kernel ", R, "x", S);
    MOODNET_CHECK(H + 2 * pad_h >= R && W + 2 * pad_w >= S, "depthwise_conv2d: kernel ", R, "x", S,
                  " larger than the padded input ", H + 2 * pad_h, "x", W + 2 * pad_w);
  }
};

namespace detail {

// Geometry of the padded, phase-split copy of one plane: `rows` padded rows, each stored as `sw`
// phases of `wq` elements; padded column col lives at [(row * sw + col % sw) * wq + col / sw].
struct DwPlane {
  std::int64_t rows = 0, sw = 1, wq = 0;
  std::int64_t size() const { return rows * sw * wq; }
  std::int64_t at(std::int64_t row, std::int64_t col) const { return (row * sw + col % sw) * wq + col / sw; }
};

inline DwPlane dw_plane(std::int64_t H, std::int64_t W, std::int64_t ph, std::int64_t pw, std::int64_t sw) {
  return {H + 2 * ph, sw, (W + 2 * pw + sw - 1) / sw};
}

// Copies between one input row xr ([W]) and its padded, phase-split row (sw phases of wq):
// phase q holds padded columns j*sw + q, i.e. iw = j*sw + q - pw. SW > 0 fixes the stride at
// compile time so the strided loop vectorises (stride 2 is the MobileNet case).
template <int SW, bool kToPlane, class T>
inline void dw_split_row(T* xr, std::int64_t W, std::int64_t pw, std::int64_t wq, std::int64_t sw_rt, T* row) {
  const std::int64_t sw = SW > 0 ? SW : sw_rt;
  for (std::int64_t q = 0; q < sw; ++q) {
    const std::int64_t j0 = q >= pw ? 0 : (pw - q + sw - 1) / sw, iw0 = j0 * sw + q - pw;
    if (iw0 >= W) continue;
    const std::int64_t count = (W - iw0 + sw - 1) / sw;
    T* ph = row + q * wq + j0;
    const T* src = xr + iw0;
    if constexpr (kToPlane) {
#pragma omp simd
      for (std::int64_t k = 0; k < count; ++k) ph[k] = src[k * sw];
    } else {
#pragma omp simd
      for (std::int64_t k = 0; k < count; ++k) xr[iw0 + k * sw] = ph[k];
    }
  }
}

// xp <- plane x ([H, W]) with ph/pw zeros around it, phase-split (see the header comment).
// Writes the interior only: the zero border is the same for every plane, so it is written once
// when dw_reserve zeroes the slot, not once per plane.
template <class T>
inline void dw_pad_plane(const T* x, std::int64_t H, std::int64_t W, std::int64_t ph, std::int64_t pw,
                         const DwPlane& g, T* xp) {
  for (std::int64_t ih = 0; ih < H; ++ih) {
    T* xr = const_cast<T*>(x + ih * W);  // only read (kToPlane)
    T* row = xp + (ih + ph) * g.sw * g.wq;
    if (g.sw == 1)
      std::memcpy(row + pw, xr, sizeof(T) * static_cast<std::size_t>(W));
    else if (g.sw == 2)
      dw_split_row<2, true>(xr, W, pw, g.wq, g.sw, row);
    else
      dw_split_row<0, true>(xr, W, pw, g.wq, g.sw, row);
  }
}

// One output plane from a padded input plane. y: [Ho, Wo]; w: [R, S]; K > 0 fixes R = S = K.
template <int K, class T>
inline void dw_plane_forward(const T* xp, const DwPlane& g, std::int64_t Ho, std::int64_t Wo, std::int64_t R,
                             std::int64_t S, std::int64_t sh, const T* w, T bias, T* y) {
  if constexpr (K > 0) {
    T wk[K * K];
    for (int k = 0; k < K * K; ++k) wk[k] = w[k];
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      const T* rows[K * K];
      for (int r = 0; r < K; ++r)
        for (int s = 0; s < K; ++s) rows[r * K + s] = xp + g.at(oh * sh + r, s);
      T* yr = y + oh * Wo;
#pragma omp simd
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        T acc = bias;
        for (int k = 0; k < K * K; ++k) acc += wk[k] * rows[k][ow];
        yr[ow] = acc;
      }
    }
  } else {
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      T* yr = y + oh * Wo;
      std::fill(yr, yr + Wo, bias);
      for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t s = 0; s < S; ++s) {
          const T ws = w[r * S + s];
          const T* xr = xp + g.at(oh * sh + r, s);
#pragma omp simd
          for (std::int64_t ow = 0; ow < Wo; ++ow) yr[ow] += ws * xr[ow];
        }
    }
  }
}

template <class T>
inline void dw_plane_forward_any(const T* xp, const DwPlane& g, std::int64_t Ho, std::int64_t Wo,
                                 std::int64_t R, std::int64_t S, std::int64_t sh, const T* w, T bias, T* y) {
  if (R == 3 && S == 3)
    dw_plane_forward<3>(xp, g, Ho, Wo, R, S, sh, w, bias, y);
  else if (R == 5 && S == 5)
    dw_plane_forward<5>(xp, g, Ho, Wo, R, S, sh, w, bias, y);
  else
    dw_plane_forward<0>(xp, g, Ho, Wo, R, S, sh, w, bias, y);
}

// ---- channel-blocked path, for narrow outputs (Wo < kDwRowPathMinWidth) ----------------------
// A row of 3, 6 or 12 outputs fills a fraction of a SIMD register, so narrow planes are instead
// vectorised ACROSS channels: kDwLanes channels of one image are transposed into a padded,
// pixel-major block, every tap is then one kDwLanes-wide FMA with a per-channel weight vector,
// and the result is transposed back:
//
//   x[n, c0..c0+15, H, W]  ──►  xb[Hp][Wp][16]  (zero border, lanes >= C-c0 zero)
//   yb[oh][ow][:] = bias[:] + sum_{r,s} wb[r,s][:] * xb[oh*sh + r][ow*sw + s][:]   (16 lanes)
//   yb[Ho][Wo][16]  ──►  y[n, c0..c0+15, Ho, Wo]
inline constexpr std::int64_t kDwLanes = 16;
inline constexpr std::int64_t kDwRowPathMinWidth = 16;

// Channel block geometry (padded input, output, number of blocks) and the per-thread slot:
// padded block [Hp, Wp, L] | output-sized block [Ho, Wo, L] | R*S*L weights or sums | L bias.
struct DwBlocks {
  std::int64_t Hp, Wp, Ho, Wo, blocks, RS;
  std::int64_t plane() const { return Hp * Wp * kDwLanes; }
  std::int64_t slot() const { return plane() + (Ho * Wo + RS + 1) * kDwLanes; }
  // Channels [c0, c0 + lanes) of block cb.
  std::int64_t lanes(std::int64_t C, std::int64_t cb) const { return std::min(kDwLanes, C - cb * kDwLanes); }
};
// K > 0 fixes R = S = K at compile time so the tap loops unroll and the sums stay in registers.
template <int K>
inline DwBlocks dw_blocks(const DepthwiseConv2dParams& p) {
  const std::int64_t RS = K > 0 ? K * K : p.R * p.S;
  return {p.H + 2 * p.pad_h, p.W + 2 * p.pad_w, p.out_h(), p.out_w(), (p.C + kDwLanes - 1) / kDwLanes, RS};
}

#if defined(__AVX512F__)
// The AVX-512 float paths of dw_gather_block / dw_scatter_block below (which dispatch to them):
// 16 pixels x 16 channels at a time through an in-register 16x16 transpose
// (kernels/avx512_common.hpp) instead of one 16-lane gather or scatter per pixel. Same results (a
// copy). Lanes >= `lanes` are written as zeros by the gather, and never stored by the scatter.
inline void dw_gather_block_avx512(const float* src, std::int64_t stride, std::int64_t lanes, std::int64_t H,
                                   std::int64_t W, std::int64_t ph, std::int64_t pw, std::int64_t Wp, float* dst) {
  const std::int64_t HW = H * W;
  std::int64_t ih = 0, iw = 0;  // the pixel p0 + j being stored, walked in row order
  for (std::int64_t p0 = 0; p0 < HW; p0 += kDwLanes) {
    const std::int64_t count = std::min(kDwLanes, HW - p0);
    const __mmask16 m = avx512::tail_mask(count);
    __m512 r[kDwLanes];
    for (std::int64_t l = 0; l < kDwLanes; ++l)
      r[l] = l < lanes ? _mm512_maskz_loadu_ps(m, src + l * stride + p0) : _mm512_setzero_ps();
    avx512::transpose16x16(r);  // r[j] = the 16 channels of pixel p0 + j
    for (std::int64_t j = 0; j < count; ++j) {
      _mm512_storeu_ps(dst + ((ih + ph) * Wp + iw + pw) * kDwLanes, r[j]);
      if (++iw == W) iw = 0, ++ih;
    }
  }
}
inline void dw_scatter_block_avx512(const float* src, std::int64_t lanes, std::int64_t H, std::int64_t W,
                                    std::int64_t ph, std::int64_t pw, std::int64_t Wp, float* dst,
                                    std::int64_t stride) {
  const std::int64_t HW = H * W;
  std::int64_t ih = 0, iw = 0;
  for (std::int64_t p0 = 0; p0 < HW; p0 += kDwLanes) {
    const std::int64_t count = std::min(kDwLanes, HW - p0);
    const __mmask16 m = avx512::tail_mask(count);
    __m512 r[kDwLanes];
    for (std::int64_t j = 0; j < kDwLanes; ++j) {
      if (j < count) {
        r[j] = _mm512_loadu_ps(src + ((ih + ph) * Wp + iw + pw) * kDwLanes);
        if (++iw == W) iw = 0, ++ih;
      } else {
        r[j] = _mm512_setzero_ps();
      }
    }
    avx512::transpose16x16(r);  // r[l] = pixels p0 .. p0+15 of channel l
    for (std::int64_t l = 0; l < lanes; ++l) _mm512_mask_storeu_ps(dst + l * stride + p0, m, r[l]);
  }
}
#endif  // __AVX512F__

// dst[(ih+ph)*Wp + iw+pw][lane] = src plane `lane` ([H, W], planes `stride` apart) for lanes <
// `lanes`. dst: [Hp, Wp, kDwLanes]. Only the interior of lanes < `lanes` is written: the border is
// zero from dw_reserve, and lanes >= `lanes` (a partial last block) may hold stale values, which
// is harmless because lanes never mix and the results of those lanes are never stored.
template <class T>
inline void dw_gather_block(const T* src, std::int64_t stride, std::int64_t lanes, std::int64_t H, std::int64_t W,
                            std::int64_t ph, std::int64_t pw, std::int64_t Wp, T* dst) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    dw_gather_block_avx512(src, stride, lanes, H, W, ph, pw, Wp, dst);
    return;
  }
#endif
  // pixel-outer, lane-inner: a strided gather from the NCHW planes, one contiguous store per pixel
  for (std::int64_t ih = 0; ih < H; ++ih)
    for (std::int64_t iw = 0; iw < W; ++iw) {
      const T* s = src + ih * W + iw;
      T* d = dst + ((ih + ph) * Wp + iw + pw) * kDwLanes;
      if (lanes == kDwLanes) {  // full block: a fixed-length loop the compiler turns into a gather
#pragma omp simd
        for (std::int64_t l = 0; l < kDwLanes; ++l) d[l] = s[l * stride];
      } else {
        for (std::int64_t l = 0; l < lanes; ++l) d[l] = s[l * stride];
      }
    }
}
// Inverse: dst plane `lane` ([H, W]) <- interior of src ([Hp, Wp, kDwLanes]), for lanes < lanes.
template <class T>
inline void dw_scatter_block(const T* src, std::int64_t lanes, std::int64_t H, std::int64_t W, std::int64_t ph,
                             std::int64_t pw, std::int64_t Wp, T* dst, std::int64_t stride) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    dw_scatter_block_avx512(src, lanes, H, W, ph, pw, Wp, dst, stride);
    return;
  }
#endif
  if (lanes == kDwLanes) {  // full block: pixel-outer, one fixed-length scatter per pixel
    for (std::int64_t ih = 0; ih < H; ++ih)
      for (std::int64_t iw = 0; iw < W; ++iw) {
        const T* s = src + ((ih + ph) * Wp + iw + pw) * kDwLanes;
        T* d = dst + ih * W + iw;
#pragma omp simd
        for (std::int64_t l = 0; l < kDwLanes; ++l) d[l * stride] = s[l];
      }
    return;
  }
  for (std::int64_t l = 0; l < lanes; ++l) {
    T* d = dst + l * stride;
    for (std::int64_t ih = 0; ih < H; ++ih) {
      const T* s = src + ((ih + ph) * Wp + pw) * kDwLanes + l;
      for (std::int64_t iw = 0; iw < W; ++iw) d[ih * W + iw] = s[iw * kDwLanes];
    }
  }
}

// wb[k][lane] = w[c0 + lane, k] (zero for lanes >= lanes). wb: [R*S, kDwLanes].
template <class T>
inline void dw_gather_weights(const T* w, std::int64_t RS, std::int64_t c0, std::int64_t lanes, T* wb) {
  std::fill(wb, wb + RS * kDwLanes, T(0));
  for (std::int64_t l = 0; l < lanes; ++l)
    for (std::int64_t k = 0; k < RS; ++k) wb[k * kDwLanes + l] = w[(c0 + l) * RS + k];
}

// Sizes and zeroes every per-thread slot before the parallel region (get() may allocate; inside
// the region each thread only uses its own, already large enough, slot). The zeroes are the
// padding borders that dw_pad_plane / dw_gather_block never overwrite.
template <class T>
inline void dw_reserve(Workspace& ws, std::int64_t n) {
  const int nt = num_threads();
  ws.reserve_slots(nt);
  for (int t = 0; t < nt; ++t) {
    T* b = ws.get<T>(t, n);
    std::fill(b, b + n, T(0));
  }
}

// Channel-blocked forward (see above).
// Runs body(n, c0, lanes, padded_block, out_block, wb) for every (image, channel block) in
// parallel, with the slot of the calling thread split as in DwBlocks and wb holding the block's weights.
template <int K, class T, class Body>
inline void dw_for_each_image_block(const DepthwiseConv2dParams& p, const T* w, Workspace& ws, Body&& body) {
  const DwBlocks b = dw_blocks<K>(p);
  dw_reserve<T>(ws, b.slot());
  parallel_for(p.N * b.blocks, [&](std::int64_t nb) {
    const std::int64_t cb = nb % b.blocks, c0 = cb * kDwLanes, lanes = b.lanes(p.C, cb);
    T* padded = ws.get<T>(thread_index(), b.slot());
    T* out = padded + b.plane();
    T* wb = out + b.Ho * b.Wo * kDwLanes;
    dw_gather_weights(w, b.RS, c0, lanes, wb);
    body(nb / b.blocks, c0, lanes, padded, out, wb);
  });
}

template <int K, class T>
inline void dw_blocked_forward(const DepthwiseConv2dParams& p, const T* x, const T* w, const T* bias, T* y,
                               Workspace& ws, const ChannelAffine<T>* epilogue) {
  const std::int64_t R = K > 0 ? K : p.R, S = K > 0 ? K : p.S, L = kDwLanes;
  const DwBlocks b = dw_blocks<K>(p);
  const std::int64_t Ho = b.Ho, Wo = b.Wo, RS = b.RS;
  dw_for_each_image_block<K>(p, w, ws, [&](std::int64_t n, std::int64_t c0, std::int64_t lanes, T* xb, T* yb, T* wb) {
    T* bb = wb + RS * L;
    for (std::int64_t l = 0; l < L; ++l) bb[l] = (bias && l < lanes) ? bias[c0 + l] : T(0);
    dw_gather_block(x + (n * p.C + c0) * p.H * p.W, p.H * p.W, lanes, p.H, p.W, p.pad_h, p.pad_w, b.Wp, xb);
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        T acc[kDwLanes];
#pragma omp simd
        for (std::int64_t l = 0; l < L; ++l) acc[l] = bb[l];
        for (std::int64_t r = 0; r < R; ++r) {
          const T* xr = xb + ((oh * p.stride_h + r) * b.Wp + ow * p.stride_w) * L;
          for (std::int64_t s = 0; s < S; ++s) {
            const T* wv = wb + (r * S + s) * L;
#pragma omp simd
            for (std::int64_t l = 0; l < L; ++l) acc[l] += wv[l] * xr[s * L + l];
          }
        }
        T* yv = yb + (oh * Wo + ow) * L;
#pragma omp simd
        for (std::int64_t l = 0; l < L; ++l) yv[l] = acc[l];
      }
    dw_scatter_block(yb, lanes, Ho, Wo, 0, 0, Wo, y + (n * p.C + c0) * Ho * Wo, Ho * Wo);
    for (std::int64_t l = 0; l < lanes; ++l) apply_channel_affine(epilogue, c0 + l, y + (n * p.C + c0 + l) * Ho * Wo, Ho * Wo);
  });
}

// Channel-blocked input gradient: dy block scattered tap by tap into a zeroed padded dx block.
template <int K, class T>
inline void dw_blocked_backward_input(const DepthwiseConv2dParams& p, const T* dy, const T* w, T* dx,
                                      Workspace& ws) {
  const std::int64_t R = K > 0 ? K : p.R, S = K > 0 ? K : p.S, L = kDwLanes;
  const DwBlocks b = dw_blocks<K>(p);
  const std::int64_t Ho = b.Ho, Wo = b.Wo;
  dw_for_each_image_block<K>(p, w, ws, [&](std::int64_t n, std::int64_t c0, std::int64_t lanes, T* dxb, T* dyb, T* wb) {
    dw_gather_block(dy + (n * p.C + c0) * Ho * Wo, Ho * Wo, lanes, Ho, Wo, 0, 0, Wo, dyb);
    std::fill(dxb, dxb + b.plane(), T(0));
    for (std::int64_t oh = 0; oh < Ho; ++oh)
      for (std::int64_t ow = 0; ow < Wo; ++ow) {
        const T* g = dyb + (oh * Wo + ow) * L;
        for (std::int64_t r = 0; r < R; ++r) {
          T* dr = dxb + ((oh * p.stride_h + r) * b.Wp + ow * p.stride_w) * L;
          for (std::int64_t s = 0; s < S; ++s) {
            const T* wv = wb + (r * S + s) * L;
#pragma omp simd
            for (std::int64_t l = 0; l < L; ++l) dr[s * L + l] += wv[l] * g[l];
          }
        }
      }
    dw_scatter_block(dxb, lanes, p.H, p.W, p.pad_h, p.pad_w, b.Wp, dx + (n * p.C + c0) * p.H * p.W, p.H * p.W);
  });
}

// Channel-blocked weight gradient: block cb of channels is reduced by one thread over n = 0..N-1
// in order into acc[R*S][kDwLanes] (block boundaries do not depend on the thread count).
template <int K, class T>
inline void dw_blocked_backward_weight(const DepthwiseConv2dParams& p, const T* x, const T* dy, T* dw,
                                       Workspace& ws) {
  const std::int64_t R = K > 0 ? K : p.R, S = K > 0 ? K : p.S, L = kDwLanes;
  const DwBlocks b = dw_blocks<K>(p);
  const std::int64_t Ho = b.Ho, Wo = b.Wo, RS = b.RS, need = b.slot();
  dw_reserve<T>(ws, need);
  parallel_for(b.blocks, [&](std::int64_t cb) {
    const std::int64_t c0 = cb * L, lanes = b.lanes(p.C, cb);
    T* xb = ws.get<T>(thread_index(), need);
    T* dyb = xb + b.plane();
    T* acc = dyb + Ho * Wo * L;
    std::fill(acc, acc + RS * L, T(0));
    for (std::int64_t n = 0; n < p.N; ++n) {
      dw_gather_block(x + (n * p.C + c0) * p.H * p.W, p.H * p.W, lanes, p.H, p.W, p.pad_h, p.pad_w, b.Wp, xb);
      dw_gather_block(dy + (n * p.C + c0) * Ho * Wo, Ho * Wo, lanes, Ho, Wo, 0, 0, Wo, dyb);
      for (std::int64_t oh = 0; oh < Ho; ++oh)
        for (std::int64_t ow = 0; ow < Wo; ++ow) {
          const T* g = dyb + (oh * Wo + ow) * L;
          for (std::int64_t r = 0; r < R; ++r) {
            const T* xr = xb + ((oh * p.stride_h + r) * b.Wp + ow * p.stride_w) * L;
            for (std::int64_t s = 0; s < S; ++s) {
              T* a = acc + (r * S + s) * L;
#pragma omp simd
              for (std::int64_t l = 0; l < L; ++l) a[l] += g[l] * xr[s * L + l];
            }
          }
        }
    }
    for (std::int64_t l = 0; l < lanes; ++l)
      for (std::int64_t k = 0; k < RS; ++k) dw[(c0 + l) * RS + k] += acc[k * L + l];
  });
}

// acc[r*S + s][ow] += sum_oh dy[oh, ow] * xp[row oh*sh + r][ow*sw + s] for one plane (row path
// of the weight gradient). dy: [Ho, Wo]; acc: [R*S, Wo]. K > 0 fixes R = S = K: the output width is
// then walked in chunks of kDwLanes columns whose K*K partial sums stay in registers over all rows
// (full-width chunks read up to kDwLanes - 1 elements past a row: the caller leaves that much slack
// after xp and dy, and those lanes are never added to acc).
template <int K, class T>
inline void dw_plane_weight_grad(const T* xp, const DwPlane& g, const T* dy, std::int64_t Ho, std::int64_t Wo,
                                 std::int64_t R, std::int64_t S, std::int64_t sh, T* acc) {
  if constexpr (K > 0) {
    constexpr std::int64_t V = kDwLanes;
    for (std::int64_t c0 = 0; c0 < Wo; c0 += V) {
      T a[K * K][V] = {};
      for (std::int64_t oh = 0; oh < Ho; ++oh) {
        const T* dyr = dy + oh * Wo + c0;
        for (int r = 0; r < K; ++r)
          for (int s = 0; s < K; ++s) {
            const T* xr = xp + g.at(oh * sh + r, s) + c0;
#pragma omp simd
            for (std::int64_t l = 0; l < V; ++l) a[r * K + s][l] += dyr[l] * xr[l];
          }
      }
      const std::int64_t width = std::min(V, Wo - c0);
      for (int k = 0; k < K * K; ++k)
        for (std::int64_t l = 0; l < width; ++l) acc[k * Wo + c0 + l] += a[k][l];
    }
  } else {
    for (std::int64_t oh = 0; oh < Ho; ++oh) {
      const T* dyr = dy + oh * Wo;
      for (std::int64_t r = 0; r < R; ++r)
        for (std::int64_t s = 0; s < S; ++s) {
          const T* xr = xp + g.at(oh * sh + r, s);
          T* a = acc + (r * S + s) * Wo;
#pragma omp simd
          for (std::int64_t ow = 0; ow < Wo; ++ow) a[ow] += dyr[ow] * xr[ow];
        }
    }
  }
}

// Which path a shape takes: rows of the plane when an output row fills a SIMD register and the
// stride is 1, channel blocks otherwise.
// (Measured on the MobileNet shapes: rows win from out_w 16 for forward/input and from out_w 12
// for the weight gradient, whose 3x3 row kernel keeps its partial sums in registers — at stride 1.
// At stride 2 the channel blocks won every pass but one at every width, e.g. the input gradient of
// 64 channels at 48x48: 1.62 ms against 3.88 ms (bench_depthwise_conv2d with MOODNET_BENCH_DW_ALGO,
// 2026-11-25, docs/kernels/depthwise_pool_act_dropout.md).)
inline bool dw_use_channel_blocks(const DepthwiseConv2dParams& p, std::int64_t min_row_width = kDwRowPathMinWidth) {
  if (p.algo != DepthwiseAlgo::automatic) return p.algo == DepthwiseAlgo::channel_blocks;
  return p.out_w() < min_row_width || p.stride_h > 1 || p.stride_w > 1;
}
inline bool dw_is_3x3(const DepthwiseConv2dParams& p) { return p.R == 3 && p.S == 3; }

}  // namespace detail

// y = depthwise_conv(x, w) + bias.
// x: [N, C, H, W]; w: [C, 1, R, S]; bias: [C] or nullptr; y: [N, C, Ho, Wo] (overwritten).
// ws: scratch, one slot per thread, each one padded plane. epilogue (optional,
// kernels/channel_affine.hpp): a per-channel affine map (+ReLU) applied to each output plane as soon
// as it is computed.
template <class T>
void depthwise_conv2d_forward(const DepthwiseConv2dParams& p, const T* x, const T* w, const T* bias, T* y,
                              Workspace& ws, const ChannelAffine<T>* epilogue = nullptr) {
  p.validate();
  if (detail::dw_use_channel_blocks(p))
    return detail::dw_is_3x3(p) ? detail::dw_blocked_forward<3>(p, x, w, bias, y, ws, epilogue)
                                : detail::dw_blocked_forward<0>(p, x, w, bias, y, ws, epilogue);
  const std::int64_t Ho = p.out_h(), Wo = p.out_w();
  const detail::DwPlane g = detail::dw_plane(p.H, p.W, p.pad_h, p.pad_w, p.stride_w);
  detail::dw_reserve<T>(ws, g.size());
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    const std::int64_t c = nc % p.C;
    T* xp = ws.get<T>(thread_index(), g.size());
    detail::dw_pad_plane(x + nc * p.H * p.W, p.H, p.W, p.pad_h, p.pad_w, g, xp);
    detail::dw_plane_forward_any(xp, g, Ho, Wo, p.R, p.S, p.stride_h, w + c * p.R * p.S,
                                 bias ? bias[c] : T(0), y + nc * Ho * Wo);
    apply_channel_affine(epilogue, c, y + nc * Ho * Wo, Ho * Wo);
  });
}

// dx = dL/dx (overwritten).
// dy: [N, C, Ho, Wo]; w: [C, 1, R, S]; dx: [N, C, H, W].
//   dx[n,c,ih,iw] = sum over (oh, ow, r, s) with oh*sh - ph + r = ih, ow*sw - pw + s = iw
//                   of w[c,r,s] * dy[n,c,oh,ow]
// Stride 1: that is the forward correlation of dy, zero-padded by (R-1-ph, S-1-pw), with the
// kernel rotated by 180 degrees — so it reuses the forward plane kernel (gather, vectorised).
// Stride > 1: gathered phase by phase (see the comment in the body), also vectorised.
template <class T>
void depthwise_conv2d_backward_input(const DepthwiseConv2dParams& p, const T* dy, const T* w, T* dx,
                                     Workspace& ws) {
  p.validate();
  if (detail::dw_use_channel_blocks(p)) return detail::dw_is_3x3(p) ? detail::dw_blocked_backward_input<3>(p, dy, w, dx, ws)
                                                              : detail::dw_blocked_backward_input<0>(p, dy, w, dx, ws);
  const std::int64_t Ho = p.out_h(), Wo = p.out_w(), RS = p.R * p.S;
  if (p.stride_h == 1 && p.stride_w == 1) {
    const std::int64_t qh = p.R - 1 - p.pad_h, qw = p.S - 1 - p.pad_w;
    const detail::DwPlane g = detail::dw_plane(Ho, Wo, qh, qw, 1);
    detail::dw_reserve<T>(ws, g.size() + RS);
    parallel_for(p.N * p.C, [&](std::int64_t nc) {
      const T* wc = w + (nc % p.C) * RS;
      T* dyp = ws.get<T>(thread_index(), g.size() + RS);
      T* wf = dyp + g.size();  // rotated kernel
      for (std::int64_t k = 0; k < RS; ++k) wf[k] = wc[RS - 1 - k];
      detail::dw_pad_plane(dy + nc * Ho * Wo, Ho, Wo, qh, qw, g, dyp);
      detail::dw_plane_forward_any(dyp, g, p.H, p.W, p.R, p.S, std::int64_t{1}, wf, T(0), dx + nc * p.H * p.W);
    });
    return;
  }
  // Stride > 1, gathered by phase: padded dx column j = sw*b + q only receives taps s = q + sw*t,
  // from output column ow = b - t, and padded row i only taps r with (i - r) % sh == 0, from
  // output row (i - r) / sh. So each phase q of a dx row is a short correlation of dy rows:
  //   dxrow_q[b] = sum_{r valid} sum_t w[r, q + sw*t] * dyp[(i - r)/sh][tmax + b - t]
  // with dy rows padded by tmax = (S-1)/sw zeros on the left and zeros past Wo, contiguous in b.
  const std::int64_t sh = p.stride_h, sw = p.stride_w, wq = (p.W + 2 * p.pad_w + sw - 1) / sw;
  const std::int64_t tmax = (p.S - 1) / sw, Wd = tmax + wq + 1;
  const std::int64_t need = Ho * Wd + sw * wq;
  detail::dw_reserve<T>(ws, need);
  parallel_for(p.N * p.C, [&](std::int64_t nc) {
    const T* wc = w + (nc % p.C) * RS;
    T* dyp = ws.get<T>(thread_index(), need);  // [Ho, Wd], zero border from dw_reserve
    T* rowbuf = dyp + Ho * Wd;                 // one padded, phase-split dx row: [sw, wq]
    for (std::int64_t oh = 0; oh < Ho; ++oh) std::copy(dy + (nc * Ho + oh) * Wo, dy + (nc * Ho + oh + 1) * Wo, dyp + oh * Wd + tmax);
    T* dxc = dx + nc * p.H * p.W;
    for (std::int64_t ih = 0; ih < p.H; ++ih) {
      const std::int64_t i = ih + p.pad_h;
      for (std::int64_t q = 0; q < sw; ++q) {
        T* out = rowbuf + q * wq;
        std::fill(out, out + wq, T(0));
        for (std::int64_t r = i % sh; r < p.R && r <= i; r += sh) {
          const std::int64_t oh = (i - r) / sh;
          if (oh >= Ho) continue;
          const T* dr = dyp + oh * Wd + tmax;
          for (std::int64_t t = 0, s_ = q; s_ < p.S; ++t, s_ += sw) {
            const T wv = wc[r * p.S + s_];
            const T* src = dr - t;
#pragma omp simd
            for (std::int64_t b = 0; b < wq; ++b) out[b] += wv * src[b];
          }
        }
      }
      if (sw == 2)
        detail::dw_split_row<2, false>(dxc + ih * p.W, p.W, p.pad_w, wq, sw, rowbuf);
      else
        detail::dw_split_row<0, false>(dxc + ih * p.W, p.W, p.pad_w, wq, sw, rowbuf);
    }
  });
}

// dw += dL/dw (accumulated).
// x: [N, C, H, W]; dy: [N, C, Ho, Wo]; dw: [C, 1, R, S].
//   dw[c,r,s] += sum_{n,oh,ow} dy[n,c,oh,ow] * x[n, c, oh*sh - ph + r, ow*sw - pw + s]
// Determinism: the reduction over the batch is blocked by channel: channel c is reduced by one
// thread, over n = 0..N-1 in order, into R*S*Wo lane accumulators (one per tap and output column,
// so the inner loop is an elementwise FMA that vectorises), which are then summed over ow in order.
// No block boundary depends on the thread count, so the result is bit-identical for any count.
// bias gradient (if the caller has a bias): db[c] += sum_{n,oh,ow} dy — see depthwise_conv2d_backward_bias.
template <class T>
void depthwise_conv2d_backward_weight(const DepthwiseConv2dParams& p, const T* x, const T* dy, T* dw,
                                      Workspace& ws) {
  p.validate();
  if (detail::dw_use_channel_blocks(p, 12)) return detail::dw_is_3x3(p) ? detail::dw_blocked_backward_weight<3>(p, x, dy, dw, ws)
                                                              : detail::dw_blocked_backward_weight<0>(p, x, dy, dw, ws);
  const std::int64_t Ho = p.out_h(), Wo = p.out_w(), RS = p.R * p.S, V = detail::kDwLanes;
  const detail::DwPlane g = detail::dw_plane(p.H, p.W, p.pad_h, p.pad_w, p.stride_w);
  // slot: padded x plane + V slack | dy plane copy + V slack | acc [R*S, Wo]
  const std::int64_t dy_off = g.size() + V, acc_off = dy_off + Ho * Wo + V, need = acc_off + RS * Wo;
  detail::dw_reserve<T>(ws, need);
  parallel_for(p.C, [&](std::int64_t c) {
    T* xp = ws.get<T>(thread_index(), need);
    T* dyc = xp + dy_off;
    T* acc = xp + acc_off;
    std::fill(acc, acc + RS * Wo, T(0));
    for (std::int64_t n = 0; n < p.N; ++n) {
      const std::int64_t nc = n * p.C + c;
      detail::dw_pad_plane(x + nc * p.H * p.W, p.H, p.W, p.pad_h, p.pad_w, g, xp);
      std::copy(dy + nc * Ho * Wo, dy + (nc + 1) * Ho * Wo, dyc);
      if (detail::dw_is_3x3(p))
        detail::dw_plane_weight_grad<3>(xp, g, dyc, Ho, Wo, p.R, p.S, p.stride_h, acc);
      else
        detail::dw_plane_weight_grad<0>(xp, g, dyc, Ho, Wo, p.R, p.S, p.stride_h, acc);
    }
    for (std::int64_t k = 0; k < RS; ++k) {
      T sum = 0;
      for (std::int64_t ow = 0; ow < Wo; ++ow) sum += acc[k * Wo + ow];
      dw[c * RS + k] += sum;
    }
  });
}

// db += dL/dbias (accumulated), for a caller that uses the optional bias.
// dy: [N, C, Ho, Wo]; db: [C]. db[c] += sum_{n,oh,ow} dy[n,c,oh,ow], per channel in a fixed order.
template <class T>
inline void depthwise_conv2d_backward_bias(const DepthwiseConv2dParams& p, const T* dy, T* db) {
  p.validate();
  const std::int64_t HW = p.out_h() * p.out_w();
  parallel_for(p.C, [&](std::int64_t c) {
    T sum = 0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const T* d = dy + (n * p.C + c) * HW;
      for (std::int64_t i = 0; i < HW; ++i) sum += d[i];
    }
    db[c] += sum;
  });
}

// Compiled once where the program asks for it (kernels/instantiation.hpp).
#define MOODNET_DEPTHWISE_CONV2D_KERNELS(prefix, T) \
  prefix template void depthwise_conv2d_forward<T>(const DepthwiseConv2dParams&, const T*, const T*, const T*, T*, \
      Workspace&, const ChannelAffine<T>*); \
  prefix template void depthwise_conv2d_backward_input<T>(const DepthwiseConv2dParams&, const T*, const T*, T*, \
      Workspace&); \
  prefix template void depthwise_conv2d_backward_weight<T>(const DepthwiseConv2dParams&, const T*, const T*, T*, \
      Workspace&);
MOODNET_KERNEL_INSTANTIATIONS(MOODNET_DEPTHWISE_CONV2D_KERNELS)

}  // namespace moodnet::kernels
