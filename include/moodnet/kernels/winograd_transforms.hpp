#pragma once
// The Winograd minimal-filtering transforms F(m x m, 3 x 3) for m = 2 and 4 (Lavin & Gray 2016), and
// the tile transforms kernels/winograd.hpp builds its three passes from. With alpha = m + 2, one
// output tile Y [m, m] of a 3x3 correlation of an input tile d [alpha, alpha] with a filter g [3, 3] is
//
//   Y = A^T [ (G g G^T) .* (B^T d B) ] A          .* = elementwise, over the alpha^2 "frequencies"
//
//   F(2x2, 3x3), alpha = 4 (interpolation points 0, 1, -1, inf):
//     B^T = [1  0 -1  0]     G = [ 1    0    0 ]     A^T = [1  1  1  0]
//           [0  1  1  0]         [1/2  1/2  1/2]           [0  1 -1 -1]
//           [0 -1  1  0]         [1/2 -1/2  1/2]
//           [0  1  0 -1]         [ 0    0    1 ]
//   F(4x4, 3x3), alpha = 6 (points 0, 1, -1, 2, -2, inf): the matrices below. Its constants reach 8 in
//   A^T and 5 in B^T, so float rounding errors grow by about an order of magnitude over F(2x2, 3x3)
//   (the figures are in docs/kernels.md, measured by tests/kernels/winograd.cpp).
//
// The transposed identities give the other transforms (both are exact in real arithmetic):
//   weight gradient: sum(dY .* Y) = <G^T [(A dY A^T) .* (B^T d B)] G, g>, so per tile
//                    dg += G^T [ (A dY A^T) .* (B^T d B) ] G        (dY [m, m], zero past the output)
//
// Every 2-D transform is two 1-D passes (columns, then rows) of a constant matrix. They run on
// `lanes` tiles at once: a tile is stored element-major, element e of lane l at buf[e * L + l], so
// each term of the constant matrix is one loop over L contiguous values that the compiler
// vectorises (one zmm of floats with AVX-512). Terms with coefficient 0 are skipped and +-1 need no
// multiply, at compile time (the matrices are template arguments).
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace moodnet::kernels::winograd_detail {

template <std::size_t Rows, std::size_t Cols>
using Matrix = std::array<std::array<double, Cols>, Rows>;

template <std::size_t Rows, std::size_t Cols>
constexpr Matrix<Cols, Rows> transpose(const Matrix<Rows, Cols>& m) {
  Matrix<Cols, Rows> t{};
  for (std::size_t i = 0; i < Rows; ++i)
    for (std::size_t j = 0; j < Cols; ++j) t[j][i] = m[i][j];
  return t;
}

template <int M>
struct Transforms;

template <>
struct Transforms<2> {
  static constexpr int kAlpha = 4;
  static constexpr Matrix<4, 4> BT = {{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
  static constexpr Matrix<4, 3> G = {{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}};
  static constexpr Matrix<2, 4> AT = {{{1, 1, 1, 0}, {0, 1, -1, -1}}};
  static constexpr Matrix<3, 4> GT = transpose(G);
  static constexpr Matrix<4, 2> A = transpose(AT);
};

template <>
struct Transforms<4> {
  static constexpr int kAlpha = 6;
  static constexpr Matrix<6, 6> BT = {{{4, 0, -5, 0, 1, 0},
                                       {0, -4, -4, 1, 1, 0},
                                       {0, 4, -4, -1, 1, 0},
                                       {0, -2, -1, 2, 1, 0},
                                       {0, 2, -1, -2, 1, 0},
                                       {0, 4, 0, -5, 0, 1}}};
  static constexpr Matrix<6, 3> G = {{{1.0 / 4, 0, 0},
                                      {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                      {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                      {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                      {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                      {0, 0, 1}}};
  static constexpr Matrix<4, 6> AT = {
      {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}};
  static constexpr Matrix<3, 6> GT = transpose(G);
  static constexpr Matrix<6, 4> A = transpose(AT);
};

// acc += Mat[I][J] * x over L lanes (nothing for a zero coefficient, no multiply for +-1).
template <const auto& Mat, int I, int J, int L, class T>
inline void add_term(T* __restrict acc, const T* __restrict x) {
  constexpr double c = Mat[I][J];
  if constexpr (c == 1.0) {
    for (int l = 0; l < L; ++l) acc[l] += x[l];
  } else if constexpr (c == -1.0) {
    for (int l = 0; l < L; ++l) acc[l] -= x[l];
  } else if constexpr (c != 0.0) {
    for (int l = 0; l < L; ++l) acc[l] += T(c) * x[l];
  }
}

// acc = row I of Mat times the elements in + J*in_step (J = 0 .. columns - 1), lane by lane.
template <const auto& Mat, int I, int L, class T, int... J>
inline void apply_row(const T* __restrict in, std::ptrdiff_t in_step, T* __restrict acc,
                      std::integer_sequence<int, J...>) {
  for (int l = 0; l < L; ++l) acc[l] = T(0);
  (add_term<Mat, I, J, L>(acc, in + J * in_step), ...);
}

template <const auto& Mat, int L, class T, int... I>
inline void apply_rows(const T* __restrict in, std::ptrdiff_t in_step, T* __restrict out, std::ptrdiff_t out_step,
                       std::integer_sequence<int, I...>) {
  constexpr int cols = static_cast<int>(std::tuple_size_v<std::remove_cvref_t<decltype(Mat[0])>>);
  (apply_row<Mat, I, L>(in, in_step, out + I * out_step, std::make_integer_sequence<int, cols>{}), ...);
}

// out[i] = sum_j Mat[i][j] * in[j] for the L lanes of each element: element j of the input at
// in + j*in_step, element i of the output at out + i*out_step (each L contiguous values).
template <const auto& Mat, int L, class T>
inline void apply_matrix(const T* __restrict in, std::ptrdiff_t in_step, T* __restrict out, std::ptrdiff_t out_step) {
  constexpr int rows = static_cast<int>(std::tuple_size_v<std::remove_cvref_t<decltype(Mat)>>);
  apply_rows<Mat, L>(in, in_step, out, out_step, std::make_integer_sequence<int, rows>{});
}

// out = Left * in * Left^T for L lanes: in [c, c] element-major (element (r, s) at (r*c + s)*L),
// Left [o, c], out [o, o]; tmp holds o*c*L values. Every tile transform is this one, with
// Left = B^T (input), G (filter), A^T (output), A (output gradient), G^T (filter gradient).
template <const auto& Left, int L, class T>
inline void transform_2d(const T* __restrict in, T* __restrict tmp, T* __restrict out) {
  constexpr int o = static_cast<int>(std::tuple_size_v<std::remove_cvref_t<decltype(Left)>>);
  constexpr int c = static_cast<int>(std::tuple_size_v<std::remove_cvref_t<decltype(Left[0])>>);
  for (int s = 0; s < c; ++s) apply_matrix<Left, L>(in + s * L, c * L, tmp + s * L, c * L);  // tmp [o, c]
  for (int i = 0; i < o; ++i) apply_matrix<Left, L>(tmp + i * c * L, L, out + i * o * L, L);   // out [o, o]
}

}  // namespace moodnet::kernels::winograd_detail
