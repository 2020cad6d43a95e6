#include "moodnet/kernels/pooling.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../support/check.hpp"
#include "../support/dwpool_grad.hpp"
#include "moodnet/kernels/ref/pooling.hpp"

using namespace moodnet;
using kernels::GlobalPoolParams;
using kernels::Pool2dParams;

namespace {

Pool2dParams pool_params(std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t W, std::int64_t k, std::int64_t s,
                  std::int64_t pad) {
  return {N, C, H, W, k, k, s, s, pad, pad};
}

// The pooling configurations of the brief: 2x2 s2, 3x3 s2 p1, 3x3 s1 p1, a rectangular one.
std::vector<Pool2dParams> configs(std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t W) {
  return {pool_params(N, C, H, W, 2, 2, 0), pool_params(N, C, H, W, 3, 2, 1), pool_params(N, C, H, W, 3, 1, 1),
          {N, C, H, W, 3, 2, 1, 2, 1, 1}};
}

template <class T>
void compare_with_ref(const Pool2dParams& p) {
  INFO("N=" << p.N << " C=" << p.C << " H=" << p.H << " W=" << p.W << " k=" << p.kernel_h << "x" << p.kernel_w
            << " s=" << p.stride_h << "," << p.stride_w << " pad=" << p.pad_h << "," << p.pad_w);
  const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()};
  const auto x = test::random_tensor<T>(xs, 31), dy = test::random_tensor<T>(ys, 32);
  Tensor<T> y(ys), y_ref(ys), dx(xs), dx_ref(xs);
  Tensor<std::int32_t> a(ys), a_ref(ys);
  kernels::max_pool2d_forward(p, x.data(), y.data(), a.data());
  kernels::ref::max_pool2d_forward(p, x.data(), y_ref.data(), a_ref.data());
  MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), 0.0);
  for (std::int64_t i = 0; i < a.numel(); ++i) REQUIRE(a[i] == a_ref[i]);
  dx.fill(T(9));  // overwritten
  kernels::max_pool2d_backward(p, dy.data(), a.data(), dx.data());
  kernels::ref::max_pool2d_backward(p, dy.data(), a_ref.data(), dx_ref.data());
  MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), test::kDoubleTol);

  kernels::avg_pool2d_forward(p, x.data(), y.data());
  kernels::ref::avg_pool2d_forward(p, x.data(), y_ref.data());
  MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), test::kFloatTol);
  dx.fill(T(9));
  kernels::avg_pool2d_backward(p, dy.data(), dx.data());
  kernels::ref::avg_pool2d_backward(p, dy.data(), dx_ref.data());
  MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), test::kFloatTol);
}

}  // namespace

TEST_CASE("pooling: max and average match ref on odd shapes", "[kernels][pooling]") {
  for (std::int64_t N : {1, 3})
    for (std::int64_t C : {1, 3, 16, 17})
      for (auto p : configs(N, C, 17, 13)) {
        compare_with_ref<float>(p);
        compare_with_ref<double>(p);
      }
  for (auto p : configs(3, 15, 48, 48)) compare_with_ref<float>(p);
  compare_with_ref<float>(pool_params(2, 33, 7, 5, 2, 2, 0));  // odd size: last row/column dropped
  compare_with_ref<double>(pool_params(1, 3, 1, 1, 1, 1, 0));
}

TEST_CASE("pooling: known values, count_include_pad and argmax", "[kernels][pooling]") {
  // x = 0..15 on a 4x4 plane.
  std::vector<double> x(16);
  for (int i = 0; i < 16; ++i) x[i] = i;
  std::vector<double> y(4);
  std::vector<std::int32_t> a(4);
  kernels::max_pool2d_forward(pool_params(1, 1, 4, 4, 2, 2, 0), x.data(), y.data(), a.data());
  CHECK(y == std::vector<double>{5, 7, 13, 15});
  CHECK(a == std::vector<std::int32_t>{5, 7, 13, 15});
  // 3x3 s2 p1 average on 4x4: output (0,0) covers x[0..1][0..1] = 0+1+4+5 over 9 (pads count).
  kernels::avg_pool2d_forward(pool_params(1, 1, 4, 4, 3, 2, 1), x.data(), y.data());
  CHECK(y[0] == Approx(10.0 / 9));
  // output (1,1): rows 1..3, cols 1..3 = 5+6+7+9+10+11+13+14+15 = 90, window fully inside -> /9
  CHECK(y[3] == Approx(10.0));
  // NaN propagates through max pooling
  x[6] = std::numeric_limits<double>::quiet_NaN();
  kernels::max_pool2d_forward(pool_params(1, 1, 4, 4, 2, 2, 0), x.data(), y.data(), a.data());
  CHECK(std::isnan(y[1]));
  CHECK(a[1] == 6);
}

TEST_CASE("pooling: backward passes match finite differences in double", "[kernels][pooling]") {
  for (auto p : configs(2, 3, 7, 6)) {
    const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()};
    auto x = test::random_tensor<double>(xs, 41);
    test::avoid_kinks(x.data(), x.numel());
    const auto lw = test::random_tensor<double>(ys, 42);
    Tensor<double> dx(xs);
    Tensor<std::int32_t> a(ys);
    const auto max_fwd = [&](double* y) { kernels::max_pool2d_forward(p, x.data(), y, a.data()); };
    Tensor<double> y0(ys);
    max_fwd(y0.data());
    kernels::max_pool2d_backward(p, lw.data(), a.data(), dx.data());
    test::require_gradient_matches(x.data(), x.numel(), lw.numel(), max_fwd, lw.data(), dx.data());

    const auto avg_fwd = [&](double* y) { kernels::avg_pool2d_forward(p, x.data(), y); };
    kernels::avg_pool2d_backward(p, lw.data(), dx.data());
    test::require_gradient_matches(x.data(), x.numel(), lw.numel(), avg_fwd, lw.data(), dx.data());
  }
}

TEST_CASE("global_avg_pool2d: matches ref and finite differences", "[kernels][pooling]") {
  for (GlobalPoolParams p : {GlobalPoolParams{3, 17, 3, 3}, GlobalPoolParams{1, 16, 7, 5}, GlobalPoolParams{2, 1, 1, 1}}) {
    const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C};
    auto x = test::random_tensor<double>(xs, 51);
    const auto lw = test::random_tensor<double>(ys, 52);
    Tensor<double> y(ys), y_ref(ys), dx(xs), dx_ref(xs);
    kernels::global_avg_pool2d_forward(p, x.data(), y.data());
    kernels::ref::global_avg_pool2d_forward(p, x.data(), y_ref.data());
    MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), test::kDoubleTol);
    kernels::global_avg_pool2d_backward(p, lw.data(), dx.data());
    kernels::ref::global_avg_pool2d_backward(p, lw.data(), dx_ref.data());
    MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), test::kDoubleTol);
    const auto fwd = [&](double* out) { kernels::global_avg_pool2d_forward(p, x.data(), out); };
    test::require_gradient_matches(x.data(), x.numel(), lw.numel(), fwd, lw.data(), dx.data());
  }
  CHECK(test::random_tensor<float>({1}, 1)[0] != 0.0f);
}

TEST_CASE("pooling: bad parameters throw moodnet::Error naming the values", "[kernels][pooling]") {
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(pool_params(1, 0, 4, 4, 2, 2, 0).validate(), Contains("C=0"));
  REQUIRE_THROWS_WITH(pool_params(1, 1, 4, 4, 2, 0, 0).validate(), Contains("stride_h=0"));
  REQUIRE_THROWS_WITH(pool_params(1, 1, 4, 4, 2, 2, 2).validate(), Contains("pad_h=2"));
  REQUIRE_THROWS_WITH(pool_params(1, 1, 1, 1, 5, 1, 1).validate(), Contains("5x5"));
  REQUIRE_THROWS_WITH((GlobalPoolParams{1, 1, 0, 3}.validate()), Contains("H=0"));
  std::vector<float> buf(64);
  std::vector<std::int32_t> idx(64);
  REQUIRE_THROWS_AS(kernels::max_pool2d_forward(pool_params(1, 1, 4, 4, 0, 2, 0), buf.data(), buf.data(), idx.data()), Error);
}
