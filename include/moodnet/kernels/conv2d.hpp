#pragma once
// Dense and grouped 2-D convolution (cross-correlation, as in PyTorch), forward and the three backward
// passes, NCHW activations and OIHW weights: the entry points, and the im2col + GEMM variant.
// Grouped layers with few channels per group, and dense 3x3 layers on larger images, go to the direct
// variant (kernels/conv2d_direct.hpp), chosen per call and pass by conv2d_use_direct below;
// parameters and threading rules: kernels/conv2d_common.hpp.
//
//   x: [N, C, H, W]          w: [K, C/G, R, S] (OIHW)        b: [K] or nullptr
//   y: [N, K, OH, OW]        OH = (H + 2*pad_h - R) / stride_h + 1,  OW likewise
//
// One group g (G = groups, Cg = C/G input and Kg = K/G output channels) of one sample n is a GEMM:
//
//         Wg                    col_ng (im2col of x[n, g*Cg:(g+1)*Cg])          Y_ng
//   [Kg, Cg*R*S]       x      [Cg*R*S, OH*OW]                         =   [Kg, OH*OW]
//   rows of w[g*Kg..]         (layout drawn in kernels/im2col.hpp)          = y[n, g*Kg.., :, :]
//
// The OIHW weights of group g are already the row-major [Kg, Cg*R*S] matrix Wg, and y[n, g*Kg..]
// is already the row-major [Kg, OH*OW] matrix Y_ng: only the input needs unfolding. A 1x1 kernel
// with stride 1 and no padding needs none either: col_ng is x[n, g*Cg..] itself, viewed as
// [Cg, H*W] (MobileNet's pointwise layers: Y_n = W * X_n).
//
// Backward, with dY_ng the [Kg, OH*OW] slice of dy (L = loss):
//   y = Wg col  =>  dL/dcol = Wg^T dY_ng    then  dx = col2im(dcol)  (the adjoint of im2col)
//                   dL/dWg  = sum_n dY_ng col_ng^T
//                   dL/db_k = sum_{n, oh, ow} dy[n, k, oh, ow]
//
// GEMMs: gemm_rowmajor (kernels/sgemm.hpp) = our single-threaded AVX-512 sgemm for float when built
// with AVX-512, Eigen's GEMM otherwise (double, or no AVX-512). See docs/kernels/conv.md for speed.
//
// Threads: the batch is split across OpenMP threads (one block of samples at a time per thread,
// each GEMM single-threaded, see core/gemm.hpp; small images are blocked several per GEMM, see
// kMinGemmColumns). A forward with fewer than kMinParallelBlocks blocks (a batch of one) splits each
// block into fixed GEMM tiles across the threads instead (conv2d_forward_tiled). Column buffers live
// in a caller-owned Workspace (slot t = thread t), so repeated calls with the same shapes allocate
// nothing. The weight gradient is a sum over the batch: it is reduced in kWeightGradChunks fixed
// chunks of the batch, each into its own workspace slot, then combined in chunk order
// (conv2d_common.hpp), so its bits do not depend on the number of threads.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "moodnet/core/error.hpp"
#include "moodnet/core/gemm.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/channel_affine.hpp"
#include "moodnet/kernels/conv2d_common.hpp"
#include "moodnet/kernels/conv2d_direct.hpp"
#include "moodnet/kernels/im2col.hpp"
#include "moodnet/kernels/gemm_rowmajor.hpp"
#include "moodnet/kernels/instantiation.hpp"

namespace moodnet::kernels {

// Which pass a choice of variant is for.
enum class Conv2dPass { forward, backward_input, backward_weight };

// The variant for these parameters and pass: `algo` when forced, else the direct path where it
// measured faster than im2col + GEMM (1 thread, batch 64, Zen 5; docs/kernels/conv.md):
//   grouped layers with at most kDirectMaxCg channels per group: always (ResNeXt: 1.3-2.9x);
//   dense R x S > 1 layers: forward and backward-input from 12x12 outputs (48x48: 1.2-1.65x,
//   12x12: 1.05-1.25x, 6x6: GEMM up to 1.3x faster), backward-weight from 24x24 (12x12: even,
//   6x6: GEMM 2x faster); the forward of a one-channel stem (9 taps: GEMM 10% faster) stays on GEMM;
//   1x1 layers: GEMM (the pointwise GEMM needs no im2col; the stride-2 projections measured as fast
//   or faster on GEMM). Under matmul precision bf16 (kernels/matmul_precision.hpp) every dense layer
//   with more than kBf16MinCg input channels per group goes to the GEMM (AMX); those with at most that keep
//   the float rule (ResNet-10 w 32, batch 64, 2 threads, AMX Xeon: 32->32 at 48x48 direct float
//   1.3x faster than bf16 GEMM in every pass, whose 288-deep 32-row products pack more than they
//   multiply; 32->64 stride 2 even; 64->64 at 24x24 bf16 1.15-1.25x faster; docs/performance.md).
// The dense rule needs the AVX-512 float tiles: without them (double, or a portable SSE2 build)
// Eigen's GEMM measured 1.1-1.9x faster than the portable twin on dense layers, about even on grouped.
inline constexpr std::int64_t kDirectMaxCg = 64, kDirectMinOutputs = 144, kDirectMinWgradOutputs = 576;
inline constexpr std::int64_t kBf16MinCg = 32;
template <class T = float>
inline bool conv2d_use_direct(const Conv2dParams& p, Conv2dPass pass) {
  switch (p.algo) {
    case Conv2dAlgo::gemm: return false;
    case Conv2dAlgo::direct:
      MOODNET_CHECK(conv2d_direct_supported(p), "conv2d: the direct algorithm supports stride_h*stride_w <= ",
                    kDirectMaxPhases, ", got stride ", p.stride_h, "x", p.stride_w);
      return true;
    case Conv2dAlgo::automatic: break;
  }
  if (!conv2d_direct_supported(p)) return false;
  if (p.groups > 1 && p.c_per_group() <= kDirectMaxCg) return true;
  // bf16 products run on AMX, many times the float FMA rate: the GEMM wins the dense layers with
  // enough input channels for its packing to pay.
  if (std::is_same_v<T, float> && matmul_precision() == MatmulPrecision::bf16 && p.c_per_group() > kBf16MinCg)
    return false;
  if (!kHaveDirectTiles<T> || p.R * p.S == 1) return false;
  const std::int64_t outputs = p.out_h() * p.out_w();
  switch (pass) {
    case Conv2dPass::forward: return outputs >= kDirectMinOutputs && p.c_per_group() >= 2;
    case Conv2dPass::backward_input: return outputs >= kDirectMinOutputs;
    case Conv2dPass::backward_weight: return outputs >= kDirectMinWgradOutputs;
  }
  return false;
}

namespace detail {

// Unfolds channels [g*Cg, (g+1)*Cg) of samples n0 .. n0+m-1 side by side: col[Cg*R*S, m*OHW].
template <class T>
inline void im2col_samples(const Conv2dParams& p, const T* x, std::int64_t n0, std::int64_t m, std::int64_t gi,
                           T* col) {
  const Im2colShape g = p.im2col_shape();
  const std::int64_t OHW = g.col_cols();
  for (std::int64_t j = 0; j < m; ++j)
    im2col(x + ((n0 + j) * p.C + gi * g.C) * p.H * p.W, g, col + j * OHW, m * OHW);
}

// Copies channels [g*Kg, (g+1)*Kg) of samples n0 .. n0+m-1 between a [N, K, OHW] tensor t and a
// [Kg, m*OHW] matrix: gather_outputs t -> mat, scatter_outputs mat -> t.
template <class T>
inline void gather_outputs(const Conv2dParams& p, const T* t, std::int64_t n0, std::int64_t m, std::int64_t gi,
                           T* mat) {
  const std::int64_t Kg = p.k_per_group(), OHW = p.out_h() * p.out_w();
  for (std::int64_t j = 0; j < m; ++j)
    for (std::int64_t k = 0; k < Kg; ++k) {
      const T* a = t + ((n0 + j) * p.K + gi * Kg + k) * OHW;
      std::copy(a, a + OHW, mat + k * m * OHW + j * OHW);
    }
}
template <class T>
inline void scatter_outputs(const Conv2dParams& p, const T* mat, std::int64_t n0, std::int64_t m, std::int64_t gi,
                            T* t) {
  const std::int64_t Kg = p.k_per_group(), OHW = p.out_h() * p.out_w();
  for (std::int64_t j = 0; j < m; ++j)
    for (std::int64_t k = 0; k < Kg; ++k) {
      const T* b = mat + k * m * OHW + j * OHW;
      std::copy(b, b + OHW, t + ((n0 + j) * p.K + gi * Kg + k) * OHW);
    }
}

// A forward with fewer than kMinParallelBlocks sample blocks (a batch of one: predict) runs its blocks
// one after another, each split across the threads: im2col channel by channel, then the GEMM in fixed
// tiles of kTileRows output channels x kTileCols columns. Tiles and the choice depend on the shapes
// only, and every tile is one single-threaded GEMM, so y is bit-identical for any thread count.
inline constexpr std::int64_t kMinParallelBlocks = 4, kTileRows = 64, kTileCols = 240;

template <class T>
inline void conv2d_forward_tiled(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y, Workspace& ws,
                                 const ChannelAffine<T>* epilogue) {
  const Im2colShape g1 = [&] {  // one channel
    Im2colShape g = p.im2col_shape();
    g.C = 1;
    return g;
  }();
  const std::int64_t G = p.groups, Cg = p.c_per_group(), Kg = p.k_per_group(), RS = p.R * p.S;
  const std::int64_t HW = p.H * p.W, OHW = p.out_h() * p.out_w(), CRS = Cg * RS;
  const std::int64_t nb = samples_per_gemm(p), blocks = (p.N + nb - 1) / nb;
  const bool direct = p.is_pointwise() && nb == 1;  // B is x itself
  const std::int64_t col_elems = direct ? 0 : CRS * nb * OHW, tmp_elems = nb > 1 ? Kg * nb * OHW : 0;
  ws.reserve_slots(1);
  T* const col = ws.get<T>(0, col_elems + tmp_elems);
  T* const tmp = col + col_elems;
  const std::int64_t row_tiles = (Kg + kTileRows - 1) / kTileRows;
#pragma omp parallel
  for (std::int64_t blk = 0; blk < blocks; ++blk) {
    const std::int64_t n0 = blk * nb, m = std::min(nb, p.N - n0), cols = m * OHW;
    const std::int64_t col_tiles = (cols + kTileCols - 1) / kTileCols;
    for (std::int64_t gi = 0; gi < G; ++gi) {
      if (!direct) {
#pragma omp for schedule(static)
        for (std::int64_t i = 0; i < m * Cg; ++i) {  // channel i % Cg of sample n0 + i / Cg
          const std::int64_t j = i / Cg, c = i % Cg;
          im2col(x + ((n0 + j) * p.C + gi * Cg + c) * HW, g1, col + c * RS * cols + j * OHW, cols);
        }
      }
      const T* B = direct ? x + (n0 * p.C + gi * Cg) * HW : col;  // [CRS, cols]
      T* C = m == 1 ? y + (n0 * p.K + gi * Kg) * OHW : tmp;      // [Kg, cols]
      const T* Wg = w + gi * Kg * CRS;
#pragma omp for schedule(static)
      for (std::int64_t t = 0; t < row_tiles * col_tiles; ++t) {
        const std::int64_t r0 = (t / col_tiles) * kTileRows, c0 = (t % col_tiles) * kTileCols;
        gemm_rowmajor<T>(Trans::no, Trans::no, std::min(kTileRows, Kg - r0), std::min(kTileCols, cols - c0), CRS,
                         Wg + r0 * CRS, CRS, B + c0, cols, T(0), C + r0 * cols + c0, cols);
      }
      if (m > 1) {
#pragma omp for schedule(static)
        for (std::int64_t i = 0; i < m * Kg; ++i) {
          const std::int64_t j = i / Kg, k = i % Kg;
          std::copy(tmp + k * cols + j * OHW, tmp + k * cols + (j + 1) * OHW, y + ((n0 + j) * p.K + gi * Kg + k) * OHW);
        }
      }
    }
    if (bias || epilogue) {
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i < m * p.K; ++i) {
        const std::int64_t k = i % p.K;
        T* yk = y + (n0 * p.K + i) * OHW;
        if (bias) {
          const T bk = bias[k];
          for (std::int64_t e = 0; e < OHW; ++e) yk[e] += bk;
        }
        apply_channel_affine(epilogue, k, yk, OHW);
      }
    }
  }
}

}  // namespace detail

// y = conv(x, w) + b.  x: [N, C, H, W], w: [K, C/G, R, S], bias: [K] or nullptr, y: [N, K, OH, OW]
// (overwritten). ws holds the per-thread column buffers. epilogue (optional, kernels/channel_affine.hpp):
// a per-channel affine map (+ReLU) applied to each block of samples right after its GEMM and bias.
template <class T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y, Workspace& ws,
                    const ChannelAffine<T>* epilogue = nullptr) {
  p.validate();
  if (conv2d_use_direct<T>(p, Conv2dPass::forward)) return conv2d_forward_direct(p, x, w, bias, y, ws, epilogue);
  const std::int64_t G = p.groups, Cg = p.c_per_group(), Kg = p.k_per_group();
  const std::int64_t HW = p.H * p.W, OHW = p.out_h() * p.out_w(), CRS = p.im2col_shape().col_rows();
  const std::int64_t nb = detail::samples_per_gemm(p), blocks = (p.N + nb - 1) / nb;
  if (blocks < detail::kMinParallelBlocks) return detail::conv2d_forward_tiled(p, x, w, bias, y, ws, epilogue);
  const bool direct = p.is_pointwise() && nb == 1;  // B is x itself
  const std::int64_t col_elems = CRS * nb * OHW, tmp_elems = nb > 1 ? Kg * nb * OHW : 0;
  if (!direct) detail::reserve_per_thread<T>(ws, col_elems + tmp_elems);

  detail::for_each_item(blocks, [&](std::int64_t blk, int t) {
    const std::int64_t n0 = blk * nb, m = std::min(nb, p.N - n0), cols = m * OHW;
    T* col = direct ? nullptr : ws.get<T>(t, col_elems + tmp_elems);
    T* tmp = direct ? nullptr : col + col_elems;
    for (std::int64_t gi = 0; gi < G; ++gi) {
      const T* B = x + (n0 * p.C + gi * Cg) * HW;  // [Cg*R*S, m*OHW]
      if (!direct) {
        detail::im2col_samples(p, x, n0, m, gi, col);
        B = col;
      }
      const T* Wg = w + gi * Kg * CRS;  // [Kg, CRS]
      if (m == 1) {
        gemm_rowmajor<T>(Trans::no, Trans::no, Kg, OHW, CRS, Wg, CRS, B, OHW, T(0), y + (n0 * p.K + gi * Kg) * OHW,
                         OHW);
      } else {
        gemm_rowmajor<T>(Trans::no, Trans::no, Kg, cols, CRS, Wg, CRS, B, cols, T(0), tmp, cols);
        detail::scatter_outputs(p, tmp, n0, m, gi, y);
      }
    }
    if (bias || epilogue) {
      for (std::int64_t n = n0; n < n0 + m; ++n)
        for (std::int64_t k = 0; k < p.K; ++k) {
          T* yk = y + (n * p.K + k) * OHW;
          if (bias) {
            const T bk = bias[k];
            for (std::int64_t i = 0; i < OHW; ++i) yk[i] += bk;
          }
          apply_channel_affine(epilogue, k, yk, OHW);
        }
    }
  });
}

// dx = dL/dx (OVERWRITTEN) from dy = dL/dy: [N, K, OH, OW] and w. Per block of samples and group:
// dcol = Wg^T dY ([Cg*R*S, m*OHW]), then dx = col2im(dcol) sample by sample.
template <class T>
void conv2d_backward_input(const Conv2dParams& p, const T* dy, const T* w, T* dx, Workspace& ws) {
  p.validate();
  if (conv2d_use_direct<T>(p, Conv2dPass::backward_input)) return conv2d_backward_input_direct(p, dy, w, dx, ws);
  const Im2colShape g = p.im2col_shape();
  const std::int64_t G = p.groups, Cg = p.c_per_group(), Kg = p.k_per_group();
  const std::int64_t HW = p.H * p.W, OHW = p.out_h() * p.out_w(), CRS = g.col_rows();
  const std::int64_t nb = detail::samples_per_gemm(p), blocks = (p.N + nb - 1) / nb;
  const bool direct = p.is_pointwise() && nb == 1;  // dx = W^T dY directly
  const std::int64_t col_elems = CRS * nb * OHW, tmp_elems = nb > 1 ? Kg * nb * OHW : 0;
  if (!direct) detail::reserve_per_thread<T>(ws, col_elems + tmp_elems);

  detail::for_each_item(blocks, [&](std::int64_t blk, int t) {
    const std::int64_t n0 = blk * nb, m = std::min(nb, p.N - n0), cols = m * OHW;
    T* dcol = direct ? nullptr : ws.get<T>(t, col_elems + tmp_elems);
    T* tmp = direct ? nullptr : dcol + col_elems;
    for (std::int64_t gi = 0; gi < G; ++gi) {
      const T* Wg = w + gi * Kg * CRS;                 // [Kg, CRS], used transposed
      const T* dY = dy + (n0 * p.K + gi * Kg) * OHW;  // [Kg, m*OHW]
      if (m > 1) {
        detail::gather_outputs(p, dy, n0, m, gi, tmp);
        dY = tmp;
      }
      if (direct) {
        gemm_rowmajor<T>(Trans::yes, Trans::no, Cg, HW, Kg, Wg, CRS, dY, OHW, T(0), dx + (n0 * p.C + gi * Cg) * HW,
                         HW);
        continue;
      }
      gemm_rowmajor<T>(Trans::yes, Trans::no, CRS, cols, Kg, Wg, CRS, dY, cols, T(0), dcol, cols);
      for (std::int64_t j = 0; j < m; ++j) {
        T* dxg = dx + ((n0 + j) * p.C + gi * Cg) * HW;
        std::fill(dxg, dxg + Cg * HW, T(0));
        col2im(dcol + j * OHW, g, dxg, cols);
      }
    }
  });
}

// dw += dL/dw (ACCUMULATED): dWg += sum_n dY_ng col_ng^T. x: [N, C, H, W], dy: [N, K, OH, OW],
// dw: [K, C/G, R, S]. Bit-identical for any thread count (fixed batch chunks, combined in order).
template <class T>
void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, Workspace& ws) {
  p.validate();
  if (conv2d_use_direct<T>(p, Conv2dPass::backward_weight)) return conv2d_backward_weight_direct(p, x, dy, dw, ws);
  const std::int64_t G = p.groups, Cg = p.c_per_group(), Kg = p.k_per_group();
  const std::int64_t HW = p.H * p.W, OHW = p.out_h() * p.out_w(), CRS = p.im2col_shape().col_rows();
  const std::int64_t nb = detail::samples_per_gemm(p);
  const bool direct = p.is_pointwise() && nb == 1;
  const std::int64_t col_elems = CRS * nb * OHW, tmp_elems = nb > 1 ? Kg * nb * OHW : 0;
  const int first = static_cast<int>(std::min<std::int64_t>(p.N, kWeightGradChunks));

  // Slots [0, chunks): the chunk accumulators; [chunks, chunks + nt): columns per thread.
  if (!direct) detail::reserve_per_thread<T>(ws, col_elems + tmp_elems, first);

  // Chunk [c0, c1) in blocks of nb samples from its start. Each chunk is one single-threaded
  // sequence of GEMMs, always inside the parallel region (even with fewer chunks than threads), so
  // Eigen never splits a GEMM across threads (that would change its blocking, hence the rounding).
  detail::reduce_weight_grad_in_chunks<T>(
      p.N, p.K * CRS, 1, dw, ws, [&](std::int64_t, std::int64_t, std::int64_t c0, std::int64_t c1, T* acc, int t) {
        T* col = direct ? nullptr : ws.get<T>(first + t, col_elems + tmp_elems);
        T* tmp = direct ? nullptr : col + col_elems;
        for (std::int64_t n0 = c0; n0 < c1; n0 += nb) {
          const std::int64_t m = std::min(nb, c1 - n0), cols = m * OHW;
          for (std::int64_t gi = 0; gi < G; ++gi) {
            const T* B = x + (n0 * p.C + gi * Cg) * HW;     // [Cg*R*S, m*OHW]
            const T* dY = dy + (n0 * p.K + gi * Kg) * OHW;  // [Kg, m*OHW]
            if (!direct) {
              detail::im2col_samples(p, x, n0, m, gi, col);
              B = col;
            }
            if (m > 1) {
              detail::gather_outputs(p, dy, n0, m, gi, tmp);
              dY = tmp;
            }
            // dW [Kg, CRS] (=|+=) dY [Kg, cols] * B^T, B [CRS, cols]
            gemm_rowmajor<T>(Trans::no, Trans::yes, Kg, CRS, cols, dY, cols, B, cols, n0 == c0 ? T(0) : T(1),
                             acc + gi * Kg * CRS, CRS);
          }
        }
      });
}

// db += dL/db (ACCUMULATED): db[k] += sum over n, oh, ow of dy[n, k, oh, ow]. Each k is summed by one
// thread in a fixed order, so the result does not depend on the thread count.
template <class T>
inline void conv2d_backward_bias(const Conv2dParams& p, const T* dy, T* db) {
  p.validate();
  const std::int64_t OHW = p.out_h() * p.out_w();
  parallel_for(p.K, [&](std::int64_t k) {
    T s = 0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const T* d = dy + (n * p.K + k) * OHW;
      T sn = 0;
      for (std::int64_t i = 0; i < OHW; ++i) sn += d[i];
      s += sn;
    }
    db[k] += s;
  });
}

// ---- tensor overloads: check every shape against the parameters, then call the pointer versions ----

template <class T>
inline void conv2d_forward(const Conv2dParams& p, std::type_identity_t<TensorView<const T>> x,
                           std::type_identity_t<TensorView<const T>> w, const T* bias, TensorView<T> y,
                           Workspace& ws, const ChannelAffine<T>* epilogue = nullptr) {
  p.validate();
  check_shape(x.shape(), p.input_shape(), "conv2d input x");
  check_shape(w.shape(), p.weight_shape(), "conv2d weight w");
  check_shape(y.shape(), p.output_shape(), "conv2d output y");
  conv2d_forward(p, x.data(), w.data(), bias, y.data(), ws, epilogue);
}

template <class T>
inline void conv2d_backward_input(const Conv2dParams& p, std::type_identity_t<TensorView<const T>> dy,
                                  std::type_identity_t<TensorView<const T>> w, TensorView<T> dx, Workspace& ws) {
  p.validate();
  check_shape(dy.shape(), p.output_shape(), "conv2d output gradient dy");
  check_shape(w.shape(), p.weight_shape(), "conv2d weight w");
  check_shape(dx.shape(), p.input_shape(), "conv2d input gradient dx");
  conv2d_backward_input(p, dy.data(), w.data(), dx.data(), ws);
}

template <class T>
inline void conv2d_backward_weight(const Conv2dParams& p, std::type_identity_t<TensorView<const T>> x,
                                   std::type_identity_t<TensorView<const T>> dy, TensorView<T> dw, Workspace& ws) {
  p.validate();
  check_shape(x.shape(), p.input_shape(), "conv2d input x");
  check_shape(dy.shape(), p.output_shape(), "conv2d output gradient dy");
  check_shape(dw.shape(), p.weight_shape(), "conv2d weight gradient dw");
  conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), ws);
}

template <class T>
inline void conv2d_backward_bias(const Conv2dParams& p, std::type_identity_t<TensorView<const T>> dy,
                                 TensorView<T> db) {
  p.validate();
  check_shape(dy.shape(), p.output_shape(), "conv2d output gradient dy");
  check_shape(db.shape(), Shape{p.K}, "conv2d bias gradient db");
  conv2d_backward_bias(p, dy.data(), db.data());
}

// Compiled once where the program asks for it (kernels/instantiation.hpp).
#define MOODNET_CONV2D_KERNELS(prefix, T) \
  prefix template void conv2d_forward<T>(const Conv2dParams&, const T*, const T*, const T*, T*, Workspace&, \
      const ChannelAffine<T>*); \
  prefix template void conv2d_backward_input<T>(const Conv2dParams&, const T*, const T*, T*, Workspace&); \
  prefix template void conv2d_backward_weight<T>(const Conv2dParams&, const T*, const T*, T*, Workspace&);
MOODNET_KERNEL_INSTANTIATIONS(MOODNET_CONV2D_KERNELS)

}  // namespace moodnet::kernels
