#pragma once
// Single-threaded GEMM on Intel AMX: float in, float out, the products of bfloat16 operands summed in
// float. The same contract as sgemm (kernels/sgemm.hpp) — row-major, op() transposes, beta — so that
// gemm_rowmajor can run any of the three convolution products on it (kernels/matmul_precision.hpp):
//
//   C[M, N] = op(A)[M, K] * op(B)[K, N] + beta * C      (beta == 0: C is not read, so may hold NaN)
//
// Arithmetic: every element of op(A) and op(B) is rounded to bf16 (round to nearest even; NaN stays
// NaN) as it is packed, so each operand carries a relative error of at most 2^-9; TDPBF16PS multiplies
// pairs exactly and adds them into float accumulators. An element of C is thus within about
// 2^-8 * sum_k |a_ik b_kj| (plus float summation error) of the exact product.
//
// The tile unit (TDPBF16PS: C[16, 16] += A[16, 32] * B[32, 16]):
//
//   A tile: 16 rows of op(A), 32 k each            B tile ("VNNI": k in pairs): 16 rows of k-pairs,
//     row r: a(r,k0) a(r,k0+1) ... a(r,k0+31)        row q: b(2q,0) b(2q+1,0) b(2q,1) b(2q+1,1) ...
//     (64 bytes of bf16)                                    ... b(2q,15) b(2q+1,15)      (64 bytes)
//
// Register blocking: 2 x 2 tiles of C (a 32 x 32 block) in tmm0-3, two A tiles in tmm4-5 and two B
// tiles in tmm6-7; each 32-k step loads 4 tiles and issues 4 TDPBF16PS.
//
// Blocking (loop order jc -> pc -> ic -> micro): N in blocks of kNc = 256 columns, K in blocks of
// kKc = 512, pack op(B)[kKc, kNc] as tiles (256 KiB of bf16, in L2); M in blocks of kMc = 128 rows,
// pack op(A)[kMc, kKc] as tiles (128 KiB). Packing pads with zeros to whole 32 x 32 blocks and whole
// 32-k steps, so the tile loop needs no edge cases; after each K block the four C tiles go through a
// 32 x 32 float buffer into C (masked at the M and N edges; the first K block applies beta).
// Packing is vectorised (AVX512-BF16 conversions, AVX512-BW permutes): at AMX's rate, packing and
// the float traffic of C are a large share of the time.
//
// Requirements, checked by amx_bf16_available(): x86-64 with AVX512F/BW/BF16, AMX-TILE and AMX-BF16,
// and an OS that grants the tile state (Linux 5.16+: arch_prctl(ARCH_REQ_XCOMP_PERM), asked once per
// process here). The code is compiled with function target attributes, so it builds into portable
// binaries and runs only where the CPU has it; elsewhere gemm_bf16_amx throws a one-line error.
// Results depend on the shapes only (fixed blocking, single thread), never on the thread count.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "moodnet/core/error.hpp"
#include "moodnet/kernels/sgemm.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__linux__)
#define MOODNET_HAVE_AMX_CODE 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MOODNET_AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))
#endif

namespace moodnet::kernels {

#if defined(MOODNET_HAVE_AMX_CODE)
namespace amx_detail {

inline constexpr std::int64_t kTile = 16;    // rows and float columns of a C tile
inline constexpr std::int64_t kStepK = 32;   // k per tile step (bf16 per A tile row)
inline constexpr std::int64_t kBlock = 32;   // 2 x 2 tiles of C
inline constexpr std::int64_t kTileElems = 512;  // bf16 per A or B tile (1 KiB)
inline constexpr std::int64_t kNc = 256, kKc = 512, kMc = 128;

// Whether the CPU and the OS let us run AMX-BF16 code (asked once).
inline bool detect() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool avx512f = b & (1u << 16), avx512bw = b & (1u << 30), avx512vl = b & (1u << 31);
  const bool amx_bf16 = d & (1u << 22), amx_tile = d & (1u << 24);
  if (!(avx512f && avx512bw && avx512vl && amx_bf16 && amx_tile)) return false;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) return false;  // AVX512_BF16
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;         // OSXSAVE
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const unsigned need = (1u << 1) | (1u << 2) | (7u << 5) | (1u << 17) | (1u << 18);  // SSE AVX ZMM TILE
  if ((lo & need) != need) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

struct TileConfig {  // the 64-byte LDTILECFG operand, palette 1
  std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
  std::uint16_t bytes_per_row[16] = {};
  std::uint8_t rows[16] = {};
};

MOODNET_AMX_TARGET inline void configure_tiles() {
  alignas(64) TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.bytes_per_row[t] = 64, cfg.rows[t] = 16;  // all eight tiles 16 x 64 B
  _tile_loadconfig(&cfg);
}

struct AlignedDelete {
  void operator()(void* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
template <class T>
inline T* scratch(std::unique_ptr<T[], AlignedDelete>& buf, std::int64_t n) {
  if (!buf) buf.reset(static_cast<T*>(::operator new[](sizeof(T) * n, std::align_val_t(64))));
  return buf.get();
}

// Mask of the first n (0..16) of 16 lanes.
inline __mmask16 first(std::int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << std::max<std::int64_t>(n, 0)) - 1);
}

// Packs rows [i0, i0+mb) x k [k0, k0+kb) of op(A) into A tiles: strip s (16 rows) and step t (32 k)
// at dst + (s * steps + t) * 512, rows past mb and k past kb zero. strips = ceil(mb/32)*2, steps = ceil(kb/32).
MOODNET_AMX_TARGET inline void pack_a(Trans ta, const float* A, std::int64_t lda, std::int64_t i0, std::int64_t mb,
                                      std::int64_t k0, std::int64_t kb, std::int64_t strips, std::int64_t steps,
                                      std::uint16_t* dst) {
  for (std::int64_t s = 0; s < strips; ++s)
    for (std::int64_t t = 0; t < steps; ++t) {
      std::uint16_t* tile = dst + (s * steps + t) * kTileElems;
      const std::int64_t kk = t * kStepK, kn = std::min(kStepK, kb - kk);
      if (ta == Trans::no) {  // row i: 32 consecutive k
        for (std::int64_t r = 0; r < kTile; ++r) {
          const std::int64_t i = s * kTile + r;
          __m512i v = _mm512_setzero_si512();
          if (i < mb) {
            const float* a = A + (i0 + i) * lda + k0 + kk;
            const __m512 lo = _mm512_maskz_loadu_ps(first(kn), a), hi = _mm512_maskz_loadu_ps(first(kn - 16), a + 16);
            v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
          }
          _mm512_store_si512(tile + r * kStepK, v);
        }
      } else {  // A stored [K, M]: k row by k row, 16 rows of op(A) each, then transposed
        alignas(64) std::uint16_t t16[kStepK][kTile];
        const std::int64_t rn = std::min<std::int64_t>(kTile, mb - s * kTile);
        for (std::int64_t k = 0; k < kStepK; ++k) {
          __m256i v = _mm256_setzero_si256();
          if (k < kn && rn > 0)
            v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(first(rn), A + (k0 + kk + k) * lda + i0 + s * kTile));
          _mm256_store_si256(reinterpret_cast<__m256i*>(t16[k]), v);
        }
        for (std::int64_t r = 0; r < kTile; ++r)
          for (std::int64_t k = 0; k < kStepK; ++k) tile[r * kStepK + k] = t16[k][r];
      }
    }
}

// Packs k [k0, k0+kb) x columns [j0, j0+nb) of op(B) into VNNI B tiles: strip s (16 columns) and
// step t (32 k) at dst + (s * steps + t) * 512, zero past kb and nb.
MOODNET_AMX_TARGET inline void pack_b(Trans tb, const float* B, std::int64_t ldb, std::int64_t k0, std::int64_t kb,
                                      std::int64_t j0, std::int64_t nb, std::int64_t strips, std::int64_t steps,
                                      std::uint16_t* dst) {
  // bf16 of rows k (lanes 0-15) and k+1 (lanes 16-31) -> pairs (b(k,j), b(k+1,j)) for j = 0..15
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                              6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i column_stride = _mm512_set_epi32(240, 224, 208, 192, 176, 160, 144, 128, 112, 96, 80, 64, 48, 32, 16, 0);
  for (std::int64_t s = 0; s < strips; ++s) {
    const std::int64_t jn = std::min<std::int64_t>(kTile, nb - s * kTile);
    for (std::int64_t t = 0; t < steps; ++t) {
      std::uint16_t* tile = dst + (s * steps + t) * kTileElems;
      const std::int64_t kk = t * kStepK, kn = std::min(kStepK, kb - kk);
      if (jn <= 0 || kn <= 0) {
        std::memset(tile, 0, kTileElems * sizeof(std::uint16_t));
        continue;
      }
      if (tb == Trans::no) {  // B [K, N]: rows k and k+1, 16 columns each
        for (std::int64_t q = 0; q < kStepK / 2; ++q) {
          const std::int64_t k = 2 * q;  // within the step
          const float* b = B + (k0 + kk + k) * ldb + j0 + s * kTile;
          const __m512 r0 = k < kn ? _mm512_maskz_loadu_ps(first(jn), b) : _mm512_setzero_ps();
          const __m512 r1 = k + 1 < kn ? _mm512_maskz_loadu_ps(first(jn), b + ldb) : _mm512_setzero_ps();
          _mm512_store_si512(tile + q * 32, _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(r1, r0)));
        }
      } else {  // B stored [N, K]: column j of op(B) is contiguous: its 16 k-pairs go down the tile
        std::memset(tile, 0, kTileElems * sizeof(std::uint16_t));
        for (std::int64_t j = 0; j < jn; ++j) {
          const float* b = B + (j0 + s * kTile + j) * ldb + k0 + kk;
          const __m512 lo = _mm512_maskz_loadu_ps(first(kn), b), hi = _mm512_maskz_loadu_ps(first(kn - 16), b + 16);
          // 32-bit lane q holds the pair (k = 2q, 2q+1); it goes to tile row q, column j
          _mm512_i32scatter_epi32(reinterpret_cast<int*>(tile) + j, column_stride, (__m512i)_mm512_cvtne2ps_pbh(hi, lo), 4);
        }
      }
    }
  }
}

// C[rows, cols] (rows, cols <= 32) from the 32 x 32 block t: C = t, beta C + t or C + t.
MOODNET_AMX_TARGET inline void write_block(const float* t, float* C, std::int64_t ldc, std::int64_t rows,
                                           std::int64_t cols, bool first_k, float beta) {
  const __m512 vb = _mm512_set1_ps(beta);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t h = 0; h < 2; ++h) {
      const __mmask16 m = first(cols - 16 * h);
      if (!m) continue;
      float* c = C + r * ldc + 16 * h;
      const __m512 v = _mm512_load_ps(t + r * kBlock + 16 * h);
      if (first_k && beta == 0.0f) _mm512_mask_storeu_ps(c, m, v);
      else if (first_k && beta != 1.0f) _mm512_mask_storeu_ps(c, m, _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, c), v));
      else _mm512_mask_storeu_ps(c, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, c), v));
    }
}

MOODNET_AMX_TARGET inline void gemm(Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K,
                                    const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta,
                                    float* C, std::int64_t ldc) {
  thread_local std::unique_ptr<std::uint16_t[], AlignedDelete> a_buf, b_buf;
  thread_local std::unique_ptr<float[], AlignedDelete> c_buf;
  std::uint16_t* ap = scratch(a_buf, kMc * kKc);
  std::uint16_t* bp = scratch(b_buf, kKc * kNc);
  float* cb = scratch(c_buf, kBlock * kBlock);
  configure_tiles();
  for (std::int64_t jc = 0; jc < N; jc += kNc) {
    const std::int64_t nc = std::min(kNc, N - jc), nstrips = (nc + kBlock - 1) / kBlock * 2;
    for (std::int64_t pc = 0; pc < K; pc += kKc) {
      const std::int64_t kc = std::min(kKc, K - pc), steps = (kc + kStepK - 1) / kStepK;
      pack_b(tb, B, ldb, pc, kc, jc, nc, nstrips, steps, bp);
      for (std::int64_t ic = 0; ic < M; ic += kMc) {
        const std::int64_t mc = std::min(kMc, M - ic), mstrips = (mc + kBlock - 1) / kBlock * 2;
        pack_a(ta, A, lda, ic, mc, pc, kc, mstrips, steps, ap);
        for (std::int64_t si = 0; si < mstrips; si += 2)
          for (std::int64_t sj = 0; sj < nstrips; sj += 2) {
            const std::uint16_t* a0 = ap + si * steps * kTileElems;
            const std::uint16_t* a1 = a0 + steps * kTileElems;
            const std::uint16_t* b0 = bp + sj * steps * kTileElems;
            const std::uint16_t* b1 = b0 + steps * kTileElems;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (std::int64_t t = 0; t < steps; ++t) {
              _tile_loadd(4, a0 + t * kTileElems, 64);
              _tile_loadd(5, a1 + t * kTileElems, 64);
              _tile_loadd(6, b0 + t * kTileElems, 64);
              _tile_loadd(7, b1 + t * kTileElems, 64);
              _tile_dpbf16ps(0, 4, 6);
              _tile_dpbf16ps(1, 4, 7);
              _tile_dpbf16ps(2, 5, 6);
              _tile_dpbf16ps(3, 5, 7);
            }
            _tile_stored(0, cb, kBlock * 4);
            _tile_stored(1, cb + kTile, kBlock * 4);
            _tile_stored(2, cb + kTile * kBlock, kBlock * 4);
            _tile_stored(3, cb + kTile * kBlock + kTile, kBlock * 4);
            const std::int64_t i = ic + si * kTile, j = jc + sj * kTile;
            write_block(cb, C + i * ldc + j, ldc, std::min(kBlock, M - i), std::min(kBlock, N - j), pc == 0, beta);
          }
      }
    }
  }
}

}  // namespace amx_detail
#endif  // MOODNET_HAVE_AMX_CODE

// Whether gemm_bf16_amx can run here (CPU features and the OS's permission, found out once).
inline bool amx_bf16_available() {
#if defined(MOODNET_HAVE_AMX_CODE)
  static const bool available = amx_detail::detect();
  return available;
#else
  return false;
#endif
}

inline void gemm_bf16_amx(Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                          std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
  MOODNET_CHECK(amx_bf16_available(), "gemm_bf16_amx: this CPU or kernel offers no AMX-BF16 (Intel Xeon Sapphire "
                "Rapids or later, Linux 5.16+)");
  MOODNET_CHECK(M >= 0 && N >= 0 && K >= 0, "gemm_bf16_amx: sizes must be >= 0, got M=", M, " N=", N, " K=", K);
  MOODNET_CHECK(lda >= std::max<std::int64_t>(1, ta == Trans::no ? K : M) &&
                    ldb >= std::max<std::int64_t>(1, tb == Trans::no ? N : K) && ldc >= std::max<std::int64_t>(1, N),
                "gemm_bf16_amx: leading dimensions too small (lda=", lda, " ldb=", ldb, " ldc=", ldc, " for M=", M,
                " N=", N, " K=", K, ")");
  if (M == 0 || N == 0) return;
  if (K == 0) {  // no products: C = beta * C
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
#if defined(MOODNET_HAVE_AMX_CODE)
  amx_detail::gemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
#endif
}

}  // namespace moodnet::kernels
