#include "moodnet/kernels/cross_entropy.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "../support/check.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/kernels/ref/cross_entropy.hpp"

using moodnet::Tensor;
using moodnet::TensorView;
using moodnet::kernels::CrossEntropyParams;
namespace kn = moodnet::kernels;
namespace mt = moodnet::test;

namespace {
std::vector<std::int32_t> random_labels(std::int64_t n, std::int64_t k, std::uint64_t seed) {
  moodnet::Rng rng(seed);
  std::vector<std::int32_t> y(static_cast<std::size_t>(n));
  for (auto& v : y) v = static_cast<std::int32_t>(rng.uniform_int(static_cast<std::uint64_t>(k)));
  return y;
}

template <class T>
void check_against_ref(const CrossEntropyParams& p, bool weighted, double tol) {
  INFO("N=" << p.N << " K=" << p.K << " eps=" << p.label_smoothing << " weighted=" << weighted);
  const Tensor<T> z = mt::random_tensor<T>({p.N, p.K}, 3, -8, 8);  // wide range exercises the max shift
  const Tensor<T> w = mt::random_tensor<T>({p.K}, 4, 0.2, 3);
  const T* wp = weighted ? w.data() : nullptr;
  const auto y = random_labels(p.N, p.K, 5);
  Tensor<T> prob({p.N, p.K}), d({p.N, p.K}), prob_e({p.N, p.K}), d_e({p.N, p.K}), prob_f({p.N, p.K}), d_b({p.N, p.K});
  const double expected = kn::ref::softmax_cross_entropy(p, z.data(), y.data(), wp, prob_e.data(), d_e.data());
  // Fused.
  const double fused = kn::softmax_cross_entropy_forward_backward(p, z.data(), y.data(), wp, d.data(), prob.data());
  CHECK(fused == Approx(expected).epsilon(tol).margin(tol));
  MOODNET_REQUIRE_CLOSE(prob, prob_e, tol);
  MOODNET_REQUIRE_CLOSE(d, d_e, tol);
  // Separate forward then backward (in place on the probabilities).
  const double fwd = kn::softmax_cross_entropy_forward(p, z.data(), y.data(), wp, prob_f.data());
  CHECK(fwd == fused);
  MOODNET_REQUIRE_CLOSE(prob_f, prob_e, tol);
  kn::softmax_cross_entropy_backward(p, prob_f.data(), y.data(), wp, prob_f.data());
  MOODNET_REQUIRE_CLOSE(prob_f, d_e, tol);
  // Forward without probabilities gives the same loss.
  CHECK(kn::softmax_cross_entropy_forward<T>(p, z.data(), y.data(), wp, nullptr) == fwd);
}
}  // namespace

TEST_CASE("softmax cross-entropy matches the naive oracle (smoothing, weights, odd shapes)", "[kernels][cross_entropy]") {
  for (std::int64_t N : {1, 3, 64})
    for (std::int64_t K : {1, 2, 7, 33})
      for (double eps : {0.0, 0.1, 1.0})
        for (bool weighted : {false, true}) {
          check_against_ref<double>({N, K, eps}, weighted, mt::kDoubleTol);
          check_against_ref<float>({N, K, eps}, weighted, mt::kFloatTol);
        }
}

TEST_CASE("softmax cross-entropy equals hand-computed values", "[kernels][cross_entropy]") {
  // Row 0: z = (0, 0, 0) -> p = (1/3, 1/3, 1/3).  Row 1: z = (0, ln 2, 0) -> p = (1/4, 1/2, 1/4).
  // Labels (0, 1).
  const double z[] = {0, 0, 0, 0, std::log(2.0), 0};
  const std::int32_t y[] = {0, 1};
  double d[6], prob[6];
  SECTION("plain mean: (ln 3 + ln 2) / 2") {
    const double loss = kn::softmax_cross_entropy_forward_backward<double>({2, 3, 0.0}, z, y, nullptr, d, prob);
    CHECK(loss == Approx(0.8958797346140275).epsilon(1e-14));
    CHECK(loss == Approx((std::log(3.0) + std::log(2.0)) / 2).epsilon(1e-14));
    const double expected_d[] = {(1. / 3 - 1) / 2, 1. / 6, 1. / 6, 0.25 / 2, -0.5 / 2, 0.25 / 2};
    for (int i = 0; i < 6; ++i) CHECK(d[i] == Approx(expected_d[i]).epsilon(1e-14));
    CHECK(prob[4] == Approx(0.5).epsilon(1e-15));
  }
  SECTION("label smoothing 0.3, no weights: 0.7*(ln3+ln2)/2 + 0.1*(3 ln3 + 5 ln2)/2") {
    // smooth term per row: -sum_k logp_k = 3 ln 3 (row 0), ln4 + ln2 + ln4 = 5 ln 2 (row 1).
    const double loss = kn::softmax_cross_entropy_forward_backward<double>({2, 3, 0.3}, z, y, nullptr, d);
    CHECK(loss == Approx(0.965194452670022).epsilon(1e-14));
    // = cross-entropy against the smoothed target (0.8, 0.1, 0.1) / (0.1, 0.8, 0.1): d = (p - q)/N
    const double q[] = {0.8, 0.1, 0.1, 0.1, 0.8, 0.1}, pr[] = {1. / 3, 1. / 3, 1. / 3, 0.25, 0.5, 0.25};
    for (int i = 0; i < 6; ++i) CHECK(d[i] == Approx((pr[i] - q[i]) / 2).epsilon(1e-14));
  }
  SECTION("label smoothing 0.3 and class weights (1, 2, 3), PyTorch's definition") {
    // Wsum = w[0] + w[1] = 3.  nll = (1*ln3 + 2*ln2)/3 = ln(12)/3.
    // smooth = (sum_k w_k ln3 + (1*ln4 + 2*ln2 + 3*ln4))/3 = (6 ln3 + 10 ln2)/3.
    // loss = 0.7*nll + (0.3/3)*smooth.
    const double w[] = {1, 2, 3};
    const double loss = kn::softmax_cross_entropy_forward_backward<double>({2, 3, 0.3}, z, y, w, d);
    CHECK(loss == Approx(0.7 * std::log(12.0) / 3 + 0.1 * (6 * std::log(3.0) + 10 * std::log(2.0)) / 3).epsilon(1e-14));
    CHECK(loss == Approx(1.0305830695374705).epsilon(1e-14));
    // d[n,j] = (0.7*w[y]*(p_j - [j==y]) + 0.1*(6 p_j - w_j)) / 3:
    const double expected_d[] = {-11. / 90, 7. / 90, 4. / 90, 12. / 90, -18. / 90, 6. / 90};
    for (int i = 0; i < 6; ++i) CHECK(d[i] == Approx(expected_d[i]).epsilon(1e-13));
  }
}

TEST_CASE("softmax cross-entropy gradient matches central finite differences in double", "[kernels][cross_entropy]") {
  for (double eps : {0.0, 0.2})
    for (bool weighted : {false, true}) {
      INFO("eps=" << eps << " weighted=" << weighted);
      const CrossEntropyParams p{4, 5, eps};
      Tensor<double> z = mt::random_tensor<double>({4, 5}, 71, -3, 3), d({4, 5});
      const Tensor<double> w = mt::random_tensor<double>({5}, 72, 0.2, 2);
      const std::int32_t y[] = {0, 4, 2, 4};
      const double* wp = weighted ? w.data() : nullptr;
      kn::softmax_cross_entropy_forward_backward(p, z.data(), y, wp, d.data());
      const auto g = mt::numeric_gradient(z.data(), z.numel(), [&] {
        return kn::softmax_cross_entropy_forward<double>(p, z.data(), y, wp, nullptr);
      });
      MOODNET_REQUIRE_CLOSE(TensorView<const double>(d), TensorView<const double>(g.data(), {4, 5}), mt::kFdTol);
    }
}

TEST_CASE("softmax cross-entropy is stable for huge logits", "[kernels][cross_entropy]") {
  const float z[] = {1000.f, 0.f, -1000.f, 88.f, 89.f, 90.f};
  const std::int32_t y[] = {0, 2};
  float d[6];
  const double loss = kn::softmax_cross_entropy_forward_backward<float>({2, 3, 0.0}, z, y, nullptr, d);
  REQUIRE(std::isfinite(loss));
  // Row 0 costs ~0; row 1: -log(e^2/(1+e+e^2)) = log(1 + e^-1 + e^-2).
  CHECK(loss == Approx(std::log(1 + std::exp(-1.0) + std::exp(-2.0)) / 2).epsilon(1e-6));
  for (float v : d) CHECK(std::isfinite(v));
}

TEST_CASE("argmax_rows picks the first largest value per row", "[kernels][cross_entropy]") {
  const float x[] = {0.1f, 0.7f, 0.2f, 5.f, -1.f, 5.f, -3.f, -2.f, -1.f};
  std::int32_t out[3];
  kn::argmax_rows(x, 3, 3, out);
  CHECK(out[0] == 1);
  CHECK(out[1] == 0);  // tie: first index, as torch.argmax
  CHECK(out[2] == 2);
}

TEST_CASE("softmax cross-entropy rejects bad labels and parameters, naming them", "[kernels][cross_entropy]") {
  const float z[6] = {};
  float d[6];
  const std::int32_t bad[] = {1, 3}, negative[] = {-1, 0};
  CHECK_THROWS_WITH(kn::softmax_cross_entropy_forward_backward<float>({2, 3, 0.0}, z, bad, nullptr, d),
                    Catch::Contains("label 3 of row 1"));
  CHECK_THROWS_WITH(kn::softmax_cross_entropy_forward<float>({2, 3, 0.0}, z, negative, nullptr, nullptr),
                    Catch::Contains("label -1 of row 0"));
  const std::int32_t ok[] = {0, 0};
  CHECK_THROWS_WITH(kn::softmax_cross_entropy_forward<float>({2, 3, 1.5}, z, ok, nullptr, nullptr),
                    Catch::Contains("label_smoothing=1.5"));
  CHECK_THROWS_WITH(kn::softmax_cross_entropy_forward<float>({0, 3, 0.0}, z, ok, nullptr, nullptr),
                    Catch::Contains("N=0"));
  const float zero_w[] = {0.f, 1.f, 1.f};
  CHECK_THROWS_WITH(kn::softmax_cross_entropy_forward<float>({2, 3, 0.0}, z, ok, zero_w, nullptr),
                    Catch::Contains("sum to 0"));
}
