#pragma once
// Winograd convolution F(m x m, 3 x 3), m = 2 or 4, for dense 3x3 stride-1 layers: forward, input
// gradient and weight gradient, with the layouts and argument order of kernels/conv2d.hpp (NCHW
// activations, OIHW weights, Conv2dParams), so a plan can pick it per layer and pass: where it
// measures faster, with a graph::ConvAlgorithmTable (graph/conv_algorithm.hpp; docs/kernels.md).
// The transforms and their identities: kernels/winograd_transforms.hpp.
//
//   x: [N, C, H, W]    w: [K, C, 3, 3]    y: [N, K, OH, OW]    supported: winograd_supported(p)
//
// Forward. The output is cut into m x m tiles (TH = ceil(OH/m) x TW = ceil(OW/m) per sample; tiles
// past the edge are computed whole and cropped). Tile (n, ty, tx) reads the alpha x alpha input
// patch at (ty*m - pad_h, tx*m - pad_w), zero outside the image. In the alpha^2 frequencies xi the
// convolution is one GEMM per xi over the channels:
//
//   U[xi]  [K, C]  = (G w[k, c] G^T)[xi]           the weights, transformed once per call
//   V[xi]  [C, T]  = (B^T d[c, t] B)[xi]           a block of T tiles (of any samples) of the input
//   Mt[xi] [K, T]  = U[xi] * V[xi]                 alpha^2 GEMMs: 16 (m = 2) or 36 (m = 4) x K*C*T MACs
//   y tile (k, t)  = A^T Mt[., k, t] A (+ b[k])    cropped to the output; then the epilogue
//
//   against 9 MACs per output in the direct convolution: 2.25x fewer multiplies (m = 2), 4x (m = 4).
//
// Input gradient (stride 1): dx[c, i, j] = sum_{k, r, s} w[k, c, r, s] dy[k, i + pad - r, j + pad - s]
//   = the correlation of dy (K channels, OH x OW) with w'[c, k, r, s] = w[k, c, 2 - r, 2 - s] (the
//   filter transposed and rotated by 180 degrees) and padding 2 - pad, whose output is H x W: the
//   forward above with U'[xi] [C, K] = (G w'[c, k] G^T)[xi].
// Weight gradient: for the forward identity Y = A^T [U .* V] A per tile,
//   dL/dw[k, c] = sum_tiles G^T [ (A dY[k, t] A^T) .* V[c, t] ] G
//   Z[xi] [K, T] = (A dY[k, t] A^T)[xi] (dY tile m x m, zero past the output), then per xi the
//   GEMM S[xi] [K, C] += Z[xi] * V[xi]^T over the tiles, and dw[k, c] += G^T S[., k, c] G once.
//
// Blocks: tiles are numbered n*TH*TW + ty*TW + tx and cut into blocks of tiles_per_block(...) tiles,
// a function of the shapes only. Forward and input-gradient items are blocks (each on one thread,
// V and Mt in that thread's workspace slot); every output element is computed by one item in a fixed
// order, so y and dx are bit-identical for any thread count. The weight gradient cuts the blocks
// into min(#blocks, kWeightGradChunks) fixed chunks, each summing its blocks in order into its own
// S accumulator; the chunks are added in chunk order before the filter-gradient transform (as
// conv2d_common.hpp's reduce_weight_grad_in_chunks), so dw is bit-identical too.
//
// Workspace slots: forward / input gradient: 0 = U, 1.. = per thread V + Mt; weight gradient:
// [0, chunks) = S per chunk, then per thread V + Z. winograd_workspace_bytes gives the total.
// GEMMs: gemm_rowmajor (our AVX-512 sgemm for float, Eigen otherwise). The tile transforms are
// portable loops over 16 tiles at a time, which the compiler vectorises.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/channel_affine.hpp"
#include "moodnet/kernels/conv2d_common.hpp"
#include "moodnet/kernels/gemm_rowmajor.hpp"
#include "moodnet/kernels/winograd_transforms.hpp"
#include "moodnet/kernels/instantiation.hpp"

namespace moodnet::kernels {

// Output tile m x m: F(2x2, 3x3) (16 frequencies, errors near the direct kernel's) or F(4x4, 3x3)
// (36 frequencies, fewer multiplies, larger float errors: docs/kernels.md).
enum class WinogradTile { f2x2, f4x4 };

// Dense 3x3, stride 1, padding 0, 1 or 2 on each side (the input gradient runs with padding 2 - pad).
inline bool winograd_supported(const Conv2dParams& p) {
  return p.groups == 1 && p.R == 3 && p.S == 3 && p.stride_h == 1 && p.stride_w == 1 && p.pad_h >= 0 &&
         p.pad_h <= 2 && p.pad_w >= 0 && p.pad_w <= 2;
}

namespace winograd_detail {

inline constexpr int kLanes = 16;                   // tiles per vectorised tile transform
inline constexpr std::int64_t kBlockElems = 1 << 18;  // V + Mt of one block: about this many elements
inline constexpr std::int64_t kMaxTilesPerBlock = 512;

inline int alpha_of(WinogradTile tile) { return tile == WinogradTile::f2x2 ? 4 : 6; }
inline int m_of(WinogradTile tile) { return tile == WinogradTile::f2x2 ? 2 : 4; }

// One correlation pass: in [N, Cin, Hin, Win] -> out [N, Kout, Hout, Wout], 3x3, stride 1, padding
// (ph, pw), cut into m x m output tiles.
struct Geometry {
  std::int64_t N, Cin, Hin, Win, Kout, Hout, Wout, ph, pw;
  int m, alpha;
  std::int64_t TH, TW, tiles, per_block, blocks;

  std::int64_t freqs() const { return std::int64_t(alpha) * alpha; }
  // Per-thread scratch: V [alpha^2, Cin, per_block] then Mt (or Z) [alpha^2, Kout, per_block].
  std::int64_t scratch_elems() const { return freqs() * (Cin + Kout) * per_block; }
};

// Tiles per block: V and Mt of one block hold about kBlockElems elements; a multiple of kLanes in
// [kLanes, kMaxTilesPerBlock]. Depends on the shapes only.
inline std::int64_t tiles_per_block(std::int64_t freqs, std::int64_t Cin, std::int64_t Kout) {
  const std::int64_t t = kBlockElems / (freqs * (Cin + Kout)) / kLanes * kLanes;
  return std::clamp<std::int64_t>(t, kLanes, kMaxTilesPerBlock);
}

inline Geometry make_geometry(std::int64_t N, std::int64_t Cin, std::int64_t Hin, std::int64_t Win, std::int64_t Kout,
                              std::int64_t ph, std::int64_t pw, WinogradTile tile) {
  Geometry g{};
  g.N = N, g.Cin = Cin, g.Hin = Hin, g.Win = Win, g.Kout = Kout, g.ph = ph, g.pw = pw;
  g.Hout = Hin + 2 * ph - 2, g.Wout = Win + 2 * pw - 2;
  g.m = m_of(tile), g.alpha = alpha_of(tile);
  g.TH = (g.Hout + g.m - 1) / g.m, g.TW = (g.Wout + g.m - 1) / g.m;
  g.tiles = N * g.TH * g.TW;
  g.per_block = tiles_per_block(g.freqs(), Cin, Kout);
  g.blocks = (g.tiles + g.per_block - 1) / g.per_block;
  return g;
}
inline Geometry forward_geometry(const Conv2dParams& p, WinogradTile tile) {
  return make_geometry(p.N, p.C, p.H, p.W, p.K, p.pad_h, p.pad_w, tile);
}
inline Geometry backward_input_geometry(const Conv2dParams& p, WinogradTile tile) {
  return make_geometry(p.N, p.K, p.out_h(), p.out_w(), p.C, 2 - p.pad_h, 2 - p.pad_w, tile);
}
inline std::int64_t weight_grad_chunks(const Geometry& g) { return std::min(g.blocks, kWeightGradChunks); }

// Where a group of up to kLanes consecutive tiles lies: sample, output origin (oy, ox); `count` valid.
struct LaneTiles {
  std::int64_t n[kLanes], oy[kLanes], ox[kLanes];
  int count = 0;
};
inline LaneTiles lane_tiles(const Geometry& g, std::int64_t t0, std::int64_t count) {
  LaneTiles lt;
  lt.count = static_cast<int>(std::min<std::int64_t>(kLanes, count));
  const std::int64_t per_sample = g.TH * g.TW;
  for (int l = 0; l < lt.count; ++l) {
    const std::int64_t t = t0 + l, r = t % per_sample;
    lt.n[l] = t / per_sample, lt.oy[l] = (r / g.TW) * g.m, lt.ox[l] = (r % g.TW) * g.m;
  }
  return lt;
}

// Copies a size x size window at (y0, x0) of the plane src [h, w] into lane l of buf (element-major,
// kLanes lanes), zero outside the plane.
template <class T>
inline void gather_window(const T* src, std::int64_t h, std::int64_t w, std::int64_t y0, std::int64_t x0, int size,
                          T* buf, int l) {
  if (y0 >= 0 && x0 >= 0 && y0 + size <= h && x0 + size <= w) {
    for (int r = 0; r < size; ++r)
      for (int s = 0; s < size; ++s) buf[(r * size + s) * kLanes + l] = src[(y0 + r) * w + x0 + s];
    return;
  }
  for (int r = 0; r < size; ++r)
    for (int s = 0; s < size; ++s) {
      const std::int64_t y = y0 + r, x = x0 + s;
      buf[(r * size + s) * kLanes + l] = (y >= 0 && y < h && x >= 0 && x < w) ? src[y * w + x] : T(0);
    }
}

// Writes the alpha^2 frequencies of a lane group (buf element-major) to columns [col, col + kLanes)
// of row `row` of every frequency's matrix: dst[(xi*rows + row)*ld + col + l].
template <class T>
inline void store_frequencies(const T* buf, int freqs, std::int64_t rows, std::int64_t row, std::int64_t ld,
                              std::int64_t col, T* dst) {
  for (int xi = 0; xi < freqs; ++xi) {
    T* d = dst + (xi * rows + row) * ld + col;
    const T* b = buf + xi * kLanes;
    for (int l = 0; l < kLanes; ++l) d[l] = b[l];
  }
}

// dst[xi][ch][j] = (Left D Left^T)[xi] for the tiles t0 + j, j in [0, count), of src [N, channels, h, w],
// where D [size, size] is the window at (oy - ph, ox - pw) of the tile's output origin (oy, ox), zero
// outside the plane. dst has ld = g.per_block; the columns of a last partial lane group hold the
// transforms of zeros. The two uses:
//   V (input):             Left = B^T, size alpha, x [N, Cin, Hin, Win] with the pass's padding
//   Z (output gradient):   Left = A,   size m,     dy [N, Kout, Hout, Wout] with no offset
template <const auto& Left, int Size, class T>
inline void tile_transform(const Geometry& g, const T* src, std::int64_t channels, std::int64_t h, std::int64_t w,
                           std::int64_t ph, std::int64_t pw, std::int64_t t0, std::int64_t count, T* dst) {
  constexpr int o = static_cast<int>(std::tuple_size_v<std::remove_cvref_t<decltype(Left)>>);
  alignas(64) T d[Size * Size * kLanes], tmp[o * Size * kLanes], v[o * o * kLanes];
  for (std::int64_t j0 = 0; j0 < count; j0 += kLanes) {
    const LaneTiles lt = lane_tiles(g, t0 + j0, count - j0);
    if (lt.count < kLanes) std::fill(d, d + Size * Size * kLanes, T(0));
    for (std::int64_t ch = 0; ch < channels; ++ch) {
      for (int l = 0; l < lt.count; ++l)
        gather_window(src + (lt.n[l] * channels + ch) * h * w, h, w, lt.oy[l] - ph, lt.ox[l] - pw, Size, d, l);
      transform_2d<Left, kLanes>(d, tmp, v);
      store_frequencies(v, o * o, channels, ch, g.per_block, j0, dst);
    }
  }
}
template <int M, class T>
inline void input_transform(const Geometry& g, const T* in, std::int64_t t0, std::int64_t count, T* V) {
  tile_transform<Transforms<M>::BT, M + 2>(g, in, g.Cin, g.Hin, g.Win, g.ph, g.pw, t0, count, V);
}
template <int M, class T>
inline void output_grad_transform(const Geometry& g, const T* dy, std::int64_t t0, std::int64_t count, T* Z) {
  tile_transform<Transforms<M>::A, M>(g, dy, g.Kout, g.Hout, g.Wout, 0, 0, t0, count, Z);
}

// out tiles t0 + j = A^T Mt[., k, j] A (+ bias[k]), cropped to [Hout, Wout], then the epilogue on each
// written row segment. Mt [alpha^2, Kout, per_block].
template <int M, class T>
inline void output_transform(const Geometry& g, const T* Mt, std::int64_t t0, std::int64_t count, const T* bias,
                             const ChannelAffine<T>* epilogue, T* out) {
  using Tr = Transforms<M>;
  constexpr int a = Tr::kAlpha;
  alignas(64) T mt[a * a * kLanes], tmp[M * a * kLanes], y[M * M * kLanes];
  const std::int64_t plane = g.Hout * g.Wout;
  for (std::int64_t j0 = 0; j0 < count; j0 += kLanes) {
    const LaneTiles lt = lane_tiles(g, t0 + j0, count - j0);
    for (std::int64_t k = 0; k < g.Kout; ++k) {
      for (int xi = 0; xi < a * a; ++xi) {
        const T* src = Mt + (xi * g.Kout + k) * g.per_block + j0;
        for (int l = 0; l < kLanes; ++l) mt[xi * kLanes + l] = src[l];
      }
      transform_2d<Tr::AT, kLanes>(mt, tmp, y);
      const T b = bias ? bias[k] : T(0);
      for (int l = 0; l < lt.count; ++l) {
        T* o = out + (lt.n[l] * g.Kout + k) * plane;
        const std::int64_t rows = std::min<std::int64_t>(M, g.Hout - lt.oy[l]);
        const std::int64_t cols = std::min<std::int64_t>(M, g.Wout - lt.ox[l]);
        for (std::int64_t i = 0; i < rows; ++i) {
          T* row = o + (lt.oy[l] + i) * g.Wout + lt.ox[l];
          for (std::int64_t j = 0; j < cols; ++j) row[j] = y[(i * M + j) * kLanes + l] + b;
          apply_channel_affine(epilogue, k, row, cols);
        }
      }
    }
  }
}

// U[xi][row][col] = (G f G^T)[xi] for the 3x3 filters f(row, col) = filter(row, col) (a pointer to
// 9 values, read at stride (sr, ss) for tap (r, s)); rows x cols filters, parallel over them.
template <int M, class T, class Filter>
inline void weight_transform(std::int64_t rows, std::int64_t cols, Filter&& filter, T* U) {
  using Tr = Transforms<M>;
  constexpr int a = Tr::kAlpha;
  const std::int64_t plane = rows * cols;
  parallel_for(plane, [&](std::int64_t i) {
    T f[9], tmp[a * 3], u[a * a];
    filter(i / cols, i % cols, f);
    transform_2d<Tr::G, 1>(f, tmp, u);
    for (int xi = 0; xi < a * a; ++xi) U[xi * plane + i] = u[xi];
  });
}

// The forward pass of geometry g with transformed weights U [alpha^2, Kout, Cin]: out = correlation
// of in with the filters (+ bias, epilogue). Workspace slots [first, first + threads) are reserved.
template <int M, class T>
inline void correlate(const Geometry& g, const T* in, const T* U, const T* bias, const ChannelAffine<T>* epilogue,
                      T* out, Workspace& ws, int first) {
  const std::int64_t F = g.freqs(), ld = g.per_block;
  detail::for_each_item(g.blocks, [&](std::int64_t blk, int t) {
    T* V = ws.get<T>(first + t, g.scratch_elems());
    T* Mt = V + F * g.Cin * ld;
    const std::int64_t t0 = blk * ld, count = std::min(ld, g.tiles - t0);
    input_transform<M>(g, in, t0, count, V);
    for (std::int64_t xi = 0; xi < F; ++xi)  // Mt[xi] [Kout, count] = U[xi] [Kout, Cin] * V[xi] [Cin, count]
      gemm_rowmajor<T>(Trans::no, Trans::no, g.Kout, count, g.Cin, U + xi * g.Kout * g.Cin, g.Cin,
                       V + xi * g.Cin * ld, ld, T(0), Mt + xi * g.Kout * ld, ld);
    output_transform<M>(g, Mt, t0, count, bias, epilogue, out);
  });
}

// Reserves slot 0 (the transformed weights, `u_elems`) and one scratch slot per thread after it.
template <class T>
inline T* reserve_correlation(Workspace& ws, const Geometry& g) {
  const int nt = num_threads();
  ws.reserve_slots(1 + nt);
  for (int t = 0; t < nt; ++t) ws.get<T>(1 + t, g.scratch_elems());
  return ws.get<T>(0, g.freqs() * g.Kout * g.Cin);
}

template <int M, class T>
inline void forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y, Workspace& ws,
                    const ChannelAffine<T>* epilogue, WinogradTile tile) {
  const Geometry g = forward_geometry(p, tile);
  T* U = reserve_correlation<T>(ws, g);
  weight_transform<M>(p.K, p.C, [&](std::int64_t k, std::int64_t c, T* f) {
    std::copy(w + (k * p.C + c) * 9, w + (k * p.C + c) * 9 + 9, f);
  }, U);
  correlate<M>(g, x, U, bias, epilogue, y, ws, 1);
}

template <int M, class T>
inline void backward_input(const Conv2dParams& p, const T* dy, const T* w, T* dx, Workspace& ws, WinogradTile tile) {
  const Geometry g = backward_input_geometry(p, tile);
  T* U = reserve_correlation<T>(ws, g);
  weight_transform<M>(p.C, p.K, [&](std::int64_t c, std::int64_t k, T* f) {  // w'[c, k, r, s] = w[k, c, 2-r, 2-s]
    const T* src = w + (k * p.C + c) * 9;
    for (int e = 0; e < 9; ++e) f[e] = src[8 - e];
  }, U);
  correlate<M, T>(g, dy, U, nullptr, nullptr, dx, ws, 1);
}

template <int M, class T>
inline void backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, Workspace& ws, WinogradTile tile) {
  using Tr = Transforms<M>;
  constexpr int a = Tr::kAlpha;
  const Geometry g = forward_geometry(p, tile);
  const std::int64_t F = g.freqs(), ld = g.per_block, KC = p.K * p.C, chunks = weight_grad_chunks(g);
  const int nt = num_threads(), first = static_cast<int>(chunks);
  ws.reserve_slots(first + nt);
  for (int c = 0; c < first; ++c) ws.get<T>(c, F * KC);
  for (int t = 0; t < nt; ++t) ws.get<T>(first + t, g.scratch_elems());

  // Chunk c: blocks [blocks*c/chunks, blocks*(c+1)/chunks), summed in order into S_c [alpha^2, K, C].
  detail::parallel_items(chunks, [&](std::int64_t c, int t) {
    T* S = ws.get<T>(static_cast<int>(c), F * KC);
    T* V = ws.get<T>(first + t, g.scratch_elems());
    T* Z = V + F * p.C * ld;
    const std::int64_t b0 = g.blocks * c / chunks, b1 = g.blocks * (c + 1) / chunks;
    for (std::int64_t blk = b0; blk < b1; ++blk) {
      const std::int64_t t0 = blk * ld, count = std::min(ld, g.tiles - t0);
      input_transform<M>(g, x, t0, count, V);
      output_grad_transform<M>(g, dy, t0, count, Z);
      for (std::int64_t xi = 0; xi < F; ++xi)  // S[xi] [K, C] (=|+=) Z[xi] [K, count] * V[xi]^T
        gemm_rowmajor<T>(Trans::no, Trans::yes, p.K, p.C, count, Z + xi * p.K * ld, ld, V + xi * p.C * ld, ld,
                         blk == b0 ? T(0) : T(1), S + xi * KC, p.C);
    }
  });

  // dw[k, c] += G^T (S_0 + S_1 + ...)[., k, c] G, chunks added in order.
  const T* S[kWeightGradChunks] = {};
  for (std::int64_t c = 0; c < chunks; ++c) S[c] = ws.get<T>(static_cast<int>(c), F * KC);
  parallel_for(KC, [&](std::int64_t i) {
    T s[a * a], tmp[3 * a], d[9];
    for (int xi = 0; xi < a * a; ++xi) {
      T v = S[0][xi * KC + i];
      for (std::int64_t c = 1; c < chunks; ++c) v += S[c][xi * KC + i];
      s[xi] = v;
    }
    transform_2d<Tr::GT, 1>(s, tmp, d);
    for (int e = 0; e < 9; ++e) dw[i * 9 + e] += d[e];
  });
}

inline void check_supported(const Conv2dParams& p) {
  p.validate();
  MOODNET_CHECK(winograd_supported(p), "winograd conv2d: needs a dense 3x3 kernel with stride 1 and padding 0..2, got ",
                p.R, "x", p.S, " stride ", p.stride_h, "x", p.stride_w, " pad ", p.pad_h, "x", p.pad_w, " groups ",
                p.groups);
}

}  // namespace winograd_detail

// Bytes the three passes keep in one Workspace (slots grow to the largest request) with `threads`
// threads: what a layer using Winograd for all three passes adds to its workspace.
template <class T>
inline std::int64_t winograd_workspace_bytes(const Conv2dParams& p, WinogradTile tile, int threads = num_threads()) {
  using namespace winograd_detail;
  const Geometry f = forward_geometry(p, tile), b = backward_input_geometry(p, tile);
  const std::int64_t F = f.freqs(), chunks = weight_grad_chunks(f);
  std::vector<std::int64_t> slot(static_cast<std::size_t>(std::max<std::int64_t>(1, chunks) + threads), 0);
  auto need = [&](std::int64_t s, std::int64_t elems) { slot[std::size_t(s)] = std::max(slot[std::size_t(s)], elems); };
  need(0, F * p.K * p.C);  // U (forward and input gradient)
  for (int t = 0; t < threads; ++t) need(1 + t, std::max(f.scratch_elems(), b.scratch_elems()));
  for (std::int64_t c = 0; c < chunks; ++c) need(c, F * p.K * p.C);
  for (int t = 0; t < threads; ++t) need(chunks + t, f.scratch_elems());
  std::int64_t total = 0;
  for (std::int64_t s : slot) total += s;
  return total * static_cast<std::int64_t>(sizeof(T));
}

// y = conv(x, w) + b by Winograd. x: [N, C, H, W], w: [K, C, 3, 3], bias: [K] or nullptr, y: [N, K, OH, OW]
// (overwritten); epilogue as in conv2d_forward. Throws moodnet::Error unless winograd_supported(p).
template <class T>
void winograd_conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y, Workspace& ws,
                             const ChannelAffine<T>* epilogue = nullptr,
                             WinogradTile tile = WinogradTile::f2x2) {
  winograd_detail::check_supported(p);
  if (tile == WinogradTile::f2x2) return winograd_detail::forward<2>(p, x, w, bias, y, ws, epilogue, tile);
  winograd_detail::forward<4>(p, x, w, bias, y, ws, epilogue, tile);
}

// dx = dL/dx (OVERWRITTEN) from dy: [N, K, OH, OW] and w: the forward of the rotated, transposed filter.
template <class T>
void winograd_conv2d_backward_input(const Conv2dParams& p, const T* dy, const T* w, T* dx, Workspace& ws,
                                    WinogradTile tile = WinogradTile::f2x2) {
  winograd_detail::check_supported(p);
  if (tile == WinogradTile::f2x2) return winograd_detail::backward_input<2>(p, dy, w, dx, ws, tile);
  winograd_detail::backward_input<4>(p, dy, w, dx, ws, tile);
}

// dw += dL/dw (ACCUMULATED), x: [N, C, H, W], dy: [N, K, OH, OW], dw: [K, C, 3, 3]. Bit-identical for
// any thread count (fixed chunks of tile blocks, added in order).
template <class T>
void winograd_conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, Workspace& ws,
                                     WinogradTile tile = WinogradTile::f2x2) {
  winograd_detail::check_supported(p);
  if (tile == WinogradTile::f2x2) return winograd_detail::backward_weight<2>(p, x, dy, dw, ws, tile);
  winograd_detail::backward_weight<4>(p, x, dy, dw, ws, tile);
}

// ---- tensor overloads: check every shape against the parameters, then call the pointer versions ----

template <class T>
inline void winograd_conv2d_forward(const Conv2dParams& p, std::type_identity_t<TensorView<const T>> x,
                                    std::type_identity_t<TensorView<const T>> w, const T* bias, TensorView<T> y,
                                    Workspace& ws, const ChannelAffine<T>* epilogue = nullptr,
                                    WinogradTile tile = WinogradTile::f2x2) {
  p.validate();
  check_shape(x.shape(), p.input_shape(), "winograd conv2d input x");
  check_shape(w.shape(), p.weight_shape(), "winograd conv2d weight w");
  check_shape(y.shape(), p.output_shape(), "winograd conv2d output y");
  winograd_conv2d_forward(p, x.data(), w.data(), bias, y.data(), ws, epilogue, tile);
}

template <class T>
inline void winograd_conv2d_backward_input(const Conv2dParams& p, std::type_identity_t<TensorView<const T>> dy,
                                           std::type_identity_t<TensorView<const T>> w, TensorView<T> dx,
                                           Workspace& ws, WinogradTile tile = WinogradTile::f2x2) {
  p.validate();
  check_shape(dy.shape(), p.output_shape(), "winograd conv2d output gradient dy");
  check_shape(w.shape(), p.weight_shape(), "winograd conv2d weight w");
  check_shape(dx.shape(), p.input_shape(), "winograd conv2d input gradient dx");
  winograd_conv2d_backward_input(p, dy.data(), w.data(), dx.data(), ws, tile);
}

template <class T>
inline void winograd_conv2d_backward_weight(const Conv2dParams& p, std::type_identity_t<TensorView<const T>> x,
                                            std::type_identity_t<TensorView<const T>> dy, TensorView<T> dw,
                                            Workspace& ws, WinogradTile tile = WinogradTile::f2x2) {
  p.validate();
  check_shape(x.shape(), p.input_shape(), "winograd conv2d input x");
  check_shape(dy.shape(), p.output_shape(), "winograd conv2d output gradient dy");
  check_shape(dw.shape(), p.weight_shape(), "winograd conv2d weight gradient dw");
  winograd_conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), ws, tile);
}

// Compiled once where the program asks for it (kernels/instantiation.hpp).
#define MOODNET_WINOGRAD_KERNELS(prefix, T) \
  prefix template void winograd_conv2d_forward<T>(const Conv2dParams&, const T*, const T*, const T*, T*, Workspace&, \
      const ChannelAffine<T>*, WinogradTile); \
  prefix template void winograd_conv2d_backward_input<T>(const Conv2dParams&, const T*, const T*, T*, Workspace&, \
      WinogradTile); \
  prefix template void winograd_conv2d_backward_weight<T>(const Conv2dParams&, const T*, const T*, T*, Workspace&, \
      WinogradTile);
MOODNET_KERNEL_INSTANTIATIONS(MOODNET_WINOGRAD_KERNELS)

}  // namespace moodnet::kernels
