#include "moodnet/kernels/optimizer_updates.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "../support/check.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/kernels/ref/optimizer_updates.hpp"

using moodnet::Tensor;
using moodnet::kernels::AdamParams;
using moodnet::kernels::SgdParams;
namespace kn = moodnet::kernels;
namespace mt = moodnet::test;

// All traces: one parameter p0 = 1, gradients 0.5 (step 1) then -0.2 (step 2).
// The Adam traces run in kLanes elements at once: more than one AVX-512 vector of doubles plus a tail.
constexpr std::int64_t kLanes = 11;

TEST_CASE("SGD with momentum and weight decay: two steps equal the hand-computed trace", "[kernels][optim]") {
  // lr 0.1, momentum 0.9, weight decay 0.01.
  // step 1: g = 0.5 + 0.01*1 = 0.51; buf = g = 0.51; p = 1 - 0.1*0.51 = 0.949
  // step 2: g = -0.2 + 0.01*0.949 = -0.19051; buf = 0.9*0.51 - 0.19051 = 0.26849; p = 0.949 - 0.026849 = 0.922151
  double p = 1, buf = 12345;  // the first step must ignore the buffer's old contents
  SgdParams h{0.1, 0.9, 0.01, false, 1};
  const double g1 = 0.5, g2 = -0.2;
  kn::sgd_update(h, &g1, &p, &buf, 1);
  CHECK(buf == Approx(0.51).epsilon(1e-15));
  CHECK(p == Approx(0.949).epsilon(1e-15));
  h.step = 2;
  kn::sgd_update(h, &g2, &p, &buf, 1);
  CHECK(buf == Approx(0.26849).epsilon(1e-14));
  CHECK(p == Approx(0.922151).epsilon(1e-14));
}

TEST_CASE("SGD Nesterov: two steps equal the hand-computed trace", "[kernels][optim]") {
  // step 1: g = 0.51; buf = 0.51; g = 0.51 + 0.9*0.51 = 0.969; p = 1 - 0.0969 = 0.9031
  // step 2: g = -0.2 + 0.01*0.9031 = -0.190969; buf = 0.459 - 0.190969 = 0.268031;
  //         g = -0.190969 + 0.9*0.268031 = 0.0502589; p = 0.9031 - 0.00502589 = 0.89807411
  double p = 1, buf = 0;
  SgdParams h{0.1, 0.9, 0.01, true, 1};
  const double g1 = 0.5, g2 = -0.2;
  kn::sgd_update(h, &g1, &p, &buf, 1);
  CHECK(p == Approx(0.9031).epsilon(1e-15));
  h.step = 2;
  kn::sgd_update(h, &g2, &p, &buf, 1);
  CHECK(buf == Approx(0.268031).epsilon(1e-14));
  CHECK(p == Approx(0.89807411).epsilon(1e-14));
  // Plain SGD without momentum needs no buffer: p = 1 - 0.1*(0.5 + 0.01) = 0.949.
  double q = 1;
  kn::sgd_update<double>(SgdParams{0.1, 0.0, 0.01}, &g1, &q, nullptr, 1);
  CHECK(q == Approx(0.949).epsilon(1e-15));
}

TEST_CASE("Adam with L2 weight decay and bias correction: two steps equal the hand-computed trace", "[kernels][optim]") {
  // lr 0.01, betas (0.9, 0.999), eps 1e-8, weight decay 0.1.
  // step 1: g = 0.5 + 0.1*1 = 0.6; m = 0.06; v = 0.00036; mhat = 0.06/0.1 = 0.6; vhat = 0.00036/0.001 = 0.36
  //         p = 1 - 0.01*0.6/(0.6 + 1e-8) = 0.99000000016667
  // step 2: g = -0.2 + 0.1*p = -0.10099999998333; m = 0.054 + 0.1*g = 0.0439;
  //         v = 0.999*0.00036 + 0.001*g^2 = 0.000369841; mhat = m/0.19; vhat = v/0.001999
  //         p -= 0.01*mhat/(sqrt(vhat) + 1e-8) -> 0.984628324547652
  // The same trace in each of kLanes elements: the vector body and the scalar tail both follow it.
  AdamParams h{0.01, 0.9, 0.999, 1e-8, 0.1, 1};
  std::vector<double> p(kLanes, 1.0), m(kLanes, 0.0), v(kLanes, 0.0);
  const std::vector<double> g1(kLanes, 0.5), g2(kLanes, -0.2);
  kn::adam_update(h, g1.data(), p.data(), m.data(), v.data(), kLanes);
  for (std::int64_t i = 0; i < kLanes; ++i) {
    INFO("element " << i);
    CHECK(m[i] == Approx(0.06).epsilon(1e-14));
    CHECK(v[i] == Approx(0.00036).epsilon(1e-14));
    CHECK(p[i] == Approx(1 - 0.01 * 0.6 / (0.6 + 1e-8)).epsilon(1e-15));
  }
  h.step = 2;
  kn::adam_update(h, g2.data(), p.data(), m.data(), v.data(), kLanes);
  for (std::int64_t i = 0; i < kLanes; ++i) {
    INFO("element " << i);
    CHECK(m[i] == Approx(0.0439).epsilon(1e-9));
    CHECK(v[i] == Approx(0.000369841).epsilon(1e-9));
    CHECK(p[i] == Approx(0.984628324547652).epsilon(1e-14));
  }
}

TEST_CASE("AdamW decoupled weight decay: two steps equal the hand-computed trace", "[kernels][optim]") {
  // step 1: p = 1*(1 - 0.01*0.1) = 0.999; g = 0.5; m = 0.05; v = 0.00025; mhat = 0.5, vhat = 0.25
  //         p = 0.999 - 0.01*0.5/(0.5 + 1e-8) = 0.9890000002
  // step 2: p *= 0.999; g = -0.2; m = 0.045 - 0.02 = 0.025; v = 0.00024975 + 0.00004 = 0.00028975
  //         p -= 0.01*(0.025/0.19)/(sqrt(0.00028975/0.001999) + 1e-8) -> 0.9845549418114511
  AdamParams h{0.01, 0.9, 0.999, 1e-8, 0.1, 1};
  std::vector<double> p(kLanes, 1.0), m(kLanes, 0.0), v(kLanes, 0.0);
  const std::vector<double> g1(kLanes, 0.5), g2(kLanes, -0.2);
  kn::adamw_update(h, g1.data(), p.data(), m.data(), v.data(), kLanes);
  for (std::int64_t i = 0; i < kLanes; ++i) CHECK(p[i] == Approx(0.9890000002).epsilon(1e-15));
  h.step = 2;
  kn::adamw_update(h, g2.data(), p.data(), m.data(), v.data(), kLanes);
  for (std::int64_t i = 0; i < kLanes; ++i) {
    INFO("element " << i);
    CHECK(m[i] == Approx(0.025).epsilon(1e-14));
    CHECK(v[i] == Approx(0.00028975).epsilon(1e-14));
    CHECK(p[i] == Approx(0.9845549418114511).epsilon(1e-14));
  }
}

namespace {
// Three steps of each optimizer, each on its own copy of the parameters and state, over a buffer
// large enough to go parallel. Returns {sgd p, sgd buf, adam p, adam m, adam v, adamw p, adamw m, adamw v}.
std::vector<Tensor<float>> run_all(std::int64_t n, bool reference) {
  const Tensor<float> g = mt::random_tensor<float>({n}, 81), p0 = mt::random_tensor<float>({n}, 82);
  std::vector<Tensor<float>> s = {p0, Tensor<float>({n}), p0, Tensor<float>({n}), Tensor<float>({n}),
                                  p0, Tensor<float>({n}), Tensor<float>({n})};
  for (std::int64_t t = 1; t <= 3; ++t) {
    const SgdParams sp{0.05, 0.9, 1e-3, true, t};
    const AdamParams ap{1e-3, 0.9, 0.999, 1e-8, 0.05, t};
    if (reference) {
      kn::ref::sgd_update(sp, g.data(), s[0].data(), s[1].data(), n);
      kn::ref::adam_update(ap, g.data(), s[2].data(), s[3].data(), s[4].data(), n);
      kn::ref::adamw_update(ap, g.data(), s[5].data(), s[6].data(), s[7].data(), n);
    } else {
      kn::sgd_update(sp, g.data(), s[0].data(), s[1].data(), n);
      kn::adam_update(ap, g.data(), s[2].data(), s[3].data(), s[4].data(), n);
      kn::adamw_update(ap, g.data(), s[5].data(), s[6].data(), s[7].data(), n);
    }
  }
  return s;
}
}  // namespace

TEST_CASE("Optimizer updates match the textbook oracle and are bit-identical for 1 and 2 threads", "[kernels][optim]") {
  const std::int64_t n = 100003;  // odd, above the serial threshold
  const auto e = run_all(n, true);
  const int saved = moodnet::num_threads();
  moodnet::set_num_threads(1);
  const auto a = run_all(n, false);
  moodnet::set_num_threads(2);
  const auto b = run_all(n, false);
  moodnet::set_num_threads(saved);
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("buffer " << i);
    MOODNET_REQUIRE_CLOSE(a[i], e[i], 1e-5);
    REQUIRE(std::memcmp(a[i].data(), b[i].data(), sizeof(float) * n) == 0);
  }
}

TEST_CASE("Global L2 norm is exact-ish, deterministic across threads; clipping scales as PyTorch", "[kernels][optim]") {
  const std::int64_t n = 3 * kn::kNormChunk + 17;
  const Tensor<float> x = mt::random_tensor<float>({n}, 91);
  double expected = 0;
  for (float v : x) expected += double(v) * double(v);
  expected = std::sqrt(expected);
  moodnet::Workspace ws;
  const int saved = moodnet::num_threads();
  moodnet::set_num_threads(1);
  const double n1 = kn::global_l2_norm(x.data(), n, ws);
  moodnet::set_num_threads(2);
  const double n2 = kn::global_l2_norm(x.data(), n, ws);
  moodnet::set_num_threads(saved);
  CHECK(n1 == Approx(expected).epsilon(1e-13));
  CHECK(n1 == n2);  // bit-identical
  CHECK(kn::global_l2_norm<float>(nullptr, 0, ws) == 0.0);
  const float three_four[] = {3.f, 4.f};
  CHECK(kn::global_l2_norm(three_four, 2, ws) == 5.0);

  double g[] = {3, 4};
  CHECK(kn::clip_grad_norm(g, 2, 10.0, ws) == 5.0);  // below max_norm: unchanged
  CHECK(g[0] == 3.0);
  CHECK(kn::clip_grad_norm(g, 2, 1.0, ws) == 5.0);  // scaled by 1/(5 + 1e-6)
  CHECK(g[0] == Approx(3 / (5 + 1e-6)).epsilon(1e-15));
  CHECK(g[1] == Approx(4 / (5 + 1e-6)).epsilon(1e-15));
  kn::scale_in_place(g, 2, 2.0);
  CHECK(g[1] == Approx(8 / (5 + 1e-6)).epsilon(1e-15));
}

TEST_CASE("Optimizer updates reject bad hyper-parameters, naming the value", "[kernels][optim]") {
  float p = 1, g = 1, m = 0, v = 0;
  CHECK_THROWS_WITH(kn::sgd_update(SgdParams{-0.1}, &g, &p, &m, 1), Catch::Contains("lr=-0.1"));
  CHECK_THROWS_WITH(kn::sgd_update(SgdParams{0.1, 0.0, 0.0, true}, &g, &p, &m, 1), Catch::Contains("nesterov"));
  CHECK_THROWS_WITH(kn::sgd_update<float>(SgdParams{0.1, 0.9}, &g, &p, nullptr, 1), Catch::Contains("momentum=0.9"));
  CHECK_THROWS_WITH(kn::sgd_update(SgdParams{0.1, 0.9, 0, false, 0}, &g, &p, &m, 1), Catch::Contains("step=0"));
  CHECK_THROWS_WITH(kn::adam_update(AdamParams{0.1, 1.0}, &g, &p, &m, &v, 1), Catch::Contains("beta1=1"));
  CHECK_THROWS_WITH(kn::adamw_update(AdamParams{0.1, 0.9, 0.999, 1e-8, -1}, &g, &p, &m, &v, 1),
                    Catch::Contains("weight_decay=-1"));
  CHECK_THROWS_WITH(kn::adam_update(AdamParams{0.1, 0.9, 0.999, 1e-8, 0, 0}, &g, &p, &m, &v, 1),
                    Catch::Contains("step=0"));
  moodnet::Workspace ws;
  CHECK_THROWS_WITH(kn::clip_grad_norm(&g, 1, 0.0, ws), Catch::Contains("max_norm=0"));
  CHECK(p == 1.0f);  // nothing was touched
}
