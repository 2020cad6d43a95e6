#include "moodnet/kernels/groupnorm.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "../support/check.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/kernels/ref/groupnorm.hpp"

using moodnet::Shape;
using moodnet::Tensor;
using moodnet::TensorView;
using moodnet::kernels::GroupNormParams;
namespace kn = moodnet::kernels;
namespace mt = moodnet::test;

namespace {

template <class T>
struct GnRun {
  Tensor<T> y, mean, rstd, dx, dgamma, dbeta;
};

template <class T, bool Ref>
GnRun<T> run_gn(const GroupNormParams& p, std::uint64_t seed) {
  const Shape xs{p.N, p.C, p.H, p.W}, cs{p.C}, gs{p.N, p.G};
  const Tensor<T> x = mt::random_tensor<T>(xs, seed, -2.0, 3.0), dy = mt::random_tensor<T>(xs, seed + 1);
  const Tensor<T> gamma = mt::random_tensor<T>(cs, seed + 2, 0.5, 1.5), beta = mt::random_tensor<T>(cs, seed + 3);
  GnRun<T> r{Tensor<T>(xs), Tensor<T>(gs), Tensor<T>(gs), Tensor<T>(xs), mt::random_tensor<T>(cs, seed + 4),
             mt::random_tensor<T>(cs, seed + 5)};
  if constexpr (Ref) {
    kn::ref::groupnorm_forward(p, x.data(), gamma.data(), beta.data(), r.y.data(), r.mean.data(), r.rstd.data());
    kn::ref::groupnorm_backward(p, x.data(), dy.data(), gamma.data(), r.mean.data(), r.rstd.data(), r.dx.data(),
                                r.dgamma.data(), r.dbeta.data());
  } else {
    moodnet::Workspace ws;
    kn::groupnorm_forward(p, x.data(), gamma.data(), beta.data(), r.y.data(), r.mean.data(), r.rstd.data());
    kn::groupnorm_backward(p, x.data(), dy.data(), gamma.data(), r.mean.data(), r.rstd.data(), r.dx.data(),
                           r.dgamma.data(), r.dbeta.data(), ws);
  }
  return r;
}

template <class T>
void check_against_ref(const GroupNormParams& p, double tol) {
  INFO("N=" << p.N << " C=" << p.C << " G=" << p.G << " H=" << p.H << " W=" << p.W);
  const auto a = run_gn<T, false>(p, 7), e = run_gn<T, true>(p, 7);
  MOODNET_REQUIRE_CLOSE(a.y, e.y, tol);
  MOODNET_REQUIRE_CLOSE(a.mean, e.mean, tol);
  MOODNET_REQUIRE_CLOSE(a.rstd, e.rstd, tol);
  MOODNET_REQUIRE_CLOSE(a.dx, e.dx, tol);
  MOODNET_REQUIRE_CLOSE(a.dgamma, e.dgamma, tol);
  MOODNET_REQUIRE_CLOSE(a.dbeta, e.dbeta, tol);
}

}  // namespace

TEST_CASE("groupnorm matches the naive oracle on odd shapes and group counts", "[kernels][groupnorm]") {
  const std::vector<std::array<std::int64_t, 4>> shapes = {{1, 1, 17, 13}, {3, 3, 17, 13}, {1, 15, 17, 13},
                                                           {3, 16, 17, 13}, {3, 17, 5, 3}, {3, 33, 4, 7},
                                                           {2, 16, 48, 48}};
  for (const auto& s : shapes)
    for (std::int64_t g : {std::int64_t{1}, std::int64_t{4}, s[1]}) {
      if (s[1] % g) continue;
      const GroupNormParams p{s[0], s[1], s[2], s[3], g};
      check_against_ref<double>(p, mt::kDoubleTol);
      check_against_ref<float>(p, mt::kFloatTol);
    }
}

TEST_CASE("groupnorm forward against hand-computed values", "[kernels][groupnorm]") {
  // N=1, C=2, G=1, H=1, W=2: x = {1, 3 | 5, 7}: one group, mean 4, var (9+1+1+9)/4 = 5.
  // G=2: group {1, 3} mean 2 var 1; group {5, 7} mean 6 var 1.
  const double x[] = {1, 3, 5, 7}, gamma[] = {2, -1}, beta[] = {0.5, 1};
  double y[4], m[2], r[2];
  kn::groupnorm_forward(GroupNormParams{1, 2, 1, 2, 1}, x, gamma, beta, y, m, r);
  const double r1 = 1 / std::sqrt(5 + 1e-5);
  CHECK(m[0] == Approx(4.0).epsilon(1e-15));
  CHECK(r[0] == Approx(r1).epsilon(1e-14));
  CHECK(y[0] == Approx(2 * (1 - 4) * r1 + 0.5).epsilon(1e-14));
  CHECK(y[3] == Approx(-1 * (7 - 4) * r1 + 1).epsilon(1e-14));
  kn::groupnorm_forward(GroupNormParams{1, 2, 1, 2, 2}, x, gamma, beta, y, m, r);
  const double r2 = 1 / std::sqrt(1 + 1e-5);
  CHECK(m[0] == Approx(2.0).epsilon(1e-15));
  CHECK(m[1] == Approx(6.0).epsilon(1e-15));
  CHECK(y[1] == Approx(2 * (3 - 2) * r2 + 0.5).epsilon(1e-14));
  CHECK(y[2] == Approx(-1 * (5 - 6) * r2 + 1).epsilon(1e-14));
}

TEST_CASE("groupnorm backward matches central finite differences in double", "[kernels][groupnorm]") {
  for (std::int64_t G : {1, 2, 4}) {
    INFO("G=" << G);
    const GroupNormParams p{2, 4, 3, 5, G};
    const Shape xs{2, 4, 3, 5};
    Tensor<double> x = mt::random_tensor<double>(xs, 51, -1, 1), w = mt::random_tensor<double>(xs, 52);
    Tensor<double> gamma = mt::random_tensor<double>({4}, 53, 0.5, 1.5), beta = mt::random_tensor<double>({4}, 54);
    Tensor<double> y(xs), m({2, G}), r({2, G}), dx(xs), dg({4}), db({4});
    auto loss = [&] {
      kn::groupnorm_forward(p, x.data(), gamma.data(), beta.data(), y.data(), m.data(), r.data());
      return mt::weighted_sum(y.data(), w.data(), y.numel());
    };
    loss();
    moodnet::Workspace ws;
    kn::groupnorm_backward(p, x.data(), w.data(), gamma.data(), m.data(), r.data(), dx.data(), dg.data(), db.data(), ws);
    const auto gx = mt::numeric_gradient(x.data(), x.numel(), loss);
    const auto gg = mt::numeric_gradient(gamma.data(), 4, loss);
    const auto gb = mt::numeric_gradient(beta.data(), 4, loss);
    MOODNET_REQUIRE_CLOSE(TensorView<const double>(dx), TensorView<const double>(gx.data(), xs), mt::kFdTol);
    MOODNET_REQUIRE_CLOSE(TensorView<const double>(dg), TensorView<const double>(gg.data(), {4}), mt::kFdTol);
    MOODNET_REQUIRE_CLOSE(TensorView<const double>(db), TensorView<const double>(gb.data(), {4}), mt::kFdTol);
  }
}

TEST_CASE("groupnorm is bit-identical for 1 and 2 threads", "[kernels][groupnorm]") {
  const GroupNormParams p{5, 16, 17, 13, 4};
  const int saved = moodnet::num_threads();
  moodnet::set_num_threads(1);
  const auto a = run_gn<float, false>(p, 61);
  moodnet::set_num_threads(2);
  const auto b = run_gn<float, false>(p, 61);
  moodnet::set_num_threads(saved);
  for (auto [u, v] : {std::pair{&a.y, &b.y}, {&a.dx, &b.dx}, {&a.dgamma, &b.dgamma}, {&a.dbeta, &b.dbeta},
                      {&a.rstd, &b.rstd}})
    REQUIRE(std::memcmp(u->data(), v->data(), sizeof(float) * u->numel()) == 0);
}

TEST_CASE("groupnorm rejects bad parameters, naming the value", "[kernels][groupnorm]") {
  CHECK_THROWS_WITH((GroupNormParams{2, 6, 3, 3, 4}.validate()), Catch::Contains("G=4") && Catch::Contains("C=6"));
  CHECK_THROWS_WITH((GroupNormParams{2, 6, 3, 3, 0}.validate()), Catch::Contains("G=0"));
  CHECK_THROWS_WITH((GroupNormParams{2, 6, 0, 3, 1}.validate()), Catch::Contains("H=0"));
  GroupNormParams p{2, 6, 3, 3, 3};
  p.eps = -1;
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("eps=-1"));
  float v[2 * 6 * 9] = {};
  CHECK_THROWS_AS(kn::groupnorm_forward(GroupNormParams{2, 6, 3, 3, 4}, v, v, v, v, v, v), moodnet::Error);
}

TEST_CASE("groupnorm fused ReLU: forward is max(0, gn(x)) and backward is the plain backward of the masked gradient, "
          "bit for bit", "[kernels][groupnorm]") {
  for (GroupNormParams p : {GroupNormParams{3, 8, 3, 3, 4}, GroupNormParams{2, 6, 5, 3, 3}, GroupNormParams{2, 16, 17, 13, 8}}) {
    INFO("N=" << p.N << " C=" << p.C << " H=" << p.H << " W=" << p.W << " G=" << p.G);
    const Shape xs{p.N, p.C, p.H, p.W}, cs{p.C}, gs{p.N, p.G};
    const Tensor<float> x = mt::random_tensor<float>(xs, 61, -2.0, 3.0), dy = mt::random_tensor<float>(xs, 62);
    const Tensor<float> gamma = mt::random_tensor<float>(cs, 63, 0.5, 1.5), beta = mt::random_tensor<float>(cs, 64);
    Tensor<float> y_plain(xs), y_fused(xs), mean(gs), rstd(gs), masked(xs), dx_fused(xs), dx_plain(xs);
    Tensor<float> dg_fused(cs), db_fused(cs), dg_plain(cs), db_plain(cs);
    moodnet::Workspace ws;
    GroupNormParams plain = p;
    kn::groupnorm_forward(plain, x.data(), gamma.data(), beta.data(), y_plain.data(), mean.data(), rstd.data());
    p.fuse_relu = true;
    kn::groupnorm_forward(p, x.data(), gamma.data(), beta.data(), y_fused.data(), mean.data(), rstd.data());
    std::int64_t clamped = 0;
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      REQUIRE(y_fused.data()[i] == std::max(y_plain.data()[i], 0.0f));
      masked.data()[i] = y_fused.data()[i] > 0 ? dy.data()[i] : 0.0f;
      clamped += y_fused.data()[i] == 0;
    }
    REQUIRE(clamped > 0);
    REQUIRE(clamped < x.numel());
    kn::groupnorm_backward(p, x.data(), dy.data(), gamma.data(), mean.data(), rstd.data(), dx_fused.data(),
                           dg_fused.data(), db_fused.data(), ws, beta.data());
    kn::groupnorm_backward(plain, x.data(), masked.data(), gamma.data(), mean.data(), rstd.data(), dx_plain.data(),
                           dg_plain.data(), db_plain.data(), ws);
    REQUIRE(std::memcmp(dx_fused.data(), dx_plain.data(), sizeof(float) * dx_fused.numel()) == 0);
    REQUIRE(std::memcmp(dg_fused.data(), dg_plain.data(), sizeof(float) * dg_fused.numel()) == 0);
    REQUIRE(std::memcmp(db_fused.data(), db_plain.data(), sizeof(float) * db_fused.numel()) == 0);
  }
  GroupNormParams fused{2, 4, 3, 3, 2};
  fused.fuse_relu = true;
  float v[72] = {};
  moodnet::Workspace ws;
  REQUIRE_THROWS_AS(kn::groupnorm_backward(fused, v, v, v, v, v, v, v, v, ws), moodnet::Error);
}
