#pragma once
// AVX-512 building blocks shared by the kernels (only in AVX-512 builds): the mask of a tail of
// lanes, and an in-register 16x16 transpose (sgemm.hpp packing, depthwise channel blocks).
#if defined(__AVX512F__)
#include <immintrin.h>

#include <cstdint>

namespace moodnet::kernels::avx512 {

// The lowest min(n, 16) bits: the lanes of a 16-float vector that hold the n values left (n may be <= 0).
inline __mmask16 tail_mask(std::int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// In-register transpose of a 16x16 block: r[i] holds row i on entry, column i on exit.
// unpack ps -> pairs, unpack pd -> 4x4 blocks per 128-bit lane, two shuffle_f32x4 rounds -> lanes.
inline void transpose16x16(__m512 r[16]) {
  // All-ones zero-masked forms of the shuffles: the same instructions, but GCC 12 warns that the
  // unmasked intrinsics read an uninitialised pass-through vector (-Wmaybe-uninitialized).
  const __mmask16 all16 = 0xFFFF;
  const __mmask8 all8 = 0xFF;
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(all16, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(all16, r[2 * i], r[2 * i + 1]);
  }
  __m512 s[16];  // s[4i + c], lane L = rows 4i..4i+3 of column 4L + c
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    s[4 * i + 0] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, a, c));
    s[4 * i + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, a, c));
    s[4 * i + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(all8, b, d));
    s[4 * i + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(all8, b, d));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 x = _mm512_maskz_shuffle_f32x4(all16, s[c], s[4 + c], 0x44);
    const __m512 y = _mm512_maskz_shuffle_f32x4(all16, s[8 + c], s[12 + c], 0x44);
    const __m512 x2 = _mm512_maskz_shuffle_f32x4(all16, s[c], s[4 + c], 0xEE);
    const __m512 y2 = _mm512_maskz_shuffle_f32x4(all16, s[8 + c], s[12 + c], 0xEE);
    r[c] = _mm512_maskz_shuffle_f32x4(all16, x, y, 0x88);
    r[4 + c] = _mm512_maskz_shuffle_f32x4(all16, x, y, 0xDD);
    r[8 + c] = _mm512_maskz_shuffle_f32x4(all16, x2, y2, 0x88);
    r[12 + c] = _mm512_maskz_shuffle_f32x4(all16, x2, y2, 0xDD);
  }
}

}  // namespace moodnet::kernels::avx512
#endif  // __AVX512F__
