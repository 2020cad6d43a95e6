// im2col against its definition, and col2im as its exact adjoint: <im2col(x), c> == <x, col2im(c)>.
#include "moodnet/kernels/im2col.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "../support/check.hpp"

using moodnet::kernels::Im2colShape;
namespace test = moodnet::test;

namespace {
std::vector<Im2colShape> shapes() {
  std::vector<Im2colShape> v;
  for (std::int64_t C : {1, 3})
    for (std::int64_t k : {1, 2, 3, 5})
      for (std::int64_t stride : {1, 2, 3})
        for (std::int64_t pad : {0, 1, 2}) {
          Im2colShape g{C, 7, 6, k, k + (k > 1 ? -1 : 0), stride, stride == 3 ? 1 : stride, pad, pad == 2 ? 0 : pad};
          if (g.R > g.H + 2 * g.pad_h || g.S > g.W + 2 * g.pad_w) continue;
          v.push_back(g);
        }
  return v;
}
}  // namespace

TEST_CASE("im2col writes col[(c*R+r)*S+s][oh*OW+ow] = x[c][oh*sh-ph+r][ow*sw-pw+s], 0 in the padding",
          "[kernels][im2col]") {
  for (const auto& g : shapes()) {
    INFO("C=" << g.C << " H=" << g.H << " W=" << g.W << " R=" << g.R << " S=" << g.S << " stride=" << g.stride_h << "x"
              << g.stride_w << " pad=" << g.pad_h << "x" << g.pad_w);
    const auto x = test::random_tensor<float>({g.C, g.H, g.W}, 1);
    const std::int64_t OH = g.out_h(), OW = g.out_w(), ld = g.col_cols() + 3;  // a leading dimension > cols
    std::vector<float> col(static_cast<std::size_t>(g.col_rows() * ld), 42.0f);
    moodnet::kernels::im2col(x.data(), g, col.data(), ld);
    for (std::int64_t c = 0; c < g.C; ++c)
      for (std::int64_t r = 0; r < g.R; ++r)
        for (std::int64_t s = 0; s < g.S; ++s)
          for (std::int64_t oh = 0; oh < OH; ++oh)
            for (std::int64_t ow = 0; ow < OW; ++ow) {
              const std::int64_t ih = oh * g.stride_h - g.pad_h + r, iw = ow * g.stride_w - g.pad_w + s;
              const float expected = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? x(c, ih, iw) : 0.0f;
              REQUIRE(col[static_cast<std::size_t>(((c * g.R + r) * g.S + s) * ld + oh * OW + ow)] == expected);
            }
    // the columns beyond OH*OW in each row are untouched
    for (std::int64_t row = 0; row < g.col_rows(); ++row)
      for (std::int64_t j = g.col_cols(); j < ld; ++j) REQUIRE(col[static_cast<std::size_t>(row * ld + j)] == 42.0f);
  }
}

TEST_CASE("col2im is the adjoint of im2col and accumulates", "[kernels][im2col]") {
  for (const auto& g : shapes()) {
    INFO("C=" << g.C << " R=" << g.R << " S=" << g.S << " stride=" << g.stride_h << "x" << g.stride_w << " pad="
              << g.pad_h << "x" << g.pad_w);
    const auto x = test::random_tensor<double>({g.C, g.H, g.W}, 2);
    const auto c = test::random_tensor<double>({g.col_rows(), g.col_cols()}, 3);
    const auto base = test::random_tensor<double>({g.C, g.H, g.W}, 4);
    std::vector<double> col(static_cast<std::size_t>(g.col_rows() * g.col_cols()));
    moodnet::kernels::im2col(x.data(), g, col.data());
    auto dx = base;  // col2im adds onto what is there
    moodnet::kernels::col2im(c.data(), g, dx.data());
    double lhs = 0, rhs = 0;
    for (std::size_t i = 0; i < col.size(); ++i) lhs += col[i] * c[static_cast<std::int64_t>(i)];
    for (std::int64_t i = 0; i < x.numel(); ++i) rhs += x[i] * (dx[i] - base[i]);
    REQUIRE(std::abs(lhs - rhs) <= test::kDoubleTol * std::max(1.0, std::abs(lhs)));
  }
}
