// conv2d (im2col + GEMM, 1x1 fast path, grouped; the automatic choice and forced GEMM) against the nested-loop oracle in ref::, on a grid of
// deliberately odd shapes; finite-difference gradient checks in double; bad shapes; thread-count
// independence of the gradients.
#include "moodnet/kernels/conv2d.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <sstream>
#include <vector>

#include "conv2d_check.hpp"

using moodnet::kernels::Conv2dParams;
using moodnet::Shape;
using moodnet::Tensor;
using moodnet::Workspace;
namespace test = moodnet::test;

namespace {

using test::check_against_ref;
using test::describe;

// The grid of odd shapes from the issue: every combination where the groups divide the channels.
std::vector<Conv2dParams> odd_grid() {
  std::vector<Conv2dParams> v;
  for (std::int64_t N : {1, 3})
    for (std::int64_t C : {1, 3, 15, 16, 17, 33})
      for (std::int64_t k : {1, 3, 5})
        for (std::int64_t stride : {1, 2})
          for (std::int64_t pad : {0, 1})
            for (std::int64_t groups : {std::int64_t(1), std::int64_t(4), C}) {
              if (C % groups || (groups == C && C == 1)) continue;  // groups = C = 1 is dense again
              Conv2dParams p;
              p.N = N, p.C = C, p.H = 17, p.W = 13, p.R = p.S = k;
              p.stride_h = p.stride_w = stride, p.pad_h = p.pad_w = pad, p.groups = groups;
              // Output channels: odd for dense, 2 per group for grouped, 1 per channel for depthwise
              // (2 for C = 3: a channel multiplier).
              p.K = groups == 1 ? 7 : groups == C ? (C == 3 ? 6 : C) : 2 * groups;
              v.push_back(p);
            }
  return v;
}

}  // namespace

TEST_CASE("conv2d matches the oracle on a grid of odd shapes (float)", "[kernels][conv2d]") {
  const auto grid = odd_grid();
  REQUIRE(grid.size() > 200);
  std::uint64_t seed = 100;
  for (auto p : grid) {
    for (bool bias : {false, true}) check_against_ref<float>(p, bias, test::kFloatTol, seed += 10);
    // Grouped and larger dense shapes go to the direct path by default (tests/kernels/conv2d_direct.cpp):
    // the GEMM path on every shape too.
    p.algo = moodnet::kernels::Conv2dAlgo::gemm;
    check_against_ref<float>(p, true, test::kFloatTol, seed += 10);
  }
}

TEST_CASE("conv2d matches the oracle in double", "[kernels][conv2d]") {
  std::uint64_t seed = 5000;
  const auto grid = odd_grid();
  for (std::size_t i = 0; i < grid.size(); i += 7) check_against_ref<double>(grid[i], i % 2, test::kDoubleTol, seed += 10);
}

TEST_CASE("conv2d matches the oracle at 48x48 (the networks' input size)", "[kernels][conv2d]") {
  Conv2dParams dense{.N = 3, .C = 16, .H = 48, .W = 48, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1};
  check_against_ref<float>(dense, true, test::kFloatTol, 7);
  Conv2dParams pointwise{.N = 3, .C = 33, .H = 48, .W = 48, .K = 17, .R = 1, .S = 1};
  check_against_ref<float>(pointwise, false, test::kFloatTol, 8);
  Conv2dParams first{.N = 1, .C = 1, .H = 48, .W = 48, .K = 32, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2,
                     .pad_h = 1, .pad_w = 1};
  check_against_ref<float>(first, true, test::kFloatTol, 9);
}

TEST_CASE("conv2d covers non-square kernels, strides and paddings", "[kernels][conv2d]") {
  Conv2dParams p{.N = 2, .C = 6, .H = 11, .W = 9, .K = 4, .R = 3, .S = 1, .stride_h = 2, .stride_w = 1,
                 .pad_h = 0, .pad_w = 2, .groups = 2};
  check_against_ref<float>(p, true, test::kFloatTol, 11);
  check_against_ref<double>(p, true, test::kDoubleTol, 12);
  Conv2dParams q{.N = 1, .C = 3, .H = 7, .W = 13, .K = 5, .R = 2, .S = 4, .stride_h = 3, .stride_w = 2,
                 .pad_h = 2, .pad_w = 1};
  check_against_ref<double>(q, false, test::kDoubleTol, 13);
}

// Finite differences of L = sum(w_y * y) in double, against the optimized backward kernels.
TEST_CASE("conv2d gradients match finite differences (double)", "[kernels][conv2d][gradient]") {
  const Conv2dParams configs[] = {
      {.N = 2, .C = 3, .H = 5, .W = 6, .K = 4, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 2, .C = 4, .H = 7, .W = 5, .K = 6, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .groups = 2},
      {.N = 1, .C = 3, .H = 4, .W = 5, .K = 3, .R = 1, .S = 1},  // 1x1 fast path
      {.N = 2, .C = 4, .H = 6, .W = 6, .K = 4, .R = 3, .S = 3, .stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 1,
       .groups = 4},  // depthwise
  };
  std::uint64_t seed = 900;
  for (const auto& p : configs) {
    INFO(describe(p, true));
    auto x = test::random_tensor<double>(p.input_shape(), seed++);
    auto w = test::random_tensor<double>(p.weight_shape(), seed++);
    auto b = test::random_tensor<double>(Shape{p.K}, seed++);
    const auto wy = test::random_tensor<double>(p.output_shape(), seed++);  // dL/dy
    Workspace ws;
    Tensor<double> y(p.output_shape());
    auto loss = [&] {
      moodnet::kernels::conv2d_forward<double>(p, x, w, b.data(), y, ws);
      return test::weighted_sum(y.data(), wy.data(), y.numel());
    };
    Tensor<double> dx(p.input_shape()), dw(p.weight_shape()), db(Shape{p.K});
    moodnet::kernels::conv2d_backward_input<double>(p, wy, w, dx, ws);
    moodnet::kernels::conv2d_backward_weight<double>(p, x, wy, dw, ws);
    moodnet::kernels::conv2d_backward_bias<double>(p, wy, db);

    const auto gx = test::numeric_gradient(x.data(), x.numel(), loss);
    const auto gw = test::numeric_gradient(w.data(), w.numel(), loss);
    const auto gb = test::numeric_gradient(b.data(), b.numel(), loss);
    const auto sx = test::compare(dx.data(), gx.data(), dx.numel());
    const auto sw = test::compare(dw.data(), gw.data(), dw.numel());
    const auto sb = test::compare(db.data(), gb.data(), db.numel());
    INFO("dx max abs " << sx.max_abs << ", dw max abs " << sw.max_abs << ", db max abs " << sb.max_abs);
    CHECK(sx.max_rel <= test::kFdTol);
    CHECK(sw.max_rel <= test::kFdTol);
    CHECK(sb.max_rel <= test::kFdTol);
  }
}

TEST_CASE("conv2d gradients are bit-identical with 1 and 2 threads", "[kernels][conv2d][threads]") {
  const int saved = moodnet::num_threads();
  const Conv2dParams configs[] = {
      {.N = 8, .C = 16, .H = 12, .W = 12, .K = 24, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 3, .C = 17, .H = 17, .W = 13, .K = 5, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2},
      {.N = 1, .C = 64, .H = 24, .W = 24, .K = 64, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},
      {.N = 7, .C = 32, .H = 9, .W = 9, .K = 48, .R = 1, .S = 1},
      {.N = 5, .C = 16, .H = 10, .W = 10, .K = 8, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1, .groups = 4},
  };
  std::uint64_t seed = 300;
  for (const auto& p : configs) {
    INFO(describe(p, true));
    const auto x = test::random_tensor<float>(p.input_shape(), seed++);
    const auto w = test::random_tensor<float>(p.weight_shape(), seed++);
    const auto dy = test::random_tensor<float>(p.output_shape(), seed++);
    Tensor<float> dx[2], dw[2], db[2];
    for (int t : {1, 2}) {
      moodnet::set_num_threads(t);
      Workspace ws;
      dx[t - 1] = Tensor<float>(p.input_shape());
      dw[t - 1] = test::random_tensor<float>(p.weight_shape(), 77);
      db[t - 1] = test::random_tensor<float>(Shape{p.K}, 78);
      moodnet::kernels::conv2d_backward_input<float>(p, dy, w, dx[t - 1], ws);
      moodnet::kernels::conv2d_backward_weight<float>(p, x, dy, dw[t - 1], ws);
      moodnet::kernels::conv2d_backward_bias<float>(p, dy, db[t - 1]);
    }
    CHECK(std::memcmp(dx[0].data(), dx[1].data(), sizeof(float) * dx[0].numel()) == 0);
    CHECK(std::memcmp(dw[0].data(), dw[1].data(), sizeof(float) * dw[0].numel()) == 0);
    CHECK(std::memcmp(db[0].data(), db[1].data(), sizeof(float) * db[0].numel()) == 0);
  }
  moodnet::set_num_threads(saved);
}

// A batch of one (predict) and other batches of fewer than 4 sample blocks split each block into fixed
// GEMM tiles across the threads: the bits must not depend on the thread count.
TEST_CASE("conv2d forward of a batch of one is bit-identical with 1 and 2 threads", "[kernels][conv2d][threads]") {
  const int saved = moodnet::num_threads();
  const Conv2dParams configs[] = {
      {.N = 1, .C = 1, .H = 48, .W = 48, .K = 32, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},      // first layer
      {.N = 1, .C = 64, .H = 24, .W = 24, .K = 130, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},    // 3 row tiles
      {.N = 1, .C = 96, .H = 17, .W = 13, .K = 70, .R = 1, .S = 1},                              // pointwise
      {.N = 1, .C = 32, .H = 12, .W = 12, .K = 64, .R = 1, .S = 1, .stride_h = 2, .stride_w = 2},
      {.N = 3, .C = 128, .H = 6, .W = 6, .K = 100, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1},    // 3 samples per GEMM
      {.N = 2, .C = 16, .H = 48, .W = 48, .K = 24, .R = 3, .S = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1,
       .pad_w = 1, .groups = 2, .algo = moodnet::kernels::Conv2dAlgo::gemm},
  };
  std::uint64_t seed = 600;
  for (const auto& p : configs) {
    INFO(describe(p, true));
    const auto x = test::random_tensor<float>(p.input_shape(), seed++);
    const auto w = test::random_tensor<float>(p.weight_shape(), seed++);
    const auto b = test::random_tensor<float>(Shape{p.K}, seed++);
    Tensor<float> y[2];
    for (int t : {1, 2}) {
      moodnet::set_num_threads(t);
      Workspace ws;
      y[t - 1] = Tensor<float>(p.output_shape());
      moodnet::kernels::conv2d_forward<float>(p, x, w, b.data(), y[t - 1], ws);
    }
    CHECK(std::memcmp(y[0].data(), y[1].data(), sizeof(float) * y[0].numel()) == 0);
    check_against_ref<float>(p, true, test::kFloatTol, seed++);
  }
  moodnet::set_num_threads(saved);
}

TEST_CASE("conv2d reuses its workspace: a repeated call allocates nothing", "[kernels][conv2d]") {
  const Conv2dParams p{.N = 4, .C = 8, .H = 10, .W = 10, .K = 8, .R = 3, .S = 3, .pad_h = 1, .pad_w = 1};
  const auto x = test::random_tensor<float>(p.input_shape(), 1);
  const auto w = test::random_tensor<float>(p.weight_shape(), 2);
  Tensor<float> y(p.output_shape()), dx(p.input_shape()), dw(p.weight_shape());
  Workspace ws;
  auto step = [&] {
    moodnet::kernels::conv2d_forward<float>(p, x, w, nullptr, y, ws);
    moodnet::kernels::conv2d_backward_input<float>(p, y, w, dx, ws);
    moodnet::kernels::conv2d_backward_weight<float>(p, x, y, dw, ws);
  };
  step();
  const auto bytes = ws.bytes();
  const int slots = ws.slots();
  REQUIRE(bytes > 0);
  const float* slot0 = ws.get<float>(0, 1);
  step();
  CHECK(ws.bytes() == bytes);
  CHECK(ws.slots() == slots);
  CHECK(ws.get<float>(0, 1) == slot0);
}

TEST_CASE("conv2d rejects bad shapes with a message naming the values", "[kernels][conv2d][errors]") {
  Workspace ws;
  Conv2dParams p{.N = 1, .C = 3, .H = 5, .W = 5, .K = 4, .R = 3, .S = 3};
  REQUIRE_NOTHROW(p.validate());
  CHECK(p.out_h() == 3);
  CHECK(p.out_w() == 3);

  // groups that do not divide C (or K)
  Conv2dParams g = p;
  g.groups = 2;
  REQUIRE_THROWS_AS(g.validate(), moodnet::Error);
  REQUIRE_THROWS_WITH(g.validate(), Catch::Contains("groups=2") && Catch::Contains("C=3") && Catch::Contains("K=4"));
  g.C = 4, g.K = 3;
  REQUIRE_THROWS_WITH(g.validate(), Catch::Contains("groups=2") && Catch::Contains("K=3"));

  // kernel larger than the padded input
  Conv2dParams k = p;
  k.R = k.S = 7;
  REQUIRE_THROWS_WITH(k.validate(), Catch::Contains("kernel 7x7") && Catch::Contains("padded input 5x5"));
  k.pad_h = k.pad_w = 1;
  REQUIRE_NOTHROW(k.validate());
  k.W = 2;  // padded 4 < 7
  REQUIRE_THROWS_WITH(k.validate(), Catch::Contains("kernel 7x7") && Catch::Contains("7x4") && Catch::Contains("W=2"));

  // non-positive sizes, negative padding
  Conv2dParams z = p;
  z.C = 0;
  REQUIRE_THROWS_WITH(z.validate(), Catch::Contains("C=0"));
  z = p;
  z.stride_w = 0;
  REQUIRE_THROWS_WITH(z.validate(), Catch::Contains("stride=1x0"));
  z = p;
  z.pad_h = -1;
  REQUIRE_THROWS_WITH(z.validate(), Catch::Contains("pad=-1x0"));

  // tensors whose channels do not match the parameters
  Tensor<float> x({1, 4, 5, 5}), w(p.weight_shape()), y(p.output_shape());
  REQUIRE_THROWS_WITH(moodnet::kernels::conv2d_forward<float>(p, x, w, nullptr, y, ws),
                      Catch::Contains("input x has shape [1, 4, 5, 5], expected [1, 3, 5, 5]"));
  Tensor<float> x_ok(p.input_shape()), w_bad({4, 2, 3, 3});
  REQUIRE_THROWS_WITH(moodnet::kernels::conv2d_forward<float>(p, x_ok, w_bad, nullptr, y, ws),
                      Catch::Contains("weight w has shape [4, 2, 3, 3], expected [4, 3, 3, 3]"));
  Tensor<float> dx(p.input_shape()), dy_bad({1, 5, 3, 3});
  REQUIRE_THROWS_WITH(moodnet::kernels::conv2d_backward_input<float>(p, dy_bad, w, dx, ws),
                      Catch::Contains("dy has shape [1, 5, 3, 3], expected [1, 4, 3, 3]"));
  REQUIRE_THROWS_WITH(moodnet::kernels::conv2d_backward_weight<float>(p, x, y, w, ws), Catch::Contains("[1, 4, 5, 5]"));
  Tensor<float> db({3});
  REQUIRE_THROWS_WITH(moodnet::kernels::conv2d_backward_bias<float>(p, y, db), Catch::Contains("db has shape [3], expected [4]"));
}
