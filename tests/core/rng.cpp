#include "moodnet/core/rng.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "moodnet/core/parallel.hpp"

using moodnet::Rng;
using moodnet::Tensor;

TEST_CASE("Rng: same seed and stream give the same sequence; others differ", "[core][rng]") {
  Rng a(42), b(42), c(43), d(42, 1);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    CHECK(x == b.next_u64());
    CHECK(x != c.next_u64());
    CHECK(x != d.next_u64());
  }
}

TEST_CASE("Rng: uniform, normal and Bernoulli have the right moments", "[core][rng]") {
  Rng r(7);
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0, sb = 0;
  float min_f = 1, max_f = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    su += u, su2 += u * u;
    const double g = r.normal();
    sn += g, sn2 += g * g;
    sb += r.bernoulli(0.3);
    const float f = r.uniform_float();
    min_f = std::min(min_f, f), max_f = std::max(max_f, f);
  }
  CHECK(su / n == Approx(0.5).margin(0.005));
  CHECK(su2 / n - (su / n) * (su / n) == Approx(1.0 / 12).margin(0.002));
  CHECK(sn / n == Approx(0.0).margin(0.01));
  CHECK(sn2 / n == Approx(1.0).margin(0.02));
  CHECK(sb / n == Approx(0.3).margin(0.005));
  CHECK(min_f >= 0.0f);
  CHECK(max_f < 1.0f);
  std::vector<int> counts(7);
  for (int i = 0; i < 70000; ++i) counts[r.uniform_int(7)]++;
  for (int c : counts) CHECK(c == Approx(10000).margin(400));
}

TEST_CASE("Rng: state saves and restores, including the cached normal", "[core][rng]") {
  Rng r(3);
  r.normal();  // leaves a cached value
  const Rng::State saved = r.state();
  const double x1 = r.normal(), x2 = r.normal();
  r.set_state(saved);
  CHECK(r.normal() == x1);
  CHECK(r.normal() == x2);
}

TEST_CASE("fill_normal gives the same tensor for 1 and 2 threads", "[core][rng]") {
  const int saved = moodnet::num_threads();
  Tensor<float> a({3, 5000}), b({3, 5000});
  moodnet::set_num_threads(1);
  moodnet::fill_normal(a.view(), 11, 0.0, 2.0);
  moodnet::set_num_threads(2);
  moodnet::fill_normal(b.view(), 11, 0.0, 2.0);
  moodnet::set_num_threads(saved);
  for (std::int64_t i = 0; i < a.numel(); ++i) REQUIRE(a[i] == b[i]);
  double s2 = 0;
  for (float v : a) s2 += v * v;
  CHECK(s2 / a.numel() == Approx(4.0).margin(0.15));

  Tensor<double> m({1000});
  moodnet::fill_bernoulli(m.view(), 5, 0.25);
  double ones = 0;
  for (double v : m) {
    REQUIRE((v == 0.0 || v == 1.0));
    ones += v;
  }
  CHECK(ones == Approx(250).margin(50));
}
