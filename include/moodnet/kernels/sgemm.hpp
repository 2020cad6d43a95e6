#pragma once
// Single-threaded SGEMM for row-major float matrices, hand-written for AVX-512 (Goto/BLIS blocking),
// covering the three products of im2col convolution (kernels/conv2d.hpp):
//
//   forward          Y   [Kout, P]   = W   [Kout, CRS] * col [CRS, P]        sgemm(no,  no,  ...)
//   backward-input   dcol[CRS, P]    = W^T              * dY  [Kout, P]       sgemm(yes, no,  ...)
//   backward-weight  dW  [Kout, CRS] += dY [Kout, P]    * col^T               sgemm(no,  yes, ..., beta=1)
//
//   C[M, N] = op(A)[M, K] * op(B)[K, N] + beta * C       (beta == 0: C is not read, so may hold NaN)
//   op(A) = A [M, K] (lda >= K) or A^T with A stored [K, M] (lda >= M); op(B) likewise, B [K, N] or [N, K].
//
// Why our own: Eigen's SGEMM reaches ~60-70% of one Zen 5 core's FMA peak at these shapes; an 8x48
// register tile on packed panels, with the blocking below, reaches ~80-85% (bench/sgemm.cpp).
// Parallelism is the caller's (one GEMM per thread, over samples), so this kernel is single-threaded
// with a fixed blocking: results depend on the shapes only, never on the thread count.
//
// Blocking (loop order jc -> pc -> ic -> ir -> jr):
//
//   jc loop:  N in blocks of nc = 480 columns ---+
//   pc loop:  K in blocks of kc = 384 rows       +-> pack op(B)[kc, nc] (720 KiB, stays in the 1 MiB L2)
//   ic loop:  M in blocks of mc = 96 rows  --------> pack op(A)[mc, kc] (144 KiB)
//   ir loop:  one A sliver, 8 rows x kc (12 KiB, stays in the 48 KiB L1) ...
//   jr loop:  ... against every B sliver of the block (kc x 48, streamed from L2): micro-kernel
//
//   packed B block (k-major slivers):        packed A block (k-major slivers):
//     sliver 0        sliver 1                 sliver 0: k=0: a00 a10 .. a70 | k=1: a01 a11 .. a71 | ...
//     k=0: b00..b0,47 | k=0: b0,48..b0,95      sliver 1: rows 8..15, same layout
//     k=1: b10..b1,47 | ...                    (zero rows past M: never stored)
//     ...  (zero columns past N)
//
//   micro-kernel, one 8x48 tile of C per (ir, jr):
//        B sliver  k -> [ b0 (16) | b1 (16) | b2 (16) ]      3 aligned zmm loads per k
//        A sliver  k -> a[0..7], broadcast one by one        8 broadcasts per k
//        C tile    8 rows x 3 zmm = 24 zmm accumulators      24 FMAs per k
//
//   The 24 independent accumulators hide the FMA latency (4 cycles x 2 pipes needs >= 8). Keeping the
//   broadcast side (A) in L1 and streaming the vector side (B) from L2 measured ~1.4x faster than the
//   opposite (B sliver in L1, A from L2). C is read/written once per kc block.
//   Edges: packing zero-pads, so the FMAs need no masks; N tails use masked loads/stores and a 16- or
//   32-column kernel when at most 16 or 32 columns remain; M tails store only the valid rows.
//
// Scratch: two thread_local 64-byte-aligned buffers of fixed size (kKc*kNc and kMc*kKc floats),
// allocated on a thread's first call: no allocation in steady state.
//
// Without AVX-512 (or for other T) callers use Eigen instead: gemm_rowmajor (kernels/gemm_rowmajor.hpp)
// picks the product for the type, the build and the matmul precision.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>

#include "moodnet/core/gemm.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>

#include "moodnet/kernels/avx512_common.hpp"
#endif

namespace moodnet::kernels {

enum class Trans { no, yes };

#if defined(__AVX512F__)
inline constexpr bool kHaveFastSgemm = true;

namespace sgemm_detail {

inline constexpr std::int64_t kMr = 8;     // rows of the register tile
inline constexpr std::int64_t kNr = 48;    // columns of the register tile (3 zmm)
inline constexpr std::int64_t kKc = 384;  // depth of one packed block (A sliver kKc*8*4 = 12 KiB, L1)
inline constexpr std::int64_t kMc = 96;   // rows of one packed A block (kMc*kKc*4 = 144 KiB)
inline constexpr std::int64_t kNc = 480;  // columns of one packed B block (kKc*kNc*4 = 720 KiB, L2)

struct AlignedDelete {
  void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
using Buffer = std::unique_ptr<float[], AlignedDelete>;

inline float* scratch_a() {
  thread_local Buffer buf(static_cast<float*>(::operator new[](sizeof(float) * kMc * kKc, std::align_val_t(64))));
  return buf.get();
}
inline float* scratch_b() {
  thread_local Buffer buf(static_cast<float*>(::operator new[](sizeof(float) * kKc * kNc, std::align_val_t(64))));
  return buf.get();
}

using avx512::tail_mask;

// Packs `rows` (<= W) source rows of `depth` contiguous floats (row r at src + r*ld) transposed into
// dst[k*W + r], k in [0, depth), zero-padding rows [rows, W). W is a multiple of 8 (8 or 48).
// Used for op(A) rows (A not transposed, W = 8) and op(B) columns (B transposed, W = 48).
template <int W>
inline void pack_transposed(const float* src, std::int64_t ld, std::int64_t rows, std::int64_t depth, float* dst) {
  for (int r0 = 0; r0 < W; r0 += 16) {
    const int width = std::min(16, W - r0);  // 16, or 8 for W = 8
    const std::int64_t nrows = std::clamp<std::int64_t>(rows - r0, 0, width);
    for (std::int64_t k0 = 0; k0 < depth; k0 += 16) {
      const std::int64_t kk = std::min<std::int64_t>(16, depth - k0);
      const __mmask16 km = tail_mask(kk);
      __m512 r[16];
      for (int i = 0; i < 16; ++i)
        r[i] = i < nrows ? _mm512_maskz_loadu_ps(km, src + (r0 + i) * ld + k0) : _mm512_setzero_ps();
      avx512::transpose16x16(r);
      float* d = dst + k0 * W + r0;
      if (width == 16)
        for (std::int64_t k = 0; k < kk; ++k) _mm512_storeu_ps(d + k * W, r[k]);
      else
        for (std::int64_t k = 0; k < kk; ++k) _mm256_storeu_ps(d + k * W, _mm512_castps512_ps256(r[k]));
    }
  }
}

// Packs `cols` (<= W) columns of `depth` rows (element (k, c) at src[k*ld + c], contiguous in c) into
// dst[k*W + c], zero-padding columns [cols, W). Used for op(B) = B (W = 48) and op(A) = A^T (W = 8).
template <int W>
inline void pack_straight(const float* src, std::int64_t ld, std::int64_t cols, std::int64_t depth, float* dst) {
  if constexpr (W == 8) {
    const __mmask8 m = cols >= 8 ? __mmask8(0xFF) : __mmask8((1u << cols) - 1u);
    for (std::int64_t k = 0; k < depth; ++k) _mm256_storeu_ps(dst + k * W, _mm256_maskz_loadu_ps(m, src + k * ld));
  } else {
    static_assert(W % 16 == 0);
    for (std::int64_t k = 0; k < depth; ++k)
      for (int c = 0; c < W; c += 16)
        _mm512_store_ps(dst + k * W + c, _mm512_maskz_loadu_ps(tail_mask(cols - c), src + k * ld + c));
  }
}

// C[mr, nr] (ldc) = beta * C + A sliver x B sliver: ap[kc][8] and bp[kc][48] (both packed k-major).
// mr <= 8, nr <= 16*NV (valid part of the tile); NV = zmm columns computed (3 = the full 8x48 tile; 1 or 2
// for narrow N tails, so that N = 9 or 32 does not pay for 48 columns). beta == 0 never reads C.
template <int NV>
inline void micro_kernel(std::int64_t kc, const float* __restrict ap, const float* __restrict bp, float* c,
                         std::int64_t ldc, std::int64_t mr, std::int64_t nr, float beta) {
  __m512 acc[kMr][NV];
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (std::int64_t k = 0; k < kc; ++k) {
    __m512 b[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(bp + 16 * v);
#pragma GCC unroll 8
    for (int i = 0; i < kMr; ++i) {
      const __m512 a = _mm512_set1_ps(ap[i]);
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
    }
    ap += kMr;
    bp += kNr;
  }
  __mmask16 m[NV];
#pragma GCC unroll 3
  for (int v = 0; v < NV; ++v) m[v] = tail_mask(nr - 16 * v);
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
  for (int i = 0; i < kMr; ++i) {
    if (i >= mr) break;
    float* ci = c + i * ldc;
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) {
      __m512 x = acc[i][v];
      if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m[v], ci + 16 * v), x);
      _mm512_mask_storeu_ps(ci + 16 * v, m[v], x);
    }
  }
}

inline void micro_kernel_any(std::int64_t kc, const float* ap, const float* bp, float* c, std::int64_t ldc,
                             std::int64_t mr, std::int64_t nr, float beta) {
  if (nr > 32)
    micro_kernel<3>(kc, ap, bp, c, ldc, mr, nr, beta);
  else if (nr > 16)
    micro_kernel<2>(kc, ap, bp, c, ldc, mr, nr, beta);
  else
    micro_kernel<1>(kc, ap, bp, c, ldc, mr, nr, beta);
}

}  // namespace sgemm_detail

// C[M, N] = op(A) op(B) + beta * C, single-threaded; see the top of this file for shapes and blocking.
// beta == 0 overwrites C without reading it. M, N, K >= 0.
inline void sgemm(Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                  std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
  using namespace sgemm_detail;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  float* const bp = scratch_b();
  float* const ap = scratch_a();
  for (std::int64_t jc = 0; jc < N; jc += kNc) {
    const std::int64_t nc = std::min(kNc, N - jc);
    for (std::int64_t pc = 0; pc < K; pc += kKc) {
      const std::int64_t kc = std::min(kKc, K - pc);
      const float beta_k = pc == 0 ? beta : 1.0f;
      // Pack op(B)[pc:pc+kc, jc:jc+nc] into slivers of kNr columns.
      for (std::int64_t jr = 0; jr < nc; jr += kNr) {
        const std::int64_t nr = std::min(kNr, nc - jr);
        float* dst = bp + jr * kc;
        if (tb == Trans::no)
          pack_straight<kNr>(B + pc * ldb + jc + jr, ldb, nr, kc, dst);
        else
          pack_transposed<kNr>(B + (jc + jr) * ldb + pc, ldb, nr, kc, dst);
      }
      for (std::int64_t ic = 0; ic < M; ic += kMc) {
        const std::int64_t mc = std::min(kMc, M - ic);
        // Pack op(A)[ic:ic+mc, pc:pc+kc] into slivers of kMr rows.
        for (std::int64_t ir = 0; ir < mc; ir += kMr) {
          const std::int64_t mr = std::min(kMr, mc - ir);
          float* dst = ap + ir * kc;
          if (ta == Trans::no)
            pack_transposed<kMr>(A + (ic + ir) * lda + pc, lda, mr, kc, dst);
          else
            pack_straight<kMr>(A + pc * lda + ic + ir, lda, mr, kc, dst);
        }
        // A sliver (8 x kc) stays in L1 while the jr loop streams the B block from L2.
        for (std::int64_t ir = 0; ir < mc; ir += kMr) {
          const std::int64_t mr = std::min(kMr, mc - ir);
          for (std::int64_t jr = 0; jr < nc; jr += kNr)
            micro_kernel_any(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, mr,
                             std::min(kNr, nc - jr), beta_k);
        }
      }
    }
  }
}

#else
inline constexpr bool kHaveFastSgemm = false;
#endif  // __AVX512F__

}  // namespace moodnet::kernels
