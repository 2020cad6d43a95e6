#pragma once
// Single-threaded GEMM on Intel AMX for row-major float matrices: float in, float out, the products
// of bfloat16-rounded operands summed in float. The contract is sgemm's (kernels/sgemm.hpp), so that
// any of the three products of im2col convolution can run on it:
//
//   C[M, N] = op(A)[M, K] * op(B)[K, N] + beta * C       (beta == 0: C is not read, so may hold NaN)
//   op(A) = A [M, K] (lda >= K) or A^T with A stored [K, M] (lda >= M); op(B) likewise, B [K, N] or [N, K].
//
// Arithmetic and error model: each element of op(A) and op(B) is rounded to bf16 as it is packed
// (round to nearest, ties to even; NaN stays NaN; like every AVX512-BF16 conversion, float denormals
// become zero). bf16 keeps 8 significant bits, so each operand is off by at most 2^-9 relatively and
// each product a*b by about 2^-8; the products of bf16 values are exact in float, and TDPBF16PS sums
// them in float. So C[i, j] is within about 2^-8 * sum_k |a_ik b_kj| of the exact product (plus the
// float summation error, ~K * 2^-24 of the same sum), where sgemm's bound is the float part alone.
//
// The tile unit, TDPBF16PS: C tile [16, 16] float += A tile [16, 32] bf16 * B tile [32, 16] bf16:
//
//   A tile, 16 rows x 64 B:                    B tile ("VNNI": k in pairs), 16 rows x 64 B:
//     row r: a(r,0) a(r,1) ... a(r,31)           row q: b(2q,0) b(2q+1,0) | b(2q,1) b(2q+1,1) | ...
//                                                       ... | b(2q,15) b(2q+1,15)
//                                                (row q holds k = 2q, 2q+1 of all 16 columns)
//
//   Register block: 2 x 2 C tiles (a 32 x 32 block of C) in tmm0-3, two A tiles in tmm4-5, two B
//   tiles in tmm6-7; each 32-deep k step is 4 tile loads and 4 TDPBF16PS.
//
// Blocking (loop order jc -> pc -> ic -> si -> sj, as sgemm's):
//
//   jc loop:  N in nc <= 512 columns ---+
//   pc loop:  K in kc <= 512 rows       +-> pack op(B)[kc, nc] as B tiles (<= 512 KiB bf16, in L2)
//   ic loop:  M in mc <= 128 rows  --------> pack op(A)[mc, kc] as A tiles (<= 128 KiB)
//   si loop:  one pair of A strips (32 rows x kc, 32 KiB: stays in L1) ...
//   sj loop:  ... against every pair of B strips of the block (streamed from L2): 2 x 2 tile block
//
//   packed block: strip s (16 rows of op(A), or 16 columns of op(B)), k step t (32 k) is the tile at
//   ((s * steps) + t) * 1 KiB, so one strip's tiles follow each other in k:
//
//     strip 0: [t=0][t=1]...[t=steps-1]   strip 1: [t=0][t=1]...   (zero past M, N and K: the tile
//                                                                   loop has no edge cases)
//
//   nc and kc split N and K into equal parts (rounded up to 32: N = 576 is two blocks of 288, not 512
//   and 64), so no block is left with a few k steps; they depend on the shapes only. After each kc
//   block the four C tiles go to C: stored straight into C for a whole 32 x 32 block on the first K
//   block with beta 0; otherwise through a 32 x 32 float buffer, added with AVX-512 (masked at the M and
//   N edges; the first K block applies beta). At the edges, a block of one tile row or column issues
//   only the TDPBF16PS it needs.
//
//   Packing converts with AVX512-BF16 and reorders with AVX-512 permutes, each case reading its source
//   along its contiguous direction: at AMX's rate (16 x 16 x 32 multiply-adds per TDPBF16PS), packing
//   and C's float traffic, not the tile products, take most of the time at conv2d's shapes.
//
// Threads: single-threaded with a blocking fixed by the shapes, so results depend on the shapes only
// (callers parallelise over samples). Each call configures the tiles of its thread (LDTILECFG) and
// releases them at the end. Scratch: thread_local 64-byte-aligned buffers of fixed size, allocated on a
// thread's first call: no allocation in steady state.
//
// Requirements, checked once by amx_bf16_available(): x86-64 with AVX512F/BW/BF16, AMX-TILE and
// AMX-BF16, an OS that saves the AVX-512 and tile state (XCR0), and Linux's permission for the tile
// data (arch_prctl(ARCH_REQ_XCOMP_PERM), asked once per process). The instructions are compiled with
// function target attributes, so the header builds without -march=native and the code runs only where
// the CPU has it; elsewhere gemm_bf16_amx throws a one-line moodnet::Error (never SIGILL).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <new>

#include "moodnet/core/error.hpp"
#include "moodnet/kernels/sgemm.hpp"

// GCC 11+ has the AMX intrinsics and takes them under target attributes; clang and others get the
// portable stub (amx_bf16_available() false).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__linux__) && \
    __has_include(<amxtileintrin.h>) && __has_include(<avx512bf16intrin.h>)
#define MOODNET_AMX_BF16_CODE 1
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MOODNET_AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512bf16,amx-tile,amx-bf16")))
#endif

namespace moodnet::kernels {

#if defined(MOODNET_AMX_BF16_CODE)
namespace amx_detail {

inline constexpr std::int64_t kTile = 16;        // rows of a tile; float columns of a C tile
inline constexpr std::int64_t kStep = 32;        // k per tile step (bf16 per A tile row)
inline constexpr std::int64_t kBlock = 32;       // 2 x 2 C tiles
inline constexpr std::int64_t kTileElems = 512;  // bf16 per A or B tile (1 KiB)
inline constexpr std::int64_t kNcMax = 512;      // columns of one packed B block (multiple of 32)
inline constexpr std::int64_t kKcMax = 512;      // depth of one packed block (multiple of 32)
inline constexpr std::int64_t kMc = 128;         // rows of one packed A block (multiple of 32)

// ---- detection -------------------------------------------------------------------------------------

inline bool cpu_and_os_have_amx_bf16() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  const bool avx512f = b & (1u << 16), avx512bw = b & (1u << 30);
  const bool amx_bf16 = d & (1u << 22), amx_tile = d & (1u << 24);
  if (!(avx512f && avx512bw && amx_bf16 && amx_tile)) return false;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) return false;  // AVX512_BF16
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return false;         // OSXSAVE: xgetbv works
  unsigned lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  // XCR0: SSE, AVX, opmask + ZMM0-15 upper + ZMM16-31, XTILECFG, XTILEDATA all enabled by the OS.
  const unsigned need = (1u << 1) | (1u << 2) | (7u << 5) | (1u << 17) | (1u << 18);
  if ((lo & need) != need) return false;
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

// ---- tiles -----------------------------------------------------------------------------------------

struct alignas(64) TileConfig {  // the 64-byte LDTILECFG operand, palette 1
  std::uint8_t palette = 1, start_row = 0, reserved[14] = {};
  std::uint16_t bytes_per_row[16] = {};
  std::uint8_t rows[16] = {};
};
static_assert(sizeof(TileConfig) == 64);

// All eight tiles 16 rows x 64 bytes. (Own asm rather than _tile_loadconfig, whose GCC 12 operand
// tells the compiler that only the first 8 bytes of the configuration are read.)
MOODNET_AMX_TARGET inline void configure_tiles() {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.bytes_per_row[t] = 64, cfg.rows[t] = 16;
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

// GCC's tile load is an asm that does not declare the memory it reads: the packed buffers' stores
// must not be moved after it. A compiler barrier between packing and the tile loop.
inline void compiler_barrier() { __asm__ volatile("" : : : "memory"); }

// ---- scratch ---------------------------------------------------------------------------------------

struct AlignedDelete {
  void operator()(void* p) const { ::operator delete[](p, std::align_val_t(64)); }
};
template <class T>
using Buffer = std::unique_ptr<T[], AlignedDelete>;

template <class T>
inline Buffer<T> aligned_buffer(std::int64_t n) {
  return Buffer<T>(static_cast<T*>(::operator new[](sizeof(T) * n, std::align_val_t(64))));
}
inline std::uint16_t* scratch_a() {
  thread_local Buffer<std::uint16_t> buf = aligned_buffer<std::uint16_t>(kMc * kKcMax);
  return buf.get();
}
inline std::uint16_t* scratch_b() {
  thread_local Buffer<std::uint16_t> buf = aligned_buffer<std::uint16_t>(kKcMax * kNcMax);
  return buf.get();
}
inline float* scratch_c() {
  thread_local Buffer<float> buf = aligned_buffer<float>(kBlock * kBlock);
  return buf.get();
}

// ---- packing ---------------------------------------------------------------------------------------

// The first n (clamped to 0..16) of 16 lanes.
inline __mmask16 lanes(std::int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// 32 contiguous floats p[0..n) (zero past n) as 16 bf16 pairs: 32-bit lane q = (p[2q], p[2q+1]).
MOODNET_AMX_TARGET inline __m512i pairs_along(const float* p, std::int64_t n) {
  const __m512 lo = _mm512_maskz_loadu_ps(lanes(n), p);
  const __m512 hi = n > 16 ? _mm512_maskz_loadu_ps(lanes(n - 16), p + 16) : _mm512_setzero_ps();
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);  // bf16 lanes 0-15 from lo, 16-31 from hi
}

// Two rows of 16 floats p0[0..n), p1[0..n) (zero past n) interleaved: 32-bit lane j = (p0[j], p1[j]).
// p1 == nullptr: a zero row.
MOODNET_AMX_TARGET inline __m512i pairs_across(const float* p0, const float* p1, std::int64_t n) {
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,  //
                                              23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512 r0 = _mm512_maskz_loadu_ps(lanes(n), p0);
  const __m512 r1 = p1 ? _mm512_maskz_loadu_ps(lanes(n), p1) : _mm512_setzero_ps();
  return _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(r1, r0));
}

// In-register transpose of 16 x 16 32-bit elements: v[i] holds row i on entry, column i on exit.
// (unpack 32 -> 2x2 blocks, unpack 64 -> 4x4 blocks per 128-bit lane, two 128-bit shuffles.) The
// all-ones zero-masked forms are the same instructions; GCC 12 warns that the unmasked intrinsics
// read an uninitialised pass-through vector (-Wuninitialized, as kernels/avx512_common.hpp notes).
MOODNET_AMX_TARGET inline void transpose16x16_epi32(__m512i v[16]) {
  const __mmask16 all16 = 0xFFFF;
  const __mmask8 all8 = 0xFF;
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_maskz_unpacklo_epi32(all16, v[i], v[i + 1]);
    t[i + 1] = _mm512_maskz_unpackhi_epi32(all16, v[i], v[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // v[i + c]: rows i..i+3 of column 4L + c in 128-bit lane L
    v[i] = _mm512_maskz_unpacklo_epi64(all8, t[i], t[i + 2]);
    v[i + 1] = _mm512_maskz_unpackhi_epi64(all8, t[i], t[i + 2]);
    v[i + 2] = _mm512_maskz_unpacklo_epi64(all8, t[i + 1], t[i + 3]);
    v[i + 3] = _mm512_maskz_unpackhi_epi64(all8, t[i + 1], t[i + 3]);
  }
  for (int c = 0; c < 4; ++c) {  // gather the four 128-bit pieces of each column
    const __m512i x = _mm512_maskz_shuffle_i32x4(all16, v[c], v[4 + c], 0x44);
    const __m512i y = _mm512_maskz_shuffle_i32x4(all16, v[8 + c], v[12 + c], 0x44);
    const __m512i x2 = _mm512_maskz_shuffle_i32x4(all16, v[c], v[4 + c], 0xEE);
    const __m512i y2 = _mm512_maskz_shuffle_i32x4(all16, v[8 + c], v[12 + c], 0xEE);
    t[c] = _mm512_maskz_shuffle_i32x4(all16, x, y, 0x88);
    t[4 + c] = _mm512_maskz_shuffle_i32x4(all16, x, y, 0xDD);
    t[8 + c] = _mm512_maskz_shuffle_i32x4(all16, x2, y2, 0x88);
    t[12 + c] = _mm512_maskz_shuffle_i32x4(all16, x2, y2, 0xDD);
  }
  for (int i = 0; i < 16; ++i) v[i] = t[i];
}

// One 1 KiB tile (16 rows of 16 bf16 pairs) from a float source block. Two source orders:
//
//   along:  16 source rows (r = row of op(A) / column of op(B)), each 32 contiguous k
//           -> v[r] lane q = k pair q of row r                     (tile row = source row)
//   across: 32 source rows, one per k, each 16 contiguous r        (tile row = k pair)
//           -> v[q] lane r = (k = 2q, 2q+1) of r
//
// A tiles want row r (across -> transpose), B tiles row q (along -> transpose). `rows` and `cols` are
// the valid part of the source block (source rows, contiguous elements); the rest is zero.
MOODNET_AMX_TARGET inline void pack_tile(const float* src, std::int64_t ld, std::int64_t rows, std::int64_t cols,
                                         bool across, bool transpose, std::uint16_t* tile) {
  __m512i v[16];
#pragma GCC unroll 16
  for (std::int64_t i = 0; i < 16; ++i) {
    if (!across)
      v[i] = i < rows ? pairs_along(src + i * ld, cols) : _mm512_setzero_si512();
    else
      v[i] = 2 * i < rows ? pairs_across(src + 2 * i * ld, 2 * i + 1 < rows ? src + (2 * i + 1) * ld : nullptr, cols)
                          : _mm512_setzero_si512();
  }
  if (transpose) transpose16x16_epi32(v);
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) _mm512_store_si512(tile + i * 32, v[i]);
}

// Tile (s, t) of pack_block (below): strip s, k step t of the block at `src`.
MOODNET_AMX_TARGET inline void pack_block_tile(const float* src, std::int64_t ld, bool k_contiguous, bool transpose,
                                               std::int64_t width, std::int64_t depth, std::int64_t s,
                                               std::int64_t t, std::uint16_t* tile) {
  const std::int64_t r = s * kTile, k = t * kStep;
  if (k_contiguous)
    pack_tile(src + r * ld + k, ld, width - r, depth - k, false, transpose, tile);
  else
    pack_tile(src + k * ld + r, ld, depth - k, width - r, true, transpose, tile);
}

// Packs `strips` strips of 16 (rows of op(A) or columns of op(B); valid: `width`) by `steps` steps of
// 32 k (valid: `depth`) into tiles dst + (s * steps + t) * 512. `src` is element (0, 0) of the block;
// `k_contiguous`: the source runs along k (op(A) = A, op(B) = B^T), else along the strip (A^T, B).
// `vnni`: B tiles (k pairs as rows) rather than A tiles (rows of op(A) as rows). The inner loop walks
// the source's contiguous direction.
MOODNET_AMX_TARGET inline void pack_block(const float* src, std::int64_t ld, bool k_contiguous, bool vnni,
                                          std::int64_t width, std::int64_t depth, std::int64_t strips,
                                          std::int64_t steps, std::uint16_t* dst) {
  // An A tile is `along` k-contiguous rows as they are, or `across` strip-contiguous rows transposed;
  // a B tile is the transpose of the A tile of the same data.
  const bool transpose = k_contiguous == vnni;
  if (k_contiguous) {
    for (std::int64_t s = 0; s < strips; ++s)
      for (std::int64_t t = 0; t < steps; ++t)
        pack_block_tile(src, ld, true, transpose, width, depth, s, t, dst + (s * steps + t) * kTileElems);
  } else {
    for (std::int64_t t = 0; t < steps; ++t)
      for (std::int64_t s = 0; s < strips; ++s)
        pack_block_tile(src, ld, false, transpose, width, depth, s, t, dst + (s * steps + t) * kTileElems);
  }
}

// ---- tile products and C ---------------------------------------------------------------------------

// C[rows, cols] (rows, cols <= 32) from the 32 x 32 float block t (row stride 32): on the first K block
// C = t (beta 0) or beta * C + t; afterwards C += t.
MOODNET_AMX_TARGET inline void add_block(const float* t, float* C, std::int64_t ldc, std::int64_t rows,
                                         std::int64_t cols, bool first_k, float beta) {
  const __m512 vb = _mm512_set1_ps(beta);
  const __mmask16 m[2] = {lanes(cols), lanes(cols - 16)};
  for (std::int64_t r = 0; r < rows; ++r)
    for (int h = 0; h < 2 && m[h]; ++h) {
      float* c = C + r * ldc + 16 * h;
      const __m512 v = _mm512_load_ps(t + r * kBlock + 16 * h);
      if (first_k && beta == 0.0f)
        _mm512_mask_storeu_ps(c, m[h], v);
      else if (first_k && beta != 1.0f)
        _mm512_mask_storeu_ps(c, m[h], _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m[h], c), v));
      else
        _mm512_mask_storeu_ps(c, m[h], _mm512_add_ps(_mm512_maskz_loadu_ps(m[h], c), v));
    }
}

// One block of C (MT x NT tiles, MT, NT in {1, 2}): the sum over `steps` of A strips a0, a1 times B
// strips b0, b1 (tiles 1 KiB apart), then into C[rows, cols] (see add_block). Tiles: C 0 1 / 2 3,
// A 4 5, B 6 7.
template <int MT, int NT>
MOODNET_AMX_TARGET inline void tile_block(const std::uint16_t* a0, const std::uint16_t* b0, std::int64_t steps,
                                          float* C, std::int64_t ldc, std::int64_t rows, std::int64_t cols,
                                          bool first_k, float beta, float* buf) {
  const std::uint16_t* a1 = a0 + steps * kTileElems;
  const std::uint16_t* b1 = b0 + steps * kTileElems;
  _tile_zero(0);
  if (NT == 2) _tile_zero(1);
  if (MT == 2) _tile_zero(2);
  if (MT == 2 && NT == 2) _tile_zero(3);
  for (std::int64_t t = 0; t < steps; ++t) {
    _tile_loadd(4, a0 + t * kTileElems, 64);
    _tile_loadd(6, b0 + t * kTileElems, 64);
    _tile_dpbf16ps(0, 4, 6);
    if (NT == 2) {
      _tile_loadd(7, b1 + t * kTileElems, 64);
      _tile_dpbf16ps(1, 4, 7);
    }
    if (MT == 2) {
      _tile_loadd(5, a1 + t * kTileElems, 64);
      _tile_dpbf16ps(2, 5, 6);
      if (NT == 2) _tile_dpbf16ps(3, 5, 7);
    }
  }
  if (first_k && beta == 0.0f && rows == kTile * MT && cols == kTile * NT) {  // whole block, C = sum
    const std::int64_t stride = ldc * std::int64_t(sizeof(float));
    _tile_stored(0, C, stride);
    if (NT == 2) _tile_stored(1, C + kTile, stride);
    if (MT == 2) _tile_stored(2, C + kTile * ldc, stride);
    if (MT == 2 && NT == 2) _tile_stored(3, C + kTile * ldc + kTile, stride);
    return;
  }
  constexpr std::int64_t stride = kBlock * sizeof(float);
  _tile_stored(0, buf, stride);
  if (NT == 2) _tile_stored(1, buf + kTile, stride);
  if (MT == 2) _tile_stored(2, buf + kTile * kBlock, stride);
  if (MT == 2 && NT == 2) _tile_stored(3, buf + kTile * kBlock + kTile, stride);
  add_block(buf, C, ldc, rows, cols, first_k, beta);
}

// ceil(n / ceil(n / max)) rounded up to 32: n in equal parts of at most `max` (a multiple of 32).
inline std::int64_t even_split(std::int64_t n, std::int64_t max) {
  const std::int64_t parts = (n + max - 1) / max, part = (n + parts - 1) / parts;
  return (part + kBlock - 1) / kBlock * kBlock;
}

MOODNET_AMX_TARGET inline void gemm(Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K,
                                    const float* A, std::int64_t lda, const float* B, std::int64_t ldb, float beta,
                                    float* C, std::int64_t ldc) {
  std::uint16_t* const ap = scratch_a();
  std::uint16_t* const bp = scratch_b();
  float* const cbuf = scratch_c();
  const std::int64_t nc_max = even_split(N, kNcMax), kc_max = even_split(K, kKcMax);
  configure_tiles();
  for (std::int64_t jc = 0; jc < N; jc += nc_max) {
    const std::int64_t nc = std::min(nc_max, N - jc), nstrips = (nc + kTile - 1) / kTile;
    for (std::int64_t pc = 0; pc < K; pc += kc_max) {
      const std::int64_t kc = std::min(kc_max, K - pc), steps = (kc + kStep - 1) / kStep;
      const bool first_k = pc == 0;
      // op(B)[pc:pc+kc, jc:jc+nc]: B [K, N] runs along the columns, B^T along k.
      if (tb == Trans::no)
        pack_block(B + pc * ldb + jc, ldb, false, true, nc, kc, nstrips, steps, bp);
      else
        pack_block(B + jc * ldb + pc, ldb, true, true, nc, kc, nstrips, steps, bp);
      for (std::int64_t ic = 0; ic < M; ic += kMc) {
        const std::int64_t mc = std::min(kMc, M - ic), mstrips = (mc + kTile - 1) / kTile;
        // op(A)[ic:ic+mc, pc:pc+kc]: A [M, K] runs along k, A^T along the rows of op(A).
        if (ta == Trans::no)
          pack_block(A + ic * lda + pc, lda, true, false, mc, kc, mstrips, steps, ap);
        else
          pack_block(A + pc * lda + ic, lda, false, false, mc, kc, mstrips, steps, ap);
        compiler_barrier();
        for (std::int64_t si = 0; si < mstrips; si += 2) {
          const bool two_rows = si + 1 < mstrips;
          const std::int64_t i = ic + si * kTile, rows = std::min(kBlock, M - i);
          for (std::int64_t sj = 0; sj < nstrips; sj += 2) {
            const bool two_cols = sj + 1 < nstrips;
            const std::int64_t j = jc + sj * kTile, cols = std::min(kBlock, N - j);
            const std::uint16_t* a = ap + si * steps * kTileElems;
            const std::uint16_t* b = bp + sj * steps * kTileElems;
            float* c = C + i * ldc + j;
            if (two_rows && two_cols)
              tile_block<2, 2>(a, b, steps, c, ldc, rows, cols, first_k, beta, cbuf);
            else if (two_rows)
              tile_block<2, 1>(a, b, steps, c, ldc, rows, cols, first_k, beta, cbuf);
            else if (two_cols)
              tile_block<1, 2>(a, b, steps, c, ldc, rows, cols, first_k, beta, cbuf);
            else
              tile_block<1, 1>(a, b, steps, c, ldc, rows, cols, first_k, beta, cbuf);
          }
        }
        compiler_barrier();
      }
    }
  }
  _tile_release();
}

}  // namespace amx_detail
#endif  // MOODNET_AMX_BF16_CODE

// Whether gemm_bf16_amx can run here: CPU features, the OS's state support and its permission for
// the tile data, found out once per process (thread-safe).
inline bool amx_bf16_available() {
#if defined(MOODNET_AMX_BF16_CODE)
  static const bool available = amx_detail::cpu_and_os_have_amx_bf16();
  return available;
#else
  return false;
#endif
}

// C[M, N] = op(A) op(B) + beta * C with bf16 products and float sums, single-threaded; see the top of
// this file. beta == 0 overwrites C without reading it. Throws moodnet::Error where AMX-BF16 is
// missing, for negative sizes and for leading dimensions smaller than the rows they hold.
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
#if defined(MOODNET_AMX_BF16_CODE)
  amx_detail::gemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
#endif
}

}  // namespace moodnet::kernels
