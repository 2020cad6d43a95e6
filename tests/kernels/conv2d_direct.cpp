// The direct (shifted-plane) convolution, forced with Conv2dAlgo::direct, against the nested-loop
// oracle in ref:: on odd shapes (channels per group 1..33, odd sizes, strides 1-3, paddings 0-2,
// 1x1 to 5x5 and non-square kernels, N = 1 and 3), in float and double; finite differences in
// double; bit-identical results for 1 and 2 threads; the automatic choice.
#include "moodnet/kernels/conv2d.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "conv2d_check.hpp"

using moodnet::Shape;
using moodnet::Tensor;
using moodnet::Workspace;
using moodnet::kernels::Conv2dAlgo;
using moodnet::kernels::Conv2dParams;
namespace kn = moodnet::kernels;
namespace test = moodnet::test;

namespace {

using test::describe;

// All four passes of the direct path (bias included) against the oracle in double.
template <class T>
void check_direct(Conv2dParams p, double tol, std::uint64_t seed) {
  p.algo = Conv2dAlgo::direct;
  test::check_against_ref<T>(p, true, tol, seed);
}

Conv2dParams direct_params(std::int64_t N, std::int64_t groups, std::int64_t cg, std::int64_t kg, std::int64_t H,
                  std::int64_t W, std::int64_t R, std::int64_t S, std::int64_t stride, std::int64_t pad) {
  Conv2dParams p;
  p.N = N, p.C = groups * cg, p.K = groups * kg, p.H = H, p.W = W, p.R = R, p.S = S;
  p.stride_h = p.stride_w = stride, p.pad_h = p.pad_w = pad, p.groups = groups;
  return p;
}

// Channels per group 1..33 (in and out), odd sizes, the 3x3 pad-1 layers of ResNeXt at stride 1 and
// 2 and the 1x1 projections, plus 5x5, stride 3 and pad 2.
std::vector<Conv2dParams> odd_direct_grid() {
  std::vector<Conv2dParams> v;
  const std::int64_t cgs[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 32, 33};
  std::int64_t i = 0;
  for (std::int64_t cg : cgs)
    for (std::int64_t groups : {1, 3, 8})
      for (std::int64_t stride : {1, 2}) {
        const std::int64_t kg = cgs[(i++ * 5) % 12];  // a different output width per case
        const std::int64_t N = i % 2 ? 1 : 3;
        if (groups * cg > 100) continue;  // keep the oracle quick
        v.push_back(direct_params(N, groups, cg, kg, 9 + (i % 3), 7 + 2 * (i % 4), 3, 3, stride, 1));
      }
  for (std::int64_t N : {1, 3})
    for (std::int64_t k : {1, 3, 5})
      for (std::int64_t stride : {1, 2, 3})
        for (std::int64_t pad : {0, 1, 2}) {
          if (k == 1 && pad > 0) continue;
          v.push_back(direct_params(N, 3, 5, 3, 13, 11, k, k, stride, pad));
          v.push_back(direct_params(N, 2, 1, 7, 6, 6, k, k, stride, pad));
        }
  return v;
}

}  // namespace

TEST_CASE("direct conv2d matches the oracle on odd shapes (float)", "[kernels][conv2d][direct]") {
  const auto grid = odd_direct_grid();
  REQUIRE(grid.size() > 80);
  std::uint64_t seed = 1;
  for (const auto& p : grid) check_direct<float>(p, test::kFloatTol, seed += 10);
}

TEST_CASE("direct conv2d matches the oracle in double", "[kernels][conv2d][direct]") {
  const auto grid = odd_direct_grid();
  std::uint64_t seed = 7000;
  for (std::size_t i = 0; i < grid.size(); i += 3) check_direct<double>(grid[i], test::kDoubleTol, seed += 10);
}

TEST_CASE("direct conv2d covers non-square kernels, strides and paddings", "[kernels][conv2d][direct]") {
  const Conv2dParams cases[] = {
      {.N = 2, .C = 6, .H = 11, .W = 9, .K = 4, .R = 3, .S = 1, .stride_h = 2, .stride_w = 1, .pad_h = 0, .pad_w = 2,
       .groups = 2},
      {.N = 1, .C = 3, .H = 7, .W = 13, .K = 5, .R = 2, .S = 4, .stride_h = 3, .stride_w = 2, .pad_h = 2, .pad_w = 1},
      {.N = 3, .C = 4, .H = 5, .W = 12, .K = 8, .R = 5, .S = 3, .stride_h = 1, .stride_w = 3, .pad_h = 2, .pad_w = 0,
       .groups = 4},
      // the ResNeXt-48 shapes at a small batch: 8 groups of 4 at 48x48, of 32 at 6x6 (stride 2 from 12x12)
      {.N = 3, .C = 32, .H = 48, .W = 48, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1, .groups = 8},
      {.N = 3, .C = 256, .H = 12, .W = 12, .K = 256, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1,
       .pad_w = 1, .groups = 8},
      // a 1x1 stride-2 projection shortcut
      {.N = 3, .C = 32, .H = 24, .W = 24, .K = 64, .R = 1, .S = 1, .stride_h = 2, .stride_w = 2},
  };
  std::uint64_t seed = 300;
  for (const auto& p : cases) {
    check_direct<float>(p, test::kFloatTol, seed += 10);
    check_direct<double>(p, test::kDoubleTol, seed += 10);
  }
}

// Finite differences of L = sum(wy * y) in double, against the direct backward passes.
TEST_CASE("direct conv2d gradients match finite differences (double)", "[kernels][conv2d][direct][gradient]") {
  const Conv2dParams configs[] = {
      direct_params(2, 2, 3, 2, 5, 6, 3, 3, 1, 1),
      direct_params(2, 3, 2, 3, 7, 5, 3, 3, 2, 1),
      direct_params(1, 2, 3, 4, 6, 7, 1, 1, 2, 0),
      direct_params(3, 1, 5, 3, 4, 5, 3, 3, 1, 1),
      direct_params(1, 2, 1, 1, 8, 7, 5, 5, 3, 2),
  };
  std::uint64_t seed = 900;
  for (Conv2dParams p : configs) {
    p.algo = Conv2dAlgo::direct;
    INFO(describe(p));
    auto x = test::random_tensor<double>(p.input_shape(), seed++);
    auto w = test::random_tensor<double>(p.weight_shape(), seed++);
    const auto wy = test::random_tensor<double>(p.output_shape(), seed++);  // dL/dy
    Workspace ws;
    Tensor<double> y(p.output_shape());
    auto loss = [&] {
      kn::conv2d_forward<double>(p, x, w, nullptr, y, ws);
      return test::weighted_sum(y.data(), wy.data(), y.numel());
    };
    Tensor<double> dx(p.input_shape()), dw(p.weight_shape());
    kn::conv2d_backward_input<double>(p, wy, w, dx, ws);
    kn::conv2d_backward_weight<double>(p, x, wy, dw, ws);
    const auto gx = test::numeric_gradient(x.data(), x.numel(), loss);
    const auto gw = test::numeric_gradient(w.data(), w.numel(), loss);
    const auto sx = test::compare(dx.data(), gx.data(), dx.numel());
    const auto sw = test::compare(dw.data(), gw.data(), dw.numel());
    INFO("dx max abs " << sx.max_abs << ", dw max abs " << sw.max_abs);
    CHECK(sx.max_rel <= test::kFdTol);
    CHECK(sw.max_rel <= test::kFdTol);
  }
}

TEST_CASE("direct conv2d is bit-identical with 1 and 2 threads, N = 1 included", "[kernels][conv2d][direct][threads]") {
  const int saved = moodnet::num_threads();
  const Conv2dParams configs[] = {
      direct_params(1, 8, 4, 4, 48, 48, 3, 3, 1, 1),  direct_params(5, 8, 8, 8, 24, 24, 3, 3, 2, 1),
      direct_params(7, 8, 32, 32, 6, 6, 3, 3, 1, 1), direct_params(3, 1, 16, 24, 12, 12, 1, 1, 2, 0),
      direct_params(9, 3, 5, 7, 13, 11, 3, 3, 1, 1),
  };
  std::uint64_t seed = 40;
  for (Conv2dParams p : configs) {
    p.algo = Conv2dAlgo::direct;
    INFO(describe(p));
    const auto x = test::random_tensor<float>(p.input_shape(), seed++);
    const auto w = test::random_tensor<float>(p.weight_shape(), seed++);
    const auto dy = test::random_tensor<float>(p.output_shape(), seed++);
    Tensor<float> y[2], dx[2], dw[2];
    for (int t : {1, 2}) {
      moodnet::set_num_threads(t);
      Workspace ws;
      y[t - 1] = Tensor<float>(p.output_shape());
      dx[t - 1] = Tensor<float>(p.input_shape());
      dw[t - 1] = test::random_tensor<float>(p.weight_shape(), 77);
      kn::conv2d_forward<float>(p, x, w, nullptr, y[t - 1], ws);
      kn::conv2d_backward_input<float>(p, dy, w, dx[t - 1], ws);
      kn::conv2d_backward_weight<float>(p, x, dy, dw[t - 1], ws);
    }
    CHECK(std::memcmp(y[0].data(), y[1].data(), sizeof(float) * y[0].numel()) == 0);
    CHECK(std::memcmp(dx[0].data(), dx[1].data(), sizeof(float) * dx[0].numel()) == 0);
    CHECK(std::memcmp(dw[0].data(), dw[1].data(), sizeof(float) * dw[0].numel()) == 0);
  }
  moodnet::set_num_threads(saved);
}

TEST_CASE("direct conv2d reuses its workspace: a repeated call allocates nothing", "[kernels][conv2d][direct]") {
  Conv2dParams p = direct_params(5, 4, 4, 4, 10, 10, 3, 3, 2, 1);
  p.algo = Conv2dAlgo::direct;
  const auto x = test::random_tensor<float>(p.input_shape(), 1);
  const auto w = test::random_tensor<float>(p.weight_shape(), 2);
  Tensor<float> y(p.output_shape()), dx(p.input_shape()), dw(p.weight_shape());
  Workspace ws;
  auto step = [&] {
    kn::conv2d_forward<float>(p, x, w, nullptr, y, ws);
    kn::conv2d_backward_input<float>(p, y, w, dx, ws);
    kn::conv2d_backward_weight<float>(p, x, y, dw, ws);
  };
  step();
  const auto bytes = ws.bytes();
  const int slots = ws.slots();
  step();
  CHECK(ws.bytes() == bytes);
  CHECK(ws.slots() == slots);
}

TEST_CASE("conv2d picks the direct path where it measured faster", "[kernels][conv2d][direct]") {
  using kn::Conv2dPass;
  const Conv2dPass all[] = {Conv2dPass::forward, Conv2dPass::backward_input, Conv2dPass::backward_weight};
  for (Conv2dPass pass : all) {
    CHECK(kn::conv2d_use_direct(direct_params(64, 8, 4, 4, 48, 48, 3, 3, 1, 1), pass));    // grouped, few channels per group
    CHECK(kn::conv2d_use_direct(direct_params(64, 8, 32, 32, 12, 12, 3, 3, 2, 1), pass));
    CHECK(kn::conv2d_use_direct<double>(direct_params(64, 8, 4, 4, 48, 48, 3, 3, 1, 1), pass));
    // dense 3x3 at 48x48: with the AVX-512 float tiles only (else Eigen's GEMM is faster)
    CHECK(kn::conv2d_use_direct(direct_params(64, 1, 32, 32, 48, 48, 3, 3, 1, 1), pass) == kn::kHaveDirectTiles<float>);
    CHECK_FALSE(kn::conv2d_use_direct<double>(direct_params(64, 1, 32, 32, 48, 48, 3, 3, 1, 1), pass));
    CHECK_FALSE(kn::conv2d_use_direct(direct_params(64, 1, 256, 256, 6, 6, 3, 3, 1, 1), pass));  // dense at 6x6
    CHECK_FALSE(kn::conv2d_use_direct(direct_params(64, 1, 64, 128, 48, 48, 1, 1, 2, 0), pass)); // 1x1 projection
    CHECK_FALSE(kn::conv2d_use_direct(direct_params(64, 1, 64, 64, 24, 24, 1, 1, 1, 0), pass));  // pointwise
  }
  const Conv2dParams at12 = direct_params(64, 1, 128, 128, 12, 12, 3, 3, 1, 1);
  CHECK(kn::conv2d_use_direct(at12, Conv2dPass::forward) == kn::kHaveDirectTiles<float>);
  CHECK_FALSE(kn::conv2d_use_direct(at12, Conv2dPass::backward_weight));
  const Conv2dParams stem = direct_params(64, 1, 1, 32, 48, 48, 3, 3, 1, 1);  // one input channel: 9 taps
  CHECK_FALSE(kn::conv2d_use_direct(stem, Conv2dPass::forward));
  CHECK(kn::conv2d_use_direct(stem, Conv2dPass::backward_weight) == kn::kHaveDirectTiles<float>);

  Conv2dParams forced = direct_params(64, 8, 4, 4, 48, 48, 3, 3, 1, 1);
  forced.algo = Conv2dAlgo::gemm;
  CHECK_FALSE(kn::conv2d_use_direct(forced, Conv2dPass::forward));
  forced = direct_params(64, 1, 256, 256, 6, 6, 1, 1, 1, 0);
  forced.algo = Conv2dAlgo::direct;
  CHECK(kn::conv2d_use_direct(forced, Conv2dPass::backward_weight));
  Conv2dParams wide = direct_params(1, 1, 2, 2, 40, 40, 3, 3, 5, 1);  // 25 phases
  CHECK_FALSE(kn::conv2d_use_direct(wide, Conv2dPass::forward));
  wide.algo = Conv2dAlgo::direct;
  REQUIRE_THROWS_WITH(kn::conv2d_use_direct(wide, Conv2dPass::forward), Catch::Contains("stride 5x5"));
}
