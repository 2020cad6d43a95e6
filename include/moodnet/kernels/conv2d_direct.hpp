#pragma once
// Direct 2-D convolution on shifted planes, forward and both backward passes: the fast path for
// grouped convolutions with few channels per group (ResNeXt: 4 to 32), where im2col + one GEMM per
// group (kernels/conv2d.hpp) feeds an 8x48 register tile with 4 rows and a depth of 36.
//
// Idea: copy the input of one group once into zero-padded planes laid out so that every kernel tap
// (c, r, s) is ONE constant offset off_j from the output position q. A tile of outputs is then a
// small GEMM whose B matrix is never materialised (no im2col, R*S times smaller scratch):
//
//   out[k][q] = sum_{j = (c, r, s)} w[k][j] * in[q + off_j]        j in [0, Cg*R*S)
//
// Plane layout (one channel, one phase, m samples side by side; Z zero rows, Zc zero columns):
//
//   sample 0  | Z zero rows                 |   element (y, x) of sample i at
//             | data row 0 | Zc zeros       |     lead + i*plane + (Z + y)*L + x
//             | data row 1 | Zc zeros       |   an output grid point (i, oy, ox) at
//             | ...                         |     q = i*plane + oy*L + ox
//   sample 1  | Z zero rows ...             |   a read at (oy + du, ox + dv), |du| <= Z, |dv| <= Zc:
//                                               in[q + (Z + du)*L + dv]   (lead = Zc elements)
//
// The zeros after each row are also the left padding of the next row (a read at x = -1 wraps to
// the previous row's tail), and a sample's top zero rows are also the bottom padding of the sample
// before it. So a 3x3, pad 1 layer needs one zero row and column per sample, not two: the grid of
// a 6x6 output is 7x7 (36 of 49 points used), of a 48x48 one 49x49. Grid points outside the output
// are computed and thrown away.
//
// Strides: the input is split into sh*sw phases, phase (a, b) holding x[sh*y + a][sw*x + b]; tap
// (r, s) of output (oy, ox) reads x[sh*oy - ph + r][...] = phase (mod(r - ph, sh), ...) at
// (oy + floor((r - ph)/sh), ...): a shift again. Only the phases some tap reads are stored (a 1x1
// stride-2 projection stores one quarter of the input).
//
// Forward (per block of m samples and group g, Cg = C/G input and Kg = K/G output channels):
//   pack x[n0.., g*Cg..] -> planes;  out[Kg][grid] = sum_j Wg[k][j] in[q + off_j];  crop into y.
// Backward input: dx[ih][iw] = sum_{k, r, s: sh*oh - ph + r = ih} w[k][c][r][s] dy[k][oh][ow].
//   Split dx into phases (a, b) (ih = sh*i + a): the taps with r = a + ph (mod sh) read
//   dy[k][i - du] with du = (r - ph - a)/sh, again shifts, now of planes of dy. Per dx phase:
//   out[Cg][grid] = sum_{j = (k, taps of the phase)} w[k][c][r][s] dyplanes[q + off_j]; scatter into dx.
//   (Stride 1: one phase, the forward pass with the kernel rotated by 180 degrees.)
// Backward weight: dWg[k][j] = sum_n sum_q dygrid[k][q] * in[q + off_j], with dy copied onto the
//   forward's output grid (zeros at the thrown-away points); one dot product of length m*plane per
//   (k, j), accumulated in vectors over a chunk's sample blocks and summed across lanes once at the
//   end, in a fixed order.
//
// Register tiles (AVX-512 float; the portable twin below has the same structure on arrays of 16
// lanes, which the compiler vectorises, and serves double and non-AVX-512 builds):
//   conv   KT = 4 or 8 output rows x V = 6 or 3 vectors of 16 grid points (24 accumulators);
//          per j: V loads of the input, KT broadcasts of the packed weights, KT*V FMAs
//   wgrad  4 rows of dy x 6 taps j (24 accumulators); per 16 grid points: 4 + 6 loads, 24 FMAs
//
// Threads: forward and backward-input items are (sample block, group); backward-weight items are
// (fixed batch chunk, group) (conv2d_common.hpp). Every item runs on one thread in a fixed order, so
// every result is bit-identical for any thread count, for N = 1 too (the groups are the items).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/channel_affine.hpp"
#include "moodnet/kernels/avx512_common.hpp"
#include "moodnet/kernels/conv2d_common.hpp"

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace moodnet::kernels {

// At most this many stored phases (stride_h * stride_w): larger strides use the GEMM path.
inline constexpr std::int64_t kDirectMaxPhases = 16;

// Whether the tiles for T are the AVX-512 ones (float in an AVX-512 build) or the portable twin.
template <class T>
inline constexpr bool kHaveDirectTiles =
#if defined(__AVX512F__)
    std::is_same_v<T, float>;
#else
    false;
#endif

namespace direct_detail {

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }
inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
inline std::int64_t round_up(std::int64_t a, std::int64_t b) { return ceil_div(a, b) * b; }

inline constexpr std::int64_t kLanes = 16;  // grid points per vector (float zmm; arrays in the portable twin)

// Geometry of the input planes of one pass and of its output grid (see the header comment).
struct Planes {
  std::int64_t sh = 1, sw = 1;   // the planes hold phase (a, b) = src[sh*y + a][sw*x + b]
  std::int64_t src_h = 0, src_w = 0;
  std::int64_t grid_h = 0, grid_w = 0;  // output grid points with a meaning per sample
  std::int64_t Z = 0, Zc = 0;           // zero rows above each sample, zero columns after each row
  std::int64_t L = 0, rows = 0;         // row length and rows per sample
  std::int64_t nphase = 0;              // phases stored per channel
  std::int64_t phase_of[kDirectMaxPhases] = {};  // stored index of phase a*sw + b, or -1

  std::int64_t plane() const { return rows * L; }
  std::int64_t lead() const { return Zc; }
  // Output grid points computed for m samples (the last sample's grid ends at its last used point),
  // rounded up to whole tiles of `tile` points.
  std::int64_t grid(std::int64_t m, std::int64_t tile) const {
    return round_up((m - 1) * plane() + (grid_h - 1) * L + grid_w, tile);
  }
  // Elements of the plane buffer for `channels` channels of m samples, with room for the reads of
  // the last tile past the end (tile overrun + the largest shift).
  std::int64_t buffer(std::int64_t channels, std::int64_t m, std::int64_t tile) const {
    return lead() + channels * nphase * m * plane() + tile + (2 * Z + 1) * L + 2 * Zc + kLanes;
  }
  // Offset of a read of channel c, stored phase p, shifted by (du, dv), for m samples.
  std::int64_t offset(std::int64_t c, std::int64_t p, std::int64_t du, std::int64_t dv, std::int64_t m) const {
    return lead() + (c * nphase + p) * m * plane() + (Z + du) * L + dv;
  }
};

// Finishes a geometry from its shifts: the data of a phase is ceil(src/stride) rows and columns.
inline Planes make_planes(std::int64_t sh, std::int64_t sw, std::int64_t src_h, std::int64_t src_w,
                          std::int64_t grid_h, std::int64_t grid_w, std::int64_t Z, std::int64_t Zc) {
  Planes g;
  g.sh = sh, g.sw = sw, g.src_h = src_h, g.src_w = src_w, g.grid_h = grid_h, g.grid_w = grid_w, g.Z = Z, g.Zc = Zc;
  g.L = std::max(ceil_div(src_w, sw), grid_w) + Zc;
  g.rows = std::max(ceil_div(src_h, sh), grid_h) + Z;
  for (auto& v : g.phase_of) v = -1;
  return g;
}

// Forward (and backward-weight) geometry: planes of x, grid = the output.
// Tap (r, s) reads phase (mod(r - ph, sh), mod(s - pw, sw)) shifted by (floor((r-ph)/sh), floor((s-pw)/sw)).
inline Planes forward_planes(const Conv2dParams& p) {
  std::int64_t Z = 0, Zc = 0;
  for (std::int64_t r = 0; r < p.R; ++r) Z = std::max(Z, std::abs(floor_div(r - p.pad_h, p.stride_h)));
  for (std::int64_t s = 0; s < p.S; ++s) Zc = std::max(Zc, std::abs(floor_div(s - p.pad_w, p.stride_w)));
  Planes g = make_planes(p.stride_h, p.stride_w, p.H, p.W, p.out_h(), p.out_w(), Z, Zc);
  for (std::int64_t r = 0; r < p.R; ++r)
    for (std::int64_t s = 0; s < p.S; ++s) {
      const std::int64_t ph = floor_mod(r - p.pad_h, p.stride_h) * p.stride_w + floor_mod(s - p.pad_w, p.stride_w);
      if (g.phase_of[ph] < 0) g.phase_of[ph] = g.nphase++;
    }
  return g;
}

// The forward tap (r, s): stored phase and shift (du, dv) of its read in the forward planes.
inline void forward_tap(const Conv2dParams& p, const Planes& g, std::int64_t r, std::int64_t s, std::int64_t& phase,
                        std::int64_t& du, std::int64_t& dv) {
  phase = g.phase_of[floor_mod(r - p.pad_h, p.stride_h) * p.stride_w + floor_mod(s - p.pad_w, p.stride_w)];
  du = floor_div(r - p.pad_h, p.stride_h);
  dv = floor_div(s - p.pad_w, p.stride_w);
}

// off[c*R*S + r*S + s] = offset of tap (c, r, s) in the forward planes of m samples.
inline void forward_offsets(const Conv2dParams& p, const Planes& g, std::int64_t Cg, std::int64_t m,
                            std::int64_t* off) {
  for (std::int64_t c = 0; c < Cg; ++c)
    for (std::int64_t r = 0; r < p.R; ++r)
      for (std::int64_t s = 0; s < p.S; ++s) {
        std::int64_t ph, du, dv;
        forward_tap(p, g, r, s, ph, du, dv);
        off[(c * p.R + r) * p.S + s] = g.offset(c, ph, du, dv, m);
      }
}

// Backward-input taps grouped by dx phase (a, b) (ih = sh*i + a): tap (r, s) belongs to the phase with
// r = a + ph (mod sh), s = b + pw (mod sw), and there reads dy shifted by -(du, dv),
// du = (r - ph - a)/sh, dv = (s - pw - b)/sw. Every tap belongs to exactly one phase; phases
// [start[ph], start[ph+1]) of the table, in (r, s) order.
struct PhaseTaps {
  std::int64_t start[kDirectMaxPhases + 1] = {};
  std::int64_t count(std::int64_t ph) const { return start[ph + 1] - start[ph]; }
};

// Fills rs/du/dv (R*S entries each) and returns the phase ranges.
inline PhaseTaps backward_input_taps(const Conv2dParams& p, std::int64_t* rs, std::int64_t* du, std::int64_t* dv) {
  PhaseTaps t;
  std::int64_t n = 0;
  for (std::int64_t ph = 0; ph < p.stride_h * p.stride_w; ++ph) {
    const std::int64_t a = ph / p.stride_w, b = ph % p.stride_w;
    t.start[ph] = n;
    for (std::int64_t r = 0; r < p.R; ++r)
      for (std::int64_t s = 0; s < p.S; ++s)
        if (floor_mod(r - p.pad_h - a, p.stride_h) == 0 && floor_mod(s - p.pad_w - b, p.stride_w) == 0) {
          rs[n] = r * p.S + s;
          du[n] = (r - p.pad_h - a) / p.stride_h;
          dv[n] = (s - p.pad_w - b) / p.stride_w;
          ++n;
        }
  }
  t.start[p.stride_h * p.stride_w] = n;
  return t;
}

// Backward-input geometry: one plane of dy per channel, grid = one phase of dx (ceil(H/sh) x ceil(W/sw)),
// shifts from the tap table.
inline Planes backward_input_planes(const Conv2dParams& p, const std::int64_t* du, const std::int64_t* dv) {
  std::int64_t Z = 0, Zc = 0;
  for (std::int64_t i = 0; i < p.R * p.S; ++i) Z = std::max(Z, std::abs(du[i])), Zc = std::max(Zc, std::abs(dv[i]));
  Planes g = make_planes(1, 1, p.out_h(), p.out_w(), ceil_div(p.H, p.stride_h), ceil_div(p.W, p.stride_w), Z, Zc);
  g.phase_of[0] = 0;
  g.nphase = 1;
  return g;
}

// Software prefetch of the n elements kPrefetchBytes after row: the copies below stream activations
// that are larger than the L2 from memory, row by row, and the hardware prefetcher alone left the
// 48x48 layers' forward 1.3-1.8x slower (1 thread, batch 64; 1, 2, 4 and 8 KiB ahead measured, 4 best).
inline constexpr std::int64_t kPrefetchBytes = 4096;
template <class T>
inline void prefetch_ahead(const T* row, std::int64_t n) {
  const char* p = reinterpret_cast<const char*>(row) + kPrefetchBytes;
  for (std::int64_t b = 0; b < n * static_cast<std::int64_t>(sizeof(T)); b += 64) __builtin_prefetch(p + b);
}

// Row copies of a few to a few dozen elements (inline: a memmove call per 6..48-element row costs
// as much as the copy). copy_row: dst[x] = src[x]; copy_row_strided: dst[x] = src[x*stride], x < n.
template <class T>
inline void copy_row(const T* src, std::int64_t n, T* dst) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    for (std::int64_t x = 0; x < n; x += 16) {
      const __mmask16 k = avx512::tail_mask(n - x);
      _mm512_mask_storeu_ps(dst + x, k, _mm512_maskz_loadu_ps(k, src + x));
    }
    return;
  }
#endif
#pragma omp simd
  for (std::int64_t x = 0; x < n; ++x) dst[x] = src[x];
}

// (A plain loop: GCC vectorises it; two masked loads + a permute per 16 measured 2-3x slower.)
template <class T>
inline void copy_row_strided(const T* src, std::int64_t stride, std::int64_t n, T* dst) {
#pragma omp simd
  for (std::int64_t x = 0; x < n; ++x) dst[x] = src[x * stride];
}

// Splits a row of n source elements into its even (d0, (n+1)/2 elements) and odd (d1, n/2) columns:
// the two column phases of stride 2, from one read of the row (two permutes per 32 elements: 1.4x
// faster than two strided loops, which GCC compiles to scalar inserts).
template <class T>
inline void split_row_2(const T* src, std::int64_t n, T* d0, T* d1) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    std::int64_t x = 0;
    for (; 2 * x + 32 <= n; x += 16) {
      const __m512 lo = _mm512_loadu_ps(src + 2 * x), hi = _mm512_loadu_ps(src + 2 * x + 16);
      _mm512_storeu_ps(d0 + x, _mm512_permutex2var_ps(lo, even, hi));
      _mm512_storeu_ps(d1 + x, _mm512_permutex2var_ps(lo, odd, hi));
    }
    if (2 * x < n) {  // 1..31 source elements left
      const std::int64_t left = n - 2 * x;
      const __m512 lo = _mm512_maskz_loadu_ps(avx512::tail_mask(left), src + 2 * x);
      const __m512 hi = left > 16 ? _mm512_maskz_loadu_ps(avx512::tail_mask(left - 16), src + 2 * x + 16)
                                  : _mm512_setzero_ps();
      _mm512_mask_storeu_ps(d0 + x, avx512::tail_mask((left + 1) / 2), _mm512_permutex2var_ps(lo, even, hi));
      _mm512_mask_storeu_ps(d1 + x, avx512::tail_mask(left / 2), _mm512_permutex2var_ps(lo, odd, hi));
    }
    return;
  }
#endif
  copy_row_strided(src, 2, (n + 1) / 2, d0);
  copy_row_strided(src + 1, 2, n / 2, d1);
}

// The inverse of split_row_2: dst[2x] = d0[x], dst[2x+1] = d1[x], n elements (writing a row of dx
// once, in order, instead of every other element twice: 1.7x faster stride-2 backward-input at 48x48).
template <class T>
inline void merge_row_2(const T* d0, const T* d1, std::int64_t n, T* dst) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    std::int64_t x = 0;
    for (; 2 * x + 32 <= n; x += 16) {
      const __m512 e = _mm512_loadu_ps(d0 + x), o = _mm512_loadu_ps(d1 + x);
      _mm512_storeu_ps(dst + 2 * x, _mm512_permutex2var_ps(e, lo_idx, o));
      _mm512_storeu_ps(dst + 2 * x + 16, _mm512_permutex2var_ps(e, hi_idx, o));
    }
    if (2 * x < n) {  // 1..31 elements left
      const std::int64_t left = n - 2 * x;
      const __m512 e = _mm512_maskz_loadu_ps(avx512::tail_mask((left + 1) / 2), d0 + x);
      const __m512 o = _mm512_maskz_loadu_ps(avx512::tail_mask(left / 2), d1 + x);
      _mm512_mask_storeu_ps(dst + 2 * x, avx512::tail_mask(left), _mm512_permutex2var_ps(e, lo_idx, o));
      if (left > 16)
        _mm512_mask_storeu_ps(dst + 2 * x + 16, avx512::tail_mask(left - 16), _mm512_permutex2var_ps(e, hi_idx, o));
    }
    return;
  }
#endif
  // In pairs, one pointer per stream: GCC 12 at -O1 with -fsanitize=address miscompiled the one-line
  // form dst[x] = (x % 2 ? d1 : d0)[x / 2] into a wild address (CI, 2026-12-01).
  std::int64_t x = 0;
  for (; 2 * x + 1 < n; ++x) {
    dst[2 * x] = d0[x];
    dst[2 * x + 1] = d1[x];
  }
  if (2 * x < n) dst[2 * x] = d0[x];
}

// Copies channels [c0, c0 + nc) of samples [n0, n0 + m) of src ([N, Ctot, src_h, src_w]) into the
// planes (every element written: data, zero rows, zero columns, lead and tail). Each source plane is
// read once, row after row (the order the hardware prefetcher follows; sweeping it once per row phase
// measured 3x slower from DRAM), each row going to the phases of its columns.
template <class T>
inline void pack_planes(const T* src, std::int64_t Ctot, std::int64_t n0, std::int64_t m, std::int64_t c0,
                        std::int64_t nc, const Planes& g, std::int64_t tile, T* dst) {
  const std::int64_t plane = g.plane(), HW = g.src_h * g.src_w, data_rows = g.rows - g.Z;
  std::fill(dst, dst + g.lead(), T(0));
  T* out = dst + g.lead();
  for (std::int64_t c = 0; c < nc; ++c)
    for (std::int64_t i = 0; i < m; ++i) {
      const T* s = src + ((n0 + i) * Ctot + c0 + c) * HW;
      if (g.sh == 1 && g.sw == 1) {  // one phase (stride 1): rows in order, no phase lookups
        T* pl = out + (c * m + i) * plane;
        std::fill(pl, pl + g.Z * g.L, T(0));
        for (std::int64_t ih = 0; ih < g.src_h; ++ih) {
          T* row = pl + (g.Z + ih) * g.L;
          prefetch_ahead(s + ih * g.src_w, g.src_w);
          copy_row(s + ih * g.src_w, g.src_w, row);
          for (std::int64_t x = g.src_w; x < g.L; ++x) row[x] = T(0);
        }
        std::fill(pl + (g.Z + g.src_h) * g.L, pl + plane, T(0));
        continue;
      }
      T* planes[kDirectMaxPhases];  // phase a*sw + b of this channel and sample, or nullptr
      for (std::int64_t ph = 0; ph < g.sh * g.sw; ++ph)
        planes[ph] = g.phase_of[ph] < 0 ? nullptr : out + ((c * g.nphase + g.phase_of[ph]) * m + i) * plane;
      auto plane_of = [&](std::int64_t a, std::int64_t b) { return planes[a * g.sw + b]; };
      // Zero rows above and below the data, phase by phase.
      for (std::int64_t a = 0; a < g.sh; ++a) {
        const std::int64_t rows_a = a < g.src_h ? ceil_div(g.src_h - a, g.sh) : 0;
        for (std::int64_t b = 0; b < g.sw; ++b)
          if (T* pl = plane_of(a, b)) {
            std::fill(pl, pl + g.Z * g.L, T(0));
            std::fill(pl + (g.Z + rows_a) * g.L, pl + (g.Z + data_rows) * g.L, T(0));
          }
      }
      // Data rows in source order, each followed by its zero columns.
      for (std::int64_t ih = 0; ih < g.src_h; ++ih) {
        const std::int64_t a = ih % g.sh, y = ih / g.sh;
        prefetch_ahead(s + ih * g.src_w, g.src_w);
        T* const even = g.sw == 2 && g.src_w >= 2 ? plane_of(a, 0) : nullptr;
        T* const odd = even ? plane_of(a, 1) : nullptr;
        if (odd) {  // both column phases of stride 2 from one read
          T* r0 = even + (g.Z + y) * g.L;
          T* r1 = odd + (g.Z + y) * g.L;
          split_row_2(s + ih * g.src_w, g.src_w, r0, r1);
          for (std::int64_t x = (g.src_w + 1) / 2; x < g.L; ++x) r0[x] = T(0);
          for (std::int64_t x = g.src_w / 2; x < g.L; ++x) r1[x] = T(0);
          continue;
        }
        for (std::int64_t b = 0; b < g.sw; ++b) {
          T* pl = plane_of(a, b);
          if (!pl) continue;
          T* row = pl + (g.Z + y) * g.L;
          const std::int64_t count = b < g.src_w ? ceil_div(g.src_w - b, g.sw) : 0;
          if (g.sw == 1)
            copy_row(s + ih * g.src_w, count, row);
          else
            copy_row_strided(s + ih * g.src_w + b, g.sw, count, row);
          for (std::int64_t x = count; x < g.L; ++x) row[x] = T(0);
        }
      }
    }
  const std::int64_t used = g.lead() + nc * g.nphase * m * plane;
  std::fill(dst + used, dst + g.buffer(nc, m, tile), T(0));
}

// ---------------------------------------------------------------------------------------------
// Tiles. conv: out[k][q0 + t] (k < KT, t < 16*V) = sum_j wp[j*KT + k] * in[q0 + t + off[j]].
// wgrad:  vacc[k][jj][lane] += sum over the nv vectors of dy[k][16v + lane] * in[16v + lane + off[jj]].

template <class T, int KT, int V>
inline void conv_tile_portable(const T* in, const std::int64_t* off, std::int64_t J, const T* wp, T* out,
                               std::int64_t ldo) {
  constexpr int NQ = V * static_cast<int>(kLanes);
  T acc[KT][NQ] = {};
  for (std::int64_t j = 0; j < J; ++j) {
    const T* s = in + off[j];
    for (int k = 0; k < KT; ++k) {
      const T a = wp[j * KT + k];
#pragma omp simd
      for (int t = 0; t < NQ; ++t) acc[k][t] += a * s[t];
    }
  }
  for (int k = 0; k < KT; ++k) std::copy(acc[k], acc[k] + NQ, out + k * ldo);
}

template <class T, int KT, int JT>
inline void wgrad_tile_portable(const T* dy, std::int64_t ldd, const T* in, const std::int64_t* off, std::int64_t nv,
                                T* vacc, std::int64_t ldv) {
  constexpr int NL = static_cast<int>(kLanes);
  T acc[KT][JT][NL] = {};
  for (std::int64_t v = 0; v < nv; ++v)
    for (int jj = 0; jj < JT; ++jj) {
      const T* s = in + off[jj] + v * NL;
      for (int k = 0; k < KT; ++k) {
        const T* d = dy + k * ldd + v * NL;
#pragma omp simd
        for (int l = 0; l < NL; ++l) acc[k][jj][l] += d[l] * s[l];
      }
    }
  for (int k = 0; k < KT; ++k)
    for (int jj = 0; jj < JT; ++jj) {
      T* o = vacc + k * ldv + jj * NL;
      for (int l = 0; l < NL; ++l) o[l] += acc[k][jj][l];
    }
}

#if defined(__AVX512F__)
template <int KT, int V>
inline void conv_tile_avx512(const float* in, const std::int64_t* off, std::int64_t J, const float* wp, float* out,
                             std::int64_t ldo) {
  __m512 acc[KT][V];
#pragma GCC unroll 8
  for (int k = 0; k < KT; ++k)
#pragma GCC unroll 6
    for (int v = 0; v < V; ++v) acc[k][v] = _mm512_setzero_ps();
  for (std::int64_t j = 0; j < J; ++j) {
    const float* s = in + off[j];
    __m512 b[V];
#pragma GCC unroll 6
    for (int v = 0; v < V; ++v) b[v] = _mm512_loadu_ps(s + 16 * v);
#pragma GCC unroll 8
    for (int k = 0; k < KT; ++k) {
      const __m512 a = _mm512_set1_ps(wp[j * KT + k]);
#pragma GCC unroll 6
      for (int v = 0; v < V; ++v) acc[k][v] = _mm512_fmadd_ps(a, b[v], acc[k][v]);
    }
  }
#pragma GCC unroll 8
  for (int k = 0; k < KT; ++k)
#pragma GCC unroll 6
    for (int v = 0; v < V; ++v) _mm512_storeu_ps(out + k * ldo + 16 * v, acc[k][v]);
}

template <int KT, int JT>
inline void wgrad_tile_avx512(const float* dy, std::int64_t ldd, const float* in, const std::int64_t* off,
                              std::int64_t nv, float* vacc, std::int64_t ldv) {
  __m512 acc[KT][JT];
#pragma GCC unroll 4
  for (int k = 0; k < KT; ++k)
#pragma GCC unroll 6
    for (int jj = 0; jj < JT; ++jj) acc[k][jj] = _mm512_setzero_ps();
  const float* src[JT];
#pragma GCC unroll 6
  for (int jj = 0; jj < JT; ++jj) src[jj] = in + off[jj];
  for (std::int64_t v = 0; v < nv; ++v) {
    __m512 d[KT];
#pragma GCC unroll 4
    for (int k = 0; k < KT; ++k) d[k] = _mm512_loadu_ps(dy + k * ldd + 16 * v);
#pragma GCC unroll 6
    for (int jj = 0; jj < JT; ++jj) {
      __m512 s = _mm512_loadu_ps(src[jj] + 16 * v);
      // Keep s in a register: GCC otherwise folds the load into each of the KT FMAs (KT loads of the
      // same, usually line-crossing, vector): 145 instead of 279 GFLOP/s on one Zen 5 core, data in L1.
      asm("" : "+v"(s));
#pragma GCC unroll 4
      for (int k = 0; k < KT; ++k) acc[k][jj] = _mm512_fmadd_ps(d[k], s, acc[k][jj]);
    }
  }
#pragma GCC unroll 4
  for (int k = 0; k < KT; ++k)
#pragma GCC unroll 6
    for (int jj = 0; jj < JT; ++jj) {
      float* o = vacc + k * ldv + jj * 16;
      _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), acc[k][jj]));
    }
}
#endif  // __AVX512F__

// Output rows per conv tile: 4 when the pass has at most 4 output channels (ResNeXt's first stage),
// else 8; the vectors per tile keep 24 accumulators.
inline std::int64_t conv_rows_per_tile(std::int64_t kout) { return kout <= 4 ? 4 : 8; }
inline std::int64_t conv_tile_points(std::int64_t kt) { return kt == 4 ? 6 * kLanes : 3 * kLanes; }
inline constexpr std::int64_t kWgradRows = 4, kWgradTaps = 6;

template <class T, int KT, int V>
inline void conv_tile(const T* in, const std::int64_t* off, std::int64_t J, const T* wp, T* out, std::int64_t ldo) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    conv_tile_avx512<KT, V>(in, off, J, wp, out, ldo);
    return;
  }
#endif
  conv_tile_portable<T, KT, V>(in, off, J, wp, out, ldo);
}

// out[kt rows][ldo] over grid points [0, nq) (nq a multiple of the tile): one row block.
template <class T>
inline void conv_rows(std::int64_t kt, const T* in, const std::int64_t* off, std::int64_t J, const T* wp,
                      std::int64_t nq, T* out, std::int64_t ldo) {
  const std::int64_t tile = conv_tile_points(kt);
  for (std::int64_t q0 = 0; q0 < nq; q0 += tile) {
    if (kt == 4)
      conv_tile<T, 4, 6>(in + q0, off, J, wp, out + q0, ldo);
    else
      conv_tile<T, 8, 3>(in + q0, off, J, wp, out + q0, ldo);
  }
}

template <class T>
inline void wgrad_tile(const T* dy, std::int64_t ldd, const T* in, const std::int64_t* off, std::int64_t nv, T* vacc,
                       std::int64_t ldv) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    wgrad_tile_avx512<kWgradRows, kWgradTaps>(dy, ldd, in, off, nv, vacc, ldv);
    return;
  }
#endif
  wgrad_tile_portable<T, kWgradRows, kWgradTaps>(dy, ldd, in, off, nv, vacc, ldv);
}

// Packs the weights of one pass as row blocks of kt output rows: wp[blk][j][kt] = wt(blk*kt + kk, j)
// (0 for rows >= kout), j in [0, J).
template <class T, class Get>
inline void pack_rows(std::int64_t kout, std::int64_t kt, std::int64_t J, Get&& wt, T* wp) {
  for (std::int64_t blk = 0; blk * kt < kout; ++blk)
    for (std::int64_t j = 0; j < J; ++j)
      for (std::int64_t kk = 0; kk < kt; ++kk) {
        const std::int64_t k = blk * kt + kk;
        wp[(blk * J + j) * kt + kk] = k < kout ? wt(k, j) : T(0);
      }
}

// Samples per block for forward / backward-input (>= 256 grid points) and backward-weight (>= 1024,
// so the lanes are summed rarely).
inline constexpr std::int64_t kMinGridPoints = 256, kMinWgradGridPoints = 1024;

}  // namespace direct_detail

// Whether the direct path can run these parameters (phases fit the fixed table).
inline bool conv2d_direct_supported(const Conv2dParams& p) { return p.stride_h * p.stride_w <= kDirectMaxPhases; }

// y = conv(x, w) + b (+ epilogue), shapes as conv2d_forward (kernels/conv2d.hpp). y overwritten.
template <class T>
inline void conv2d_forward_direct(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y, Workspace& ws,
                                  const ChannelAffine<T>* epilogue = nullptr) {
  using namespace direct_detail;
  p.validate();
  MOODNET_ASSERT(conv2d_direct_supported(p));
  const std::int64_t G = p.groups, Cg = p.c_per_group(), Kg = p.k_per_group(), J = Cg * p.R * p.S;
  const std::int64_t OH = p.out_h(), OW = p.out_w(), OHW = OH * OW;
  const Planes g = forward_planes(p);
  const std::int64_t kt = conv_rows_per_tile(Kg), tile = conv_tile_points(kt), kblocks = ceil_div(Kg, kt);
  const std::int64_t nb = detail::samples_per_block(p.N, g.plane(), kMinGridPoints), blocks = ceil_div(p.N, nb);
  const std::int64_t in_elems = round_up(g.buffer(Cg, nb, tile), kLanes);
  const std::int64_t scratch = in_elems + kblocks * kt * g.grid(nb, tile);
  const std::int64_t wp_elems = kblocks * kt * J;  // per group
  const int nt = num_threads();

  // Slots: [0, nt) planes + output grid per thread; [nt, 2nt) tap offsets; 2nt packed weights.
  detail::reserve_per_thread<T>(ws, scratch);
  ws.reserve_slots(2 * nt + 1);
  for (int t = 0; t < nt; ++t) ws.get<std::int64_t>(nt + t, J);
  T* wp = ws.get<T>(2 * nt, G * wp_elems);
  for (std::int64_t gi = 0; gi < G; ++gi)
    pack_rows<T>(Kg, kt, J, [&](std::int64_t k, std::int64_t j) { return w[(gi * Kg + k) * J + j]; },
                 wp + gi * wp_elems);

  const std::int64_t items = blocks * G;
  auto run = [&](std::int64_t item, int t) {
    const std::int64_t blk = item / G, gi = item % G, n0 = blk * nb, m = std::min(nb, p.N - n0);
    T* in = ws.get<T>(t, scratch);
    T* out = in + in_elems;
    std::int64_t* off = ws.get<std::int64_t>(nt + t, J);
    const std::int64_t ldo = g.grid(m, tile);
    pack_planes(x, p.C, n0, m, gi * Cg, Cg, g, tile, in);
    forward_offsets(p, g, Cg, m, off);
    for (std::int64_t kb = 0; kb < kblocks; ++kb)
      conv_rows(kt, in, off, J, wp + gi * wp_elems + kb * J * kt, ldo, out + kb * kt * ldo, ldo);
    // Crop the grid into y (+ bias, epilogue) plane by plane.
    for (std::int64_t k = 0; k < Kg; ++k)
      for (std::int64_t i = 0; i < m; ++i) {
        const std::int64_t ko = gi * Kg + k;
        T* yk = y + ((n0 + i) * p.K + ko) * OHW;
        const T* o = out + k * ldo + i * g.plane();
        for (std::int64_t oy = 0; oy < OH; ++oy) copy_row(o + oy * g.L, OW, yk + oy * OW);
        if (bias) {
          const T bk = bias[ko];
          for (std::int64_t e = 0; e < OHW; ++e) yk[e] += bk;
        }
        apply_channel_affine(epilogue, ko, yk, OHW);
      }
  };
  detail::parallel_items(items, run);
}

// dx = dL/dx (OVERWRITTEN) from dy and w, shapes as conv2d_backward_input.
template <class T>
inline void conv2d_backward_input_direct(const Conv2dParams& p, const T* dy, const T* w, T* dx, Workspace& ws) {
  using namespace direct_detail;
  p.validate();
  MOODNET_ASSERT(conv2d_direct_supported(p));
  const std::int64_t G = p.groups, Cg = p.c_per_group(), Kg = p.k_per_group(), RS = p.R * p.S;
  const std::int64_t sh = p.stride_h, sw = p.stride_w, nphase = sh * sw, HW = p.H * p.W;
  const int nt = num_threads();
  // Slots: [0, nt) dy planes + grid per thread; [nt, 2nt) tap offsets; 2nt packed weights; 2nt+1 taps.
  ws.reserve_slots(2 * nt + 2);
  std::int64_t* tap = ws.get<std::int64_t>(2 * nt + 1, 3 * RS);
  std::int64_t *tap_rs = tap, *tap_du = tap + RS, *tap_dv = tap + 2 * RS;
  const PhaseTaps taps = backward_input_taps(p, tap_rs, tap_du, tap_dv);
  const Planes g = backward_input_planes(p, tap_du, tap_dv);
  const std::int64_t kt = conv_rows_per_tile(Cg), tile = conv_tile_points(kt), cblocks = ceil_div(Cg, kt);
  const std::int64_t nb = detail::samples_per_block(p.N, g.plane(), kMinGridPoints), blocks = ceil_div(p.N, nb);
  const std::int64_t in_elems = round_up(g.buffer(Kg, nb, tile), kLanes), out_elems = cblocks * kt * g.grid(nb, tile);
  const std::int64_t scratch = in_elems + nphase * out_elems;  // dy planes, then the grid of every dx phase
  // Packed weights of dx phase ph start at cblocks*kt*Kg*taps.start[ph]: rows j = k*count + tap, the
  // "output channels" being the Cg input channels c. Per group cblocks*kt*Kg*R*S.
  const std::int64_t wp_elems = cblocks * kt * Kg * RS;

  detail::reserve_per_thread<T>(ws, scratch);
  for (int t = 0; t < nt; ++t) ws.get<std::int64_t>(nt + t, Kg * RS);
  T* wp = ws.get<T>(2 * nt, G * wp_elems);
  for (std::int64_t gi = 0; gi < G; ++gi)
    for (std::int64_t ph = 0; ph < nphase; ++ph) {
      const std::int64_t n = taps.count(ph), t0 = taps.start[ph];
      pack_rows<T>(Cg, kt, Kg * n,
                   [&](std::int64_t c, std::int64_t j) { return w[((gi * Kg + j / n) * Cg + c) * RS + tap_rs[t0 + j % n]]; },
                   wp + gi * wp_elems + cblocks * kt * Kg * t0);
    }

  const std::int64_t items = blocks * G;
  auto run = [&](std::int64_t item, int t) {
    const std::int64_t blk = item / G, gi = item % G, n0 = blk * nb, m = std::min(nb, p.N - n0);
    T* in = ws.get<T>(t, scratch);
    T* out = in + in_elems;
    std::int64_t* off = ws.get<std::int64_t>(nt + t, Kg * RS);
    const std::int64_t ldo = g.grid(m, tile);
    pack_planes(dy, p.K, n0, m, gi * Kg, Kg, g, tile, in);
    // The grid of every dx phase (a, b) with taps, at out + ph * out_elems.
    for (std::int64_t ph = 0; ph < nphase; ++ph) {
      const std::int64_t n = taps.count(ph), t0 = taps.start[ph], Jph = Kg * n;
      if (n == 0) continue;
      for (std::int64_t k = 0; k < Kg; ++k)
        for (std::int64_t i = 0; i < n; ++i) off[k * n + i] = g.offset(k, 0, -tap_du[t0 + i], -tap_dv[t0 + i], m);
      const T* wph = wp + gi * wp_elems + cblocks * kt * Kg * t0;
      for (std::int64_t cb = 0; cb < cblocks; ++cb)
        conv_rows(kt, in, off, Jph, wph + cb * Jph * kt, ldo, out + ph * out_elems + cb * kt * ldo, ldo);
    }
    // dx row by row: row ih = sh*y + a interleaves row y of the phases (a, 0..sw-1); a phase no tap
    // reaches is zero.
    for (std::int64_t c = 0; c < Cg; ++c)
      for (std::int64_t i = 0; i < m; ++i) {
        T* dxc = dx + ((n0 + i) * p.C + gi * Cg + c) * HW;
        auto phase_row = [&](std::int64_t a, std::int64_t b, std::int64_t y) -> const T* {
          const std::int64_t ph = a * sw + b;
          return taps.count(ph) ? out + ph * out_elems + c * ldo + i * g.plane() + y * g.L : nullptr;
        };
        for (std::int64_t ih = 0; ih < p.H; ++ih) {
          const std::int64_t a = ih % sh, y = ih / sh;
          T* dr = dxc + ih * p.W;
          const T* r0 = phase_row(a, 0, y);
          const T* r1 = sw == 2 ? phase_row(a, 1, y) : nullptr;
          if (sw == 2 && r0 && r1) {
            merge_row_2(r0, r1, p.W, dr);
            continue;
          }
          for (std::int64_t b = 0; b < sw && b < p.W; ++b) {
            const T* r = phase_row(a, b, y);
            const std::int64_t cols_b = ceil_div(p.W - b, sw);
            if (!r)
              for (std::int64_t xx = 0; xx < cols_b; ++xx) dr[b + xx * sw] = T(0);
            else if (sw == 1)
              copy_row(r, cols_b, dr);
            else
              for (std::int64_t xx = 0; xx < cols_b; ++xx) dr[b + xx * sw] = r[xx];
          }
        }
      }
  };
  detail::parallel_items(items, run);
}

// dw += dL/dw (ACCUMULATED), shapes as conv2d_backward_weight; bit-identical for any thread count.
template <class T>
inline void conv2d_backward_weight_direct(const Conv2dParams& p, const T* x, const T* dy, T* dw, Workspace& ws) {
  using namespace direct_detail;
  p.validate();
  MOODNET_ASSERT(conv2d_direct_supported(p));
  const std::int64_t G = p.groups, Cg = p.c_per_group(), Kg = p.k_per_group(), J = Cg * p.R * p.S;
  const std::int64_t OH = p.out_h(), OW = p.out_w(), OHW = OH * OW;
  const Planes g = forward_planes(p);
  const std::int64_t chunks = std::min<std::int64_t>(p.N, kWeightGradChunks);
  const std::int64_t nb =
      std::min(detail::samples_per_block(p.N, g.plane(), kMinWgradGridPoints), ceil_div(p.N, chunks));
  const std::int64_t kp = round_up(Kg, kWgradRows), jp = round_up(J, kWgradTaps);
  const std::int64_t in_elems = round_up(g.buffer(Cg, nb, kLanes), kLanes);
  const std::int64_t dy_elems = kp * round_up(nb * g.plane(), kLanes), vacc_elems = kp * jp * kLanes;
  const std::int64_t scratch = in_elems + dy_elems + vacc_elems;
  const int nt = num_threads(), first = static_cast<int>(chunks);

  // Slots: [0, chunks) chunk accumulators (reduce_weight_grad_in_chunks); [chunks, chunks + nt) per
  // thread planes + dy grid + lane accumulators; [chunks + nt, chunks + 2nt) per thread tap offsets.
  detail::reserve_per_thread<T>(ws, scratch, first);
  ws.reserve_slots(first + 2 * nt);
  for (int t = 0; t < nt; ++t) ws.get<std::int64_t>(first + nt + t, jp);

  detail::reduce_weight_grad_in_chunks<T>(
      p.N, p.K * J, G, dw, ws, [&](std::int64_t, std::int64_t gi, std::int64_t c0, std::int64_t c1, T* acc, int t) {
        T* in = ws.get<T>(first + t, scratch);
        T* dyg = in + in_elems;
        T* vacc = dyg + dy_elems;
        std::int64_t* off = ws.get<std::int64_t>(first + nt + t, jp);
        std::fill(vacc, vacc + vacc_elems, T(0));
        for (std::int64_t n0 = c0; n0 < c1; n0 += nb) {
          // dy rows of ld >= m*plane elements; the tiles cover the grid's first nq points.
          const std::int64_t m = std::min(nb, c1 - n0), ld = round_up(m * g.plane(), kLanes), nq = g.grid(m, kLanes);
          pack_planes(x, p.C, n0, m, gi * Cg, Cg, g, kLanes, in);
          // dy of the group on the forward's output grid: zero at the thrown-away points and rows >= Kg.
          for (std::int64_t k = 0; k < kp; ++k) {
            T* o = dyg + k * ld;
            if (k >= Kg) {
              std::fill(o, o + ld, T(0));
              continue;
            }
            for (std::int64_t i = 0; i < m; ++i) {
              const T* d = dy + ((n0 + i) * p.K + gi * Kg + k) * OHW;
              T* oi = o + i * g.plane();
              for (std::int64_t oy = 0; oy < g.rows; ++oy) {
                const std::int64_t n = oy < OH ? OW : 0;
                prefetch_ahead(d + oy * OW, n);
                copy_row(d + oy * OW, n, oi + oy * g.L);
                std::fill(oi + oy * g.L + n, oi + (oy + 1) * g.L, T(0));
              }
            }
            std::fill(o + m * g.plane(), o + ld, T(0));
          }
          forward_offsets(p, g, Cg, m, off);
          for (std::int64_t j = J; j < jp; ++j) off[j] = 0;  // padding taps: any readable place
          for (std::int64_t kb = 0; kb < kp; kb += kWgradRows)
            for (std::int64_t jb = 0; jb < jp; jb += kWgradTaps)
              wgrad_tile(dyg + kb * ld, ld, in, off + jb, nq / kLanes, vacc + (kb * jp + jb) * kLanes, jp * kLanes);
        }
        // acc[g*Kg + k][j] = the sum of the 16 lanes, in lane order.
        for (std::int64_t k = 0; k < Kg; ++k)
          for (std::int64_t j = 0; j < J; ++j) {
            const T* v = vacc + (k * jp + j) * kLanes;
            T s = v[0];
            for (std::int64_t l = 1; l < kLanes; ++l) s += v[l];
            acc[(gi * Kg + k) * J + j] = s;
          }
      });
}

}  // namespace moodnet::kernels
