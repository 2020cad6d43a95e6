#include "moodnet/kernels/batchnorm2d.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

#include "moodnet/core/parallel.hpp"
#include "moodnet/kernels/ref/batchnorm2d.hpp"
#include "../support/check.hpp"

using moodnet::Shape;
using moodnet::Tensor;
using moodnet::kernels::BatchNorm2dParams;
namespace kn = moodnet::kernels;
namespace mt = moodnet::test;

namespace {

// Everything one training forward + backward produces.
template <class T>
struct BnRun {
  Tensor<T> y, mean, rstd, rmean, rvar, dx, dgamma, dbeta, y_eval;
};

template <class T, bool Ref>
BnRun<T> run_bn(const BatchNorm2dParams& p, std::uint64_t seed, bool use_workspace = true) {
  const Shape xs{p.N, p.C, p.H, p.W}, cs{p.C};
  const Tensor<T> x = mt::random_tensor<T>(xs, seed, -2.0, 3.0), dy = mt::random_tensor<T>(xs, seed + 1);
  const Tensor<T> gamma = mt::random_tensor<T>(cs, seed + 2, 0.5, 1.5), beta = mt::random_tensor<T>(cs, seed + 3);
  BnRun<T> r{Tensor<T>(xs), Tensor<T>(cs), Tensor<T>(cs), mt::random_tensor<T>(cs, seed + 4),
             mt::random_tensor<T>(cs, seed + 5, 0.5, 2.0), Tensor<T>(xs), mt::random_tensor<T>(cs, seed + 6),
             mt::random_tensor<T>(cs, seed + 7), Tensor<T>(xs)};
  if constexpr (Ref) {
    namespace k = moodnet::kernels::ref;
    k::batchnorm2d_forward_eval(p, x.data(), gamma.data(), beta.data(), r.rmean.data(), r.rvar.data(), r.y_eval.data());
    k::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), r.y.data(), r.mean.data(), r.rstd.data(),
                                 r.rmean.data(), r.rvar.data());
    k::batchnorm2d_backward(p, x.data(), dy.data(), gamma.data(), beta.data(), r.mean.data(), r.rstd.data(),
                            r.dx.data(), r.dgamma.data(), r.dbeta.data());
  } else {
    namespace k = moodnet::kernels;
    k::batchnorm2d_forward_eval(p, x.data(), gamma.data(), beta.data(), r.rmean.data(), r.rvar.data(), r.y_eval.data());
    k::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), r.y.data(), r.mean.data(), r.rstd.data(),
                                 r.rmean.data(), r.rvar.data());
    moodnet::Workspace ws;
    k::batchnorm2d_backward(p, x.data(), dy.data(), gamma.data(), beta.data(), r.mean.data(), r.rstd.data(),
                            r.dx.data(), r.dgamma.data(), r.dbeta.data(), use_workspace ? &ws : nullptr);
  }
  return r;
}

template <class T>
void check_against_ref(const BatchNorm2dParams& p, double tol) {
  INFO("N=" << p.N << " C=" << p.C << " H=" << p.H << " W=" << p.W << " relu=" << p.fuse_relu);
  const auto a = run_bn<T, false>(p, 11), e = run_bn<T, true>(p, 11);
  MOODNET_REQUIRE_CLOSE(a.y_eval, e.y_eval, tol);
  MOODNET_REQUIRE_CLOSE(a.y, e.y, tol);
  MOODNET_REQUIRE_CLOSE(a.mean, e.mean, tol);
  MOODNET_REQUIRE_CLOSE(a.rstd, e.rstd, tol);
  MOODNET_REQUIRE_CLOSE(a.rmean, e.rmean, tol);
  MOODNET_REQUIRE_CLOSE(a.rvar, e.rvar, tol);
  MOODNET_REQUIRE_CLOSE(a.dx, e.dx, tol);
  MOODNET_REQUIRE_CLOSE(a.dgamma, e.dgamma, tol);
  MOODNET_REQUIRE_CLOSE(a.dbeta, e.dbeta, tol);
}

const std::vector<BatchNorm2dParams> kOddShapes = {
    {1, 1, 17, 13}, {3, 3, 17, 13}, {1, 15, 17, 13}, {3, 16, 17, 13}, {3, 17, 5, 3}, {3, 33, 17, 13}, {3, 16, 48, 48}};

}  // namespace

TEST_CASE("batchnorm2d matches the naive oracle on odd shapes (float and double, with and without ReLU)",
          "[kernels][batchnorm2d]") {
  for (BatchNorm2dParams p : kOddShapes)
    for (bool relu : {false, true}) {
      p.fuse_relu = relu;
      check_against_ref<double>(p, mt::kDoubleTol);
      check_against_ref<float>(p, mt::kFloatTol);
    }
}

TEST_CASE("batchnorm2d float statistics stay accurate for a large offset mean", "[kernels][batchnorm2d]") {
  // mean 1000, std ~1: a float accumulator of E[x^2]-E[x]^2 would lose everything here.
  const BatchNorm2dParams p{4, 2, 48, 48};
  Tensor<float> x = mt::random_tensor<float>({4, 2, 48, 48}, 5, 999.0, 1001.0);
  Tensor<double> xd({4, 2, 48, 48});
  for (std::int64_t i = 0; i < x.numel(); ++i) xd[i] = x[i];
  const std::vector<float> g{1, 1}, b{0, 0};
  const std::vector<double> gd{1, 1}, bd{0, 0};
  Tensor<float> y(x.shape()), m({2}), r({2});
  Tensor<double> yd(x.shape()), md({2}), rd({2});
  kn::batchnorm2d_forward_train(p, x.data(), g.data(), b.data(), y.data(), m.data(), r.data(), (float*)nullptr,
                                (float*)nullptr);
  kn::ref::batchnorm2d_forward_train(p, xd.data(), gd.data(), bd.data(), yd.data(), md.data(), rd.data(),
                                     (double*)nullptr, (double*)nullptr);
  MOODNET_REQUIRE_CLOSE(m, md, 1e-7);
  MOODNET_REQUIRE_CLOSE(r, rd, 1e-5);
  MOODNET_REQUIRE_CLOSE(y, yd, 1e-3);  // y = x*scale + bias in float: cancellation of ~1000*rstd
}

TEST_CASE("batchnorm2d training forward, running statistics and eval against hand-computed values",
          "[kernels][batchnorm2d]") {
  // One channel, N=2, H=1, W=2: x = {1, 2 | 3, 6}. mean = 3, biased var = (4+1+0+9)/4 = 3.5,
  // unbiased var = 14/3. gamma = 2, beta = 0.5, momentum 0.1, eps 1e-5.
  const BatchNorm2dParams p{2, 1, 1, 2};
  const double x[] = {1, 2, 3, 6}, gamma[] = {2}, beta[] = {0.5};
  double y[4], mean[1], rstd[1], rm[] = {0.0}, rv[] = {1.0};
  kn::batchnorm2d_forward_train(p, x, gamma, beta, y, mean, rstd, rm, rv);
  const double r = 1 / std::sqrt(3.5 + 1e-5);
  CHECK(mean[0] == Approx(3.0).epsilon(1e-15));
  CHECK(rstd[0] == Approx(r).epsilon(1e-14));
  CHECK(rm[0] == Approx(0.3).epsilon(1e-15));                   // 0.9*0 + 0.1*3
  CHECK(rv[0] == Approx(0.9 + 0.1 * 14.0 / 3.0).epsilon(1e-15));  // 0.9*1 + 0.1*14/3 (unbiased)
  for (int i = 0; i < 4; ++i) CHECK(y[i] == Approx(2 * (x[i] - 3) * r + 0.5).epsilon(1e-14));
  // A second step keeps blending: running_mean = 0.9*0.3 + 0.1*3 = 0.57.
  kn::batchnorm2d_forward_train(p, x, gamma, beta, y, mean, rstd, rm, rv);
  CHECK(rm[0] == Approx(0.57).epsilon(1e-15));
  // Eval uses the running statistics, not the batch's: y = 2*(x - 0.57)/sqrt(rv + eps) + 0.5.
  kn::batchnorm2d_forward_eval(p, x, gamma, beta, rm, rv, y);
  for (int i = 0; i < 4; ++i) CHECK(y[i] == Approx(2 * (x[i] - 0.57) / std::sqrt(rv[0] + 1e-5) + 0.5).epsilon(1e-14));
  // Fused ReLU clamps the negative outputs: x=1 -> 2*(-2)*r + 0.5 < 0.
  BatchNorm2dParams pr = p;
  pr.fuse_relu = true;
  kn::batchnorm2d_forward_train(pr, x, gamma, beta, y, mean, rstd, (double*)nullptr, (double*)nullptr);
  CHECK(y[0] == 0.0);
  CHECK(y[3] == Approx(2 * 3 * r + 0.5).epsilon(1e-14));
}

TEST_CASE("batchnorm2d backward matches central finite differences in double", "[kernels][batchnorm2d]") {
  for (bool relu : {false, true}) {
    BatchNorm2dParams p{3, 2, 3, 5};
    p.fuse_relu = relu;
    INFO("relu=" << relu);
    const Shape xs{3, 2, 3, 5};
    Tensor<double> x = mt::random_tensor<double>(xs, 21, -1, 1), w = mt::random_tensor<double>(xs, 22);
    Tensor<double> gamma = mt::random_tensor<double>({2}, 23, 0.5, 1.5), beta = mt::random_tensor<double>({2}, 24, -0.3, 0.3);
    Tensor<double> y(xs), m({2}), r({2}), dx(xs), dg({2}), db({2});
    auto loss = [&] {
      kn::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), y.data(), m.data(), r.data(),
                                    (double*)nullptr, (double*)nullptr);
      return mt::weighted_sum(y.data(), w.data(), y.numel());
    };
    if (relu) {  // keep pre-activations away from the ReLU kink so no step crosses it
      BatchNorm2dParams lin = p;
      lin.fuse_relu = false;
      kn::batchnorm2d_forward_train(lin, x.data(), gamma.data(), beta.data(), y.data(), m.data(), r.data(),
                                    (double*)nullptr, (double*)nullptr);
      for (std::int64_t i = 0; i < y.numel(); ++i) REQUIRE(std::abs(y[i]) > 1e-3);
    }
    loss();
    kn::batchnorm2d_backward(p, x.data(), w.data(), gamma.data(), beta.data(), m.data(), r.data(), dx.data(),
                             dg.data(), db.data());
    const auto gx = mt::numeric_gradient(x.data(), x.numel(), loss);
    const auto gg = mt::numeric_gradient(gamma.data(), 2, loss);
    const auto gb = mt::numeric_gradient(beta.data(), 2, loss);
    MOODNET_REQUIRE_CLOSE(moodnet::TensorView<const double>(dx), moodnet::TensorView<const double>(gx.data(), xs), mt::kFdTol);
    MOODNET_REQUIRE_CLOSE(moodnet::TensorView<const double>(dg), moodnet::TensorView<const double>(gg.data(), {2}), mt::kFdTol);
    MOODNET_REQUIRE_CLOSE(moodnet::TensorView<const double>(db), moodnet::TensorView<const double>(gb.data(), {2}), mt::kFdTol);
  }
}

TEST_CASE("batchnorm2d fused ReLU backward equals the plain backward of the ReLU-masked gradient, bit for bit",
          "[kernels][batchnorm2d]") {
  // The fused backward recomputes the ReLU mask from x; it must be exactly where the fused forward
  // clamped (y == 0), also in the vectorised float path and its masked tails (HW = 9, 15, 221).
  for (BatchNorm2dParams p : {BatchNorm2dParams{3, 5, 3, 3}, BatchNorm2dParams{2, 4, 5, 3}, BatchNorm2dParams{3, 3, 17, 13}}) {
    INFO("N=" << p.N << " C=" << p.C << " H=" << p.H << " W=" << p.W);
    const Shape xs{p.N, p.C, p.H, p.W}, cs{p.C};
    const Tensor<float> x = mt::random_tensor<float>(xs, 51, -2.0, 3.0), dy = mt::random_tensor<float>(xs, 52);
    const Tensor<float> gamma = mt::random_tensor<float>(cs, 53, 0.5, 1.5), beta = mt::random_tensor<float>(cs, 54);
    Tensor<float> y(xs), mean(cs), rstd(cs), masked(xs), dx_fused(xs), dx_plain(xs);
    Tensor<float> dg_fused(cs), db_fused(cs), dg_plain(cs), db_plain(cs);
    p.fuse_relu = true;
    kn::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), rstd.data(),
                                  (float*)nullptr, (float*)nullptr);
    std::int64_t clamped = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) {
      masked.data()[i] = y.data()[i] > 0 ? dy.data()[i] : 0.0f;
      clamped += y.data()[i] == 0;
    }
    REQUIRE(clamped > 0);
    REQUIRE(clamped < y.numel());
    kn::batchnorm2d_backward(p, x.data(), dy.data(), gamma.data(), beta.data(), mean.data(), rstd.data(),
                             dx_fused.data(), dg_fused.data(), db_fused.data());
    BatchNorm2dParams plain = p;
    plain.fuse_relu = false;
    kn::batchnorm2d_backward(plain, x.data(), masked.data(), gamma.data(), beta.data(), mean.data(), rstd.data(),
                             dx_plain.data(), dg_plain.data(), db_plain.data());
    REQUIRE(std::memcmp(dx_fused.data(), dx_plain.data(), sizeof(float) * dx_fused.numel()) == 0);
    REQUIRE(std::memcmp(dg_fused.data(), dg_plain.data(), sizeof(float) * dg_fused.numel()) == 0);
    REQUIRE(std::memcmp(db_fused.data(), db_plain.data(), sizeof(float) * db_fused.numel()) == 0);
  }
}

TEST_CASE("batchnorm2d backward accumulates dgamma/dbeta and overwrites dx", "[kernels][batchnorm2d]") {
  const BatchNorm2dParams p{2, 3, 4, 5};
  const auto once = run_bn<double, false>(p, 31);  // dgamma/dbeta started from random values
  const auto ref = run_bn<double, true>(p, 31);
  MOODNET_REQUIRE_CLOSE(once.dgamma, ref.dgamma, mt::kDoubleTol);
  // The starting values are part of the result: dgamma != the plain sum.
  const Tensor<double> start = mt::random_tensor<double>({3}, 31 + 6);
  CHECK(std::abs(once.dgamma[0] - start[0]) > 1e-6);
}

TEST_CASE("batchnorm2d is bit-identical for 1 and 2 threads", "[kernels][batchnorm2d]") {
  for (bool relu : {false, true}) {
    BatchNorm2dParams p{5, 17, 17, 13};
    p.fuse_relu = relu;
    const int saved = moodnet::num_threads();
    moodnet::set_num_threads(1);
    const auto a = run_bn<float, false>(p, 41), a2 = run_bn<float, false>(p, 41, false);
    moodnet::set_num_threads(2);
    const auto b = run_bn<float, false>(p, 41), b2 = run_bn<float, false>(p, 41, false);
    REQUIRE(std::memcmp(a2.dx.data(), b2.dx.data(), sizeof(float) * a2.dx.numel()) == 0);
    moodnet::set_num_threads(saved);
    for (auto [u, v] : {std::pair{&a.y, &b.y}, {&a.dx, &b.dx}, {&a.dgamma, &b.dgamma}, {&a.dbeta, &b.dbeta},
                        {&a.rvar, &b.rvar}, {&a.y_eval, &b.y_eval}})
      REQUIRE(std::memcmp(u->data(), v->data(), sizeof(float) * u->numel()) == 0);
  }
}

TEST_CASE("batchnorm2d backward is bit-identical with and without a workspace", "[kernels][batchnorm2d]") {
  for (bool relu : {false, true}) {
    BatchNorm2dParams p{3, 17, 17, 13};
    p.fuse_relu = relu;
    const auto a = run_bn<float, false>(p, 43, true), b = run_bn<float, false>(p, 43, false);
    for (auto [u, v] : {std::pair{&a.dx, &b.dx}, {&a.dgamma, &b.dgamma}, {&a.dbeta, &b.dbeta}})
      REQUIRE(std::memcmp(u->data(), v->data(), sizeof(float) * u->numel()) == 0);
  }
}

TEST_CASE("batchnorm2d rejects bad parameters, naming the value", "[kernels][batchnorm2d]") {
  float v[8] = {};
  CHECK_THROWS_WITH((BatchNorm2dParams{2, 0, 2, 2}.validate()), Catch::Contains("C=0"));
  BatchNorm2dParams p{2, 1, 2, 2};
  p.eps = 0;
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("eps=0"));
  p.eps = 1e-5;
  p.momentum = 1.5;
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("momentum=1.5"));
  // Training needs more than one value per channel (as PyTorch).
  const BatchNorm2dParams one{1, 1, 1, 1};
  CHECK_THROWS_WITH(kn::batchnorm2d_forward_train(one, v, v, v, v, v, v, v, v), Catch::Contains("N*H*W=1"));
  BatchNorm2dParams fused{2, 1, 2, 2};
  fused.fuse_relu = true;
  CHECK_THROWS_AS(kn::batchnorm2d_backward(fused, v, v, v, (const float*)nullptr, v, v, v, v, v), moodnet::Error);
}
