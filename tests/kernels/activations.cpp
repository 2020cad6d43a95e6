#include "moodnet/kernels/activations.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "../support/check.hpp"
#include "../support/dwpool_grad.hpp"
#include "moodnet/kernels/ref/activations.hpp"

using namespace moodnet;
using kernels::ActivationParams;

namespace {

// One activation: forward/backward of the optimized kernel and of the oracle.
template <class T>
struct Act {
  const char* name;
  void (*fwd)(const ActivationParams&, const T*, T*);
  void (*bwd)(const ActivationParams&, const T*, const T*, T*);
  void (*ref_fwd)(const ActivationParams&, const T*, T*);
  void (*ref_bwd)(const ActivationParams&, const T*, const T*, T*);
};

template <class T>
std::vector<Act<T>> all_activations() {
  namespace k = kernels;
  return {{"relu", k::relu_forward<T>, k::relu_backward<T>, k::ref::relu_forward<T>, k::ref::relu_backward<T>},
          {"relu6", k::relu6_forward<T>, k::relu6_backward<T>, k::ref::relu6_forward<T>, k::ref::relu6_backward<T>},
          {"leaky_relu", k::leaky_relu_forward<T>, k::leaky_relu_backward<T>, k::ref::leaky_relu_forward<T>,
           k::ref::leaky_relu_backward<T>}};
}

template <class T>
void compare_with_ref(std::int64_t n) {
  const ActivationParams p{n, 0.1};
  const auto x = test::random_tensor<T>({n}, 61, -8, 8), dy = test::random_tensor<T>({n}, 62);
  for (const auto& a : all_activations<T>()) {
    INFO(a.name << " n=" << n);
    Tensor<T> y({n}), y_ref({n}), dx({n}), dx_ref({n});
    a.fwd(p, x.data(), y.data());
    a.ref_fwd(p, x.data(), y_ref.data());
    MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), 0.0);
    a.bwd(p, y.data(), dy.data(), dx.data());
    a.ref_bwd(p, y_ref.data(), dy.data(), dx_ref.data());
    MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), 0.0);
    // in place: y == x, dx == dy
    Tensor<T> inplace = x, ginplace = dy;
    a.fwd(p, inplace.data(), inplace.data());
    MOODNET_REQUIRE_CLOSE(inplace.view(), y_ref.view(), 0.0);
    a.bwd(p, inplace.data(), ginplace.data(), ginplace.data());
    MOODNET_REQUIRE_CLOSE(ginplace.view(), dx_ref.view(), 0.0);
  }
}

}  // namespace

TEST_CASE("activations: optimized matches ref, also in place, serial and parallel sizes", "[kernels][activations]") {
  for (std::int64_t n : {1, 17, 3 * 17 * 13, 3 * 33 * 48 * 48 + 5}) {
    compare_with_ref<float>(n);
    compare_with_ref<double>(n);
  }
}

TEST_CASE("activations: known values including the kinks", "[kernels][activations]") {
  const std::vector<double> x{-2, 0, 3, 6, 7};
  std::vector<double> y(5), dx(5);
  const std::vector<double> dy{1, 1, 1, 1, 1};
  const ActivationParams p{5, 0.25};
  kernels::relu_forward(p, x.data(), y.data());
  CHECK(y == std::vector<double>{0, 0, 3, 6, 7});
  kernels::relu_backward(p, y.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0, 0, 1, 1, 1});
  kernels::relu6_forward(p, x.data(), y.data());
  CHECK(y == std::vector<double>{0, 0, 3, 6, 6});
  kernels::relu6_backward(p, y.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0, 0, 1, 0, 0});
  kernels::leaky_relu_forward(p, x.data(), y.data());
  CHECK(y == std::vector<double>{-0.5, 0, 3, 6, 7});
  kernels::leaky_relu_backward(p, y.data(), dy.data(), dx.data());
  CHECK(dx == std::vector<double>{0.25, 0.25, 1, 1, 1});
}

TEST_CASE("activations: backward matches finite differences in double", "[kernels][activations]") {
  const std::int64_t n = 3 * 17 * 13;
  for (const auto& a : all_activations<double>()) {
    INFO(a.name);
    const ActivationParams p{n, 0.1};
    auto x = test::random_tensor<double>({n}, 71, -8, 8);
    test::avoid_kinks(x.data(), n);
    for (std::int64_t i = 0; i < n; ++i)  // and away from ReLU6's kink at 6
      if (std::abs(x[i] - 6) < 1e-3) x[i] += 1e-2;
    const auto lw = test::random_tensor<double>({n}, 72);
    Tensor<double> y({n}), dx({n});
    a.fwd(p, x.data(), y.data());
    a.bwd(p, y.data(), lw.data(), dx.data());
    const auto fwd = [&](double* out) { a.fwd(p, x.data(), out); };
    test::require_gradient_matches(x.data(), n, n, fwd, lw.data(), dx.data());
  }
}

TEST_CASE("activations: bad parameters throw moodnet::Error naming the values", "[kernels][activations]") {
  using Catch::Matchers::Contains;
  std::vector<float> b(4);
  REQUIRE_THROWS_WITH(kernels::relu_forward(ActivationParams{-3}, b.data(), b.data()), Contains("n=-3"));
  REQUIRE_THROWS_WITH(kernels::leaky_relu_forward(ActivationParams{4, -0.5}, b.data(), b.data()),
                      Contains("slope=-0.5"));
}
