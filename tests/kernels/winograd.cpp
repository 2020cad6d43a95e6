// Winograd convolution F(2x2, 3x3) and F(4x4, 3x3) (kernels/winograd.hpp) against the nested-loop
// oracle in ref:: on odd shapes (partial tiles, 1x1 images, padding 0, 1 and 2), forward, input
// gradient and weight gradient, in float and double; finite differences in double; bit-identical
// results for 1 and 2 threads; the epilogue; the workspace size; rejected parameters.
//
// Float tolerance. An error is measured per element in units of the rounding unit u of T times the
// sum of the absolute values of that element's terms (the oracle run on |x|, |w|, |dy|):
//   e = max_i |got_i - exact_i| / (u * max(abs_i, mean abs))
// The direct sums' rounding is bounded by about the number of rounded steps in this unit. Winograd
// rounds transformed values whose size is bounded by the transform constants: in 1-D, output i of a
// tile is sum_xi A^T[i][xi] (G g)[xi] (B^T d)[xi], and computed with |A^T|, |G|, |B^T| it is at most
// beta1 times the exact sum of |g_r| |d_{i+r}| (beta1 = 8/3 for m = 2, 16 for m = 4, computed below
// from the matrices); in 2-D the factor is beta1^2 (7.1 and 256). The tolerance is that growth times
// the bound the direct kernel is held to here, kWinoDirectBudget; the test prints both kernels'
// measured e (the figures quoted in docs/kernels.md) and checks the direct kernel against its budget.
#include "moodnet/kernels/winograd.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/ref/conv2d.hpp"
#include "conv2d_check.hpp"

using moodnet::Shape;
using moodnet::Tensor;
using moodnet::Workspace;
using moodnet::kernels::Conv2dParams;
using moodnet::kernels::WinogradTile;
namespace kn = moodnet::kernels;
namespace test = moodnet::test;

namespace {

const char* wino_name(WinogradTile t) { return t == WinogradTile::f2x2 ? "F(2x2,3x3)" : "F(4x4,3x3)"; }

// beta1 of the header comment: max_i sum_{r,u} sum_xi |A^T[i][xi]| |G[xi][r]| |B^T[xi][u]| / 3.
template <int M>
double wino_growth_1d() {
  using Tr = kn::winograd_detail::Transforms<M>;
  double worst = 0;
  for (int i = 0; i < M; ++i) {
    double s = 0;
    for (int xi = 0; xi < Tr::kAlpha; ++xi) {
      double g = 0, b = 0;
      for (int r = 0; r < 3; ++r) g += std::abs(Tr::G[xi][r]);
      for (int u = 0; u < Tr::kAlpha; ++u) b += std::abs(Tr::BT[xi][u]);
      s += std::abs(Tr::AT[i][xi]) * g * b;
    }
    worst = std::max(worst, s / 3);
  }
  return worst;
}
double wino_growth_2d(WinogradTile t) {
  const double b = t == WinogradTile::f2x2 ? wino_growth_1d<2>() : wino_growth_1d<4>();
  return b * b;
}

// The direct kernels' error bound in units of u * sum|terms| (conv2d measures up to 5 on this grid,
// in float and in double).
constexpr double kWinoDirectBudget = 8;

template <class T>
Tensor<double> wino_abs(const Tensor<T>& t) {
  Tensor<double> d(t.shape());
  for (std::int64_t i = 0; i < t.numel(); ++i) d[i] = std::abs(static_cast<double>(t[i]));
  return d;
}

// e of the header comment.
template <class T>
double wino_error_units(const Tensor<T>& got, const Tensor<double>& exact, const Tensor<double>& abs_sum) {
  double mean = 0;
  for (std::int64_t i = 0; i < abs_sum.numel(); ++i) mean += abs_sum[i];
  mean /= static_cast<double>(abs_sum.numel());
  const double u = std::numeric_limits<T>::epsilon() / 2;
  double e = 0;
  for (std::int64_t i = 0; i < got.numel(); ++i) {
    const double d = std::abs(static_cast<double>(got[i]) - exact[i]);
    if (std::isnan(d)) return INFINITY;
    e = std::max(e, d / (u * std::max(abs_sum[i], mean)));
  }
  return e;
}

struct WinoErrors {
  double fwd = 0, bwd_input = 0, bwd_weight = 0;  // e of the header comment
  double rel = 0;  // the usual max |got - exact| / max(|exact|, 1) over the three passes (test/support/check.hpp)
  void max_with(const WinoErrors& o) {
    fwd = std::max(fwd, o.fwd), bwd_input = std::max(bwd_input, o.bwd_input), bwd_weight = std::max(bwd_weight, o.bwd_weight);
    rel = std::max(rel, o.rel);
  }
};

// Runs the three Winograd passes (tile) and the conv2d kernels (automatic choice) in T on the same
// random inputs and returns their errors against the oracle in double; dw starts non-zero (it
// accumulates), dx from garbage (it is overwritten), bias on.
template <class T>
void wino_run(const Conv2dParams& p, WinogradTile tile, std::uint64_t seed, WinoErrors& wino, WinoErrors& direct) {
  const auto x = test::random_tensor<T>(p.input_shape(), seed);
  const auto w = test::random_tensor<T>(p.weight_shape(), seed + 1);
  const auto b = test::random_tensor<T>(Shape{p.K}, seed + 2);
  const auto dy = test::random_tensor<T>(p.output_shape(), seed + 3);
  const auto dw0 = test::random_tensor<T>(p.weight_shape(), seed + 4);

  const auto xd = test::to_double(x), wd = test::to_double(w), bd = test::to_double(b), dyd = test::to_double(dy);
  Tensor<double> y_ref(p.output_shape()), dx_ref(p.input_shape()), dw_ref = test::to_double(dw0);
  kn::ref::conv2d_forward(p, xd.data(), wd.data(), bd.data(), y_ref.data());
  kn::ref::conv2d_backward_input(p, dyd.data(), wd.data(), dx_ref.data());
  kn::ref::conv2d_backward_weight(p, xd.data(), dyd.data(), dw_ref.data());
  const auto xa = wino_abs(x), wa = wino_abs(w), ba = wino_abs(b), dya = wino_abs(dy);
  Tensor<double> y_abs(p.output_shape()), dx_abs(p.input_shape()), dw_abs = wino_abs(dw0);
  kn::ref::conv2d_forward(p, xa.data(), wa.data(), ba.data(), y_abs.data());
  kn::ref::conv2d_backward_input(p, dya.data(), wa.data(), dx_abs.data());
  kn::ref::conv2d_backward_weight(p, xa.data(), dya.data(), dw_abs.data());

  for (int variant = 0; variant < 2; ++variant) {
    Workspace ws;
    auto y = Tensor<T>::uninitialized(p.output_shape());
    auto dx = test::random_tensor<T>(p.input_shape(), seed + 6);
    Tensor<T> dw = dw0;
    if (variant == 0) {
      kn::winograd_conv2d_forward<T>(p, x, w, b.data(), y, ws, nullptr, tile);
      kn::winograd_conv2d_backward_input<T>(p, dy, w, dx, ws, tile);
      kn::winograd_conv2d_backward_weight<T>(p, x, dy, dw, ws, tile);
    } else {
      kn::conv2d_forward<T>(p, x, w, b.data(), y, ws);
      kn::conv2d_backward_input<T>(p, dy, w, dx, ws);
      kn::conv2d_backward_weight<T>(p, x, dy, dw, ws);
    }
    WinoErrors& e = variant == 0 ? wino : direct;
    const double rel = std::max({test::compare(y.view(), y_ref.view()).max_rel,
                                 test::compare(dx.view(), dx_ref.view()).max_rel,
                                 test::compare(dw.view(), dw_ref.view()).max_rel});
    e.max_with({wino_error_units(y, y_ref, y_abs), wino_error_units(dx, dx_ref, dx_abs),
                wino_error_units(dw, dw_ref, dw_abs), rel});
  }
}

Conv2dParams wino_params(std::int64_t N, std::int64_t C, std::int64_t K, std::int64_t H, std::int64_t W,
                         std::int64_t pad) {
  return Conv2dParams{.N = N, .C = C, .H = H, .W = W, .K = K, .R = 3, .S = 3, .pad_h = pad, .pad_w = pad};
}

// The odd shapes of the issue: N 2..3, C 3/5/17, K 4/7/33, 5x7, 13x11 and 1x1 maps, padding 0 and 1
// (a 1x1 map only with padding 1), plus 48x48 and padding 2 and mixed paddings.
std::vector<Conv2dParams> wino_grid() {
  std::vector<Conv2dParams> v;
  const std::int64_t sizes[][2] = {{5, 7}, {13, 11}, {1, 1}};
  std::int64_t n = 2;
  for (std::int64_t C : {3, 5, 17})
    for (std::int64_t K : {4, 7, 33})
      for (const auto& hw : sizes)
        for (std::int64_t pad : {0, 1}) {
          if (pad == 0 && hw[0] < 3) continue;
          v.push_back(wino_params(n, C, K, hw[0], hw[1], pad));
          n = 5 - n;  // 2, 3, 2, ...
        }
  v.push_back(wino_params(2, 17, 33, 48, 48, 1));
  v.push_back(wino_params(2, 5, 7, 48, 48, 0));
  v.push_back(wino_params(3, 3, 4, 6, 9, 2));
  Conv2dParams mixed = wino_params(2, 5, 4, 7, 10, 1);
  mixed.pad_w = 0;
  v.push_back(mixed);
  return v;
}

template <class T>
void wino_check_grid(WinogradTile tile) {
  const bool is_float = std::is_same_v<T, float>;
  const double growth = wino_growth_2d(tile), tol = kWinoDirectBudget * growth;
  WinoErrors wino, direct;
  std::uint64_t seed = is_float ? 40 : 4000;
  for (const auto& p : wino_grid()) {
    INFO(test::describe(p, true) << " " << wino_name(tile));
    WinoErrors we, de;
    wino_run<T>(p, tile, seed += 10, we, de);
    INFO("winograd e: fwd " << we.fwd << " bwd_input " << we.bwd_input << " bwd_weight " << we.bwd_weight
                            << "; direct e: fwd " << de.fwd << " bwd_input " << de.bwd_input << " bwd_weight "
                            << de.bwd_weight << " (tolerance " << tol << ")");
    CHECK(we.fwd <= tol);
    CHECK(we.bwd_input <= tol);
    CHECK(we.bwd_weight <= tol);
    CHECK(de.fwd <= kWinoDirectBudget);
    CHECK(de.bwd_input <= kWinoDirectBudget);
    CHECK(de.bwd_weight <= kWinoDirectBudget);
    wino.max_with(we);
    direct.max_with(de);
  }
  std::printf("winograd %s %s: max error in u*sum|terms| (u = %.3g): fwd %.3g bwd_input %.3g bwd_weight %.3g; "
              "conv2d: fwd %.3g bwd_input %.3g bwd_weight %.3g; growth %.3g, tolerance %.3g; max rel error winograd %.3g, "
              "conv2d %.3g\n",
              wino_name(tile), is_float ? "float" : "double", std::numeric_limits<T>::epsilon() / 2, wino.fwd,
              wino.bwd_input, wino.bwd_weight, direct.fwd, direct.bwd_input, direct.bwd_weight, growth, tol, wino.rel,
              direct.rel);
}

}  // namespace

TEST_CASE("winograd growth factors follow from the transform matrices", "[kernels][winograd]") {
  CHECK(wino_growth_1d<2>() == Approx(8.0 / 3));
  CHECK(wino_growth_1d<4>() == Approx(16.0));
}

TEST_CASE("winograd matches the oracle on odd shapes (float)", "[kernels][winograd]") {
  for (WinogradTile tile : {WinogradTile::f2x2, WinogradTile::f4x4}) wino_check_grid<float>(tile);
}

TEST_CASE("winograd matches the oracle on odd shapes (double)", "[kernels][winograd]") {
  for (WinogradTile tile : {WinogradTile::f2x2, WinogradTile::f4x4}) wino_check_grid<double>(tile);
}

// The usual relative check as well (every float kernel's kFloatTol), for F(2x2, 3x3) on the grid.
TEST_CASE("winograd F(2x2,3x3) meets the float kernels' relative tolerance", "[kernels][winograd]") {
  std::uint64_t seed = 7000;
  for (const auto& p : wino_grid()) {
    INFO(test::describe(p, true));
    const auto x = test::random_tensor<float>(p.input_shape(), seed++);
    const auto w = test::random_tensor<float>(p.weight_shape(), seed++);
    const auto dy = test::random_tensor<float>(p.output_shape(), seed++);
    Workspace ws;
    Tensor<float> y(p.output_shape()), dx(p.input_shape()), dw(p.weight_shape());
    kn::winograd_conv2d_forward<float>(p, x, w, nullptr, y, ws);
    kn::winograd_conv2d_backward_input<float>(p, dy, w, dx, ws);
    kn::winograd_conv2d_backward_weight<float>(p, x, dy, dw, ws);
    const auto xd = test::to_double(x), wd = test::to_double(w), dyd = test::to_double(dy);
    Tensor<double> yr(p.output_shape()), dxr(p.input_shape()), dwr(p.weight_shape());
    kn::ref::conv2d_forward<double>(p, xd.data(), wd.data(), nullptr, yr.data());
    kn::ref::conv2d_backward_input(p, dyd.data(), wd.data(), dxr.data());
    kn::ref::conv2d_backward_weight(p, xd.data(), dyd.data(), dwr.data());
    MOODNET_REQUIRE_CLOSE(y.view(), yr.view(), test::kFloatTol);
    MOODNET_REQUIRE_CLOSE(dx.view(), dxr.view(), test::kFloatTol);
    MOODNET_REQUIRE_CLOSE(dw.view(), dwr.view(), test::kFloatTol);
  }
}

// Finite differences of L = sum(wy * y) in double, against the Winograd backward passes.
TEST_CASE("winograd gradients match finite differences (double)", "[kernels][winograd][gradient]") {
  const Conv2dParams configs[] = {wino_params(2, 3, 4, 5, 6, 1), wino_params(1, 2, 3, 6, 5, 0),
                                  wino_params(2, 2, 3, 1, 1, 1), wino_params(1, 3, 2, 4, 7, 2)};
  std::uint64_t seed = 950;
  for (WinogradTile tile : {WinogradTile::f2x2, WinogradTile::f4x4})
    for (const auto& p : configs) {
      INFO(test::describe(p, true) << " " << wino_name(tile));
      auto x = test::random_tensor<double>(p.input_shape(), seed++);
      auto w = test::random_tensor<double>(p.weight_shape(), seed++);
      const auto wy = test::random_tensor<double>(p.output_shape(), seed++);  // dL/dy
      Workspace ws;
      Tensor<double> y(p.output_shape());
      auto loss = [&] {
        kn::winograd_conv2d_forward<double>(p, x, w, nullptr, y, ws, nullptr, tile);
        return test::weighted_sum(y.data(), wy.data(), y.numel());
      };
      Tensor<double> dx(p.input_shape()), dw(p.weight_shape());
      kn::winograd_conv2d_backward_input<double>(p, wy, w, dx, ws, tile);
      kn::winograd_conv2d_backward_weight<double>(p, x, wy, dw, ws, tile);
      for (auto [value, grad, what] : {std::tuple{&x, &dx, "dx"}, std::tuple{&w, &dw, "dw"}}) {
        const auto numeric = test::numeric_gradient(value->data(), value->numel(), loss);
        const auto e = test::compare(grad->data(), numeric.data(), grad->numel());
        INFO(what << " max abs error " << e.max_abs << ", max rel " << e.max_rel);
        CHECK(e.max_rel <= test::kFdTol);
      }
    }
}

TEST_CASE("winograd results are bit-identical with 1 and 2 threads", "[kernels][winograd][threads]") {
  const int saved = moodnet::num_threads();
  const Conv2dParams configs[] = {wino_params(3, 17, 33, 13, 11, 1), wino_params(1, 16, 24, 48, 48, 1),
                                  wino_params(8, 32, 16, 12, 12, 0), wino_params(1, 5, 7, 5, 7, 1)};
  std::uint64_t seed = 330;
  for (WinogradTile tile : {WinogradTile::f2x2, WinogradTile::f4x4})
    for (const auto& p : configs) {
      INFO(test::describe(p, true) << " " << wino_name(tile));
      const auto x = test::random_tensor<float>(p.input_shape(), seed++);
      const auto w = test::random_tensor<float>(p.weight_shape(), seed++);
      const auto b = test::random_tensor<float>(Shape{p.K}, seed++);
      const auto dy = test::random_tensor<float>(p.output_shape(), seed++);
      Tensor<float> y[2], dx[2], dw[2];
      for (int t : {1, 2}) {
        moodnet::set_num_threads(t);
        Workspace ws;
        y[t - 1] = Tensor<float>(p.output_shape());
        dx[t - 1] = Tensor<float>(p.input_shape());
        dw[t - 1] = test::random_tensor<float>(p.weight_shape(), 77);
        kn::winograd_conv2d_forward<float>(p, x, w, b.data(), y[t - 1], ws, nullptr, tile);
        kn::winograd_conv2d_backward_input<float>(p, dy, w, dx[t - 1], ws, tile);
        kn::winograd_conv2d_backward_weight<float>(p, x, dy, dw[t - 1], ws, tile);
      }
      CHECK(std::memcmp(y[0].data(), y[1].data(), sizeof(float) * y[0].numel()) == 0);
      CHECK(std::memcmp(dx[0].data(), dx[1].data(), sizeof(float) * dx[0].numel()) == 0);
      CHECK(std::memcmp(dw[0].data(), dw[1].data(), sizeof(float) * dw[0].numel()) == 0);
    }
  moodnet::set_num_threads(saved);
}

// The epilogue is applied to each output row right after the output transform: the same values as
// applying it to the finished planes.
TEST_CASE("winograd forward applies the epilogue as a pass after it would", "[kernels][winograd]") {
  const Conv2dParams p = wino_params(2, 5, 7, 13, 11, 1);
  const auto x = test::random_tensor<float>(p.input_shape(), 1);
  const auto w = test::random_tensor<float>(p.weight_shape(), 2);
  const auto b = test::random_tensor<float>(Shape{p.K}, 3);
  const auto scale = test::random_tensor<float>(Shape{p.K}, 4), shift = test::random_tensor<float>(Shape{p.K}, 5);
  const kn::ChannelAffine<float> affine{scale.data(), shift.data(), true};
  for (WinogradTile tile : {WinogradTile::f2x2, WinogradTile::f4x4}) {
    Workspace ws;
    Tensor<float> fused(p.output_shape()), plain(p.output_shape());
    kn::winograd_conv2d_forward<float>(p, x, w, b.data(), fused, ws, &affine, tile);
    kn::winograd_conv2d_forward<float>(p, x, w, b.data(), plain, ws, nullptr, tile);
    const std::int64_t plane = p.out_h() * p.out_w();
    for (std::int64_t n = 0; n < p.N; ++n)
      for (std::int64_t k = 0; k < p.K; ++k) kn::apply_channel_affine(&affine, k, plain.data() + (n * p.K + k) * plane, plane);
    CHECK(std::memcmp(fused.data(), plain.data(), sizeof(float) * plain.numel()) == 0);
    std::int64_t zeros = 0;
    for (std::int64_t i = 0; i < fused.numel(); ++i) zeros += fused[i] == 0.0f;
    CHECK(zeros > 0);  // the ReLU acted
  }
}

TEST_CASE("winograd workspace: the size function is what the passes hold, reused", "[kernels][winograd]") {
  for (WinogradTile tile : {WinogradTile::f2x2, WinogradTile::f4x4})
    for (const Conv2dParams& p : {wino_params(4, 8, 12, 10, 10, 1), wino_params(2, 33, 5, 48, 48, 0)}) {
      INFO(test::describe(p, false) << " " << wino_name(tile));
      const auto x = test::random_tensor<float>(p.input_shape(), 1);
      const auto w = test::random_tensor<float>(p.weight_shape(), 2);
      Tensor<float> y(p.output_shape()), dx(p.input_shape()), dw(p.weight_shape());
      Workspace ws;
      auto step = [&] {
        kn::winograd_conv2d_forward<float>(p, x, w, nullptr, y, ws, nullptr, tile);
        kn::winograd_conv2d_backward_input<float>(p, y, w, dx, ws, tile);
        kn::winograd_conv2d_backward_weight<float>(p, x, y, dw, ws, tile);
      };
      step();
      const auto bytes = ws.bytes();
      CHECK(bytes == kn::winograd_workspace_bytes<float>(p, tile));
      const float* slot0 = ws.get<float>(0, 1);
      step();
      CHECK(ws.bytes() == bytes);
      CHECK(ws.get<float>(0, 1) == slot0);
    }
}

TEST_CASE("winograd rejects what it does not support with a message naming the values", "[kernels][winograd][errors]") {
  Workspace ws;
  const Conv2dParams ok = wino_params(1, 4, 4, 6, 6, 1);
  CHECK(kn::winograd_supported(ok));
  Tensor<float> x(ok.input_shape()), w(ok.weight_shape()), y(ok.output_shape());
  REQUIRE_NOTHROW(kn::winograd_conv2d_forward<float>(ok, x, w, nullptr, y, ws));

  auto rejected = [&](Conv2dParams p, const std::string& text) {
    INFO(test::describe(p, false));
    CHECK_FALSE(kn::winograd_supported(p));
    Tensor<float> px(p.input_shape()), pw(p.weight_shape()), py(p.output_shape());
    CHECK_THROWS_WITH(kn::winograd_conv2d_forward<float>(p, px, pw, nullptr, py, ws), Catch::Contains(text));
    CHECK_THROWS_WITH(kn::winograd_conv2d_backward_input<float>(p, py, pw, px, ws), Catch::Contains(text));
    CHECK_THROWS_WITH(kn::winograd_conv2d_backward_weight<float>(p, px, py, pw, ws), Catch::Contains(text));
  };
  Conv2dParams p = ok;
  p.stride_h = p.stride_w = 2;
  rejected(p, "stride 2x2");
  p = ok;
  p.R = p.S = 5, p.pad_h = p.pad_w = 2;
  rejected(p, "got 5x5");
  p = ok;
  p.groups = 2;
  rejected(p, "groups 2");
  p = ok;
  p.pad_w = 3;
  rejected(p, "pad 1x3");

  Tensor<float> bad({1, 5, 6, 6});
  CHECK_THROWS_WITH(kn::winograd_conv2d_forward<float>(ok, bad, w, nullptr, y, ws),
                    Catch::Contains("input x has shape [1, 5, 6, 6], expected [1, 4, 6, 6]"));
}
