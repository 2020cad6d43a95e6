// linear (fully connected) against the loop oracle, finite differences in double, bad shapes,
// thread-count independence of the gradients.
#include "moodnet/kernels/linear.hpp"

#include <catch2/catch.hpp>

#include <cstring>

#include "../support/check.hpp"
#include "moodnet/kernels/ref/linear.hpp"

using moodnet::kernels::LinearParams;
using moodnet::Shape;
using moodnet::Tensor;
namespace test = moodnet::test;

namespace {
template <class T>
void check_linear_against_ref(const LinearParams& p, bool with_bias, double tol, std::uint64_t seed) {
  INFO("N=" << p.N << " in=" << p.in << " out=" << p.out << (with_bias ? " bias" : ""));
  const auto x = test::random_tensor<T>(p.input_shape(), seed);
  const auto w = test::random_tensor<T>(p.weight_shape(), seed + 1);
  const auto b = test::random_tensor<T>(Shape{p.out}, seed + 2);
  const auto dy = test::random_tensor<T>(p.output_shape(), seed + 3);
  auto y = Tensor<T>::uninitialized(p.output_shape());
  auto dx = test::random_tensor<T>(p.input_shape(), seed + 4);  // overwritten
  auto dw = test::random_tensor<T>(p.weight_shape(), seed + 5);  // accumulated
  auto db = test::random_tensor<T>(Shape{p.out}, seed + 6);      // accumulated
  Tensor<T> y_ref(p.output_shape()), dx_ref(p.input_shape()), dw_ref = dw, db_ref = db;
  moodnet::kernels::linear_forward<T>(p, x, w, with_bias ? b.data() : nullptr, y);
  moodnet::kernels::linear_backward_input<T>(p, dy, w, dx);
  moodnet::kernels::linear_backward_weight<T>(p, x, dy, dw);
  moodnet::kernels::linear_backward_bias<T>(p, dy, db);
  moodnet::kernels::ref::linear_forward(p.N, p.in, p.out, x.data(), w.data(), with_bias ? b.data() : nullptr, y_ref.data());
  moodnet::kernels::ref::linear_backward_input(p.N, p.in, p.out, dy.data(), w.data(), dx_ref.data());
  moodnet::kernels::ref::linear_backward_weight(p.N, p.in, p.out, x.data(), dy.data(), dw_ref.data());
  moodnet::kernels::ref::linear_backward_bias(p.N, p.out, dy.data(), db_ref.data());
  MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), tol);
  MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), tol);
  MOODNET_REQUIRE_CLOSE(dw.view(), dw_ref.view(), tol);
  MOODNET_REQUIRE_CLOSE(db.view(), db_ref.view(), tol);
}
}  // namespace

TEST_CASE("linear matches the oracle on odd and real shapes", "[kernels][linear]") {
  std::uint64_t seed = 10;
  for (std::int64_t N : {1, 3, 64})
    for (std::int64_t in : {1, 7, 33, 256})
      for (std::int64_t out : {1, 7, 31, 33, 256})
        for (bool bias : {false, true}) {
          check_linear_against_ref<float>({N, in, out}, bias, test::kFloatTol, seed += 10);
          check_linear_against_ref<double>({N, in, out}, bias, test::kDoubleTol, seed += 10);
        }
  check_linear_against_ref<float>({64, 512, 256}, true, test::kFloatTol, 1);
  check_linear_against_ref<float>({64, 1024, 7}, true, test::kFloatTol, 2);
}

TEST_CASE("linear gradients match finite differences (double)", "[kernels][linear][gradient]") {
  const LinearParams p{3, 5, 4};
  auto x = test::random_tensor<double>(p.input_shape(), 1);
  auto w = test::random_tensor<double>(p.weight_shape(), 2);
  auto b = test::random_tensor<double>(Shape{p.out}, 3);
  const auto wy = test::random_tensor<double>(p.output_shape(), 4);
  Tensor<double> y(p.output_shape()), dx(p.input_shape()), dw(p.weight_shape()), db(Shape{p.out});
  auto loss = [&] {
    moodnet::kernels::linear_forward<double>(p, x, w, b.data(), y);
    return test::weighted_sum(y.data(), wy.data(), y.numel());
  };
  moodnet::kernels::linear_backward_input<double>(p, wy, w, dx);
  moodnet::kernels::linear_backward_weight<double>(p, x, wy, dw);
  moodnet::kernels::linear_backward_bias<double>(p, wy, db);
  const auto gx = test::numeric_gradient(x.data(), x.numel(), loss);
  const auto gw = test::numeric_gradient(w.data(), w.numel(), loss);
  const auto gb = test::numeric_gradient(b.data(), b.numel(), loss);
  CHECK(test::compare(dx.data(), gx.data(), dx.numel()).max_rel <= test::kFdTol);
  CHECK(test::compare(dw.data(), gw.data(), dw.numel()).max_rel <= test::kFdTol);
  CHECK(test::compare(db.data(), gb.data(), db.numel()).max_rel <= test::kFdTol);
}

TEST_CASE("linear gradients are bit-identical with 1 and 2 threads", "[kernels][linear][threads]") {
  const int saved = moodnet::num_threads();
  for (const LinearParams p : {LinearParams{64, 512, 256}, LinearParams{37, 100, 7}, LinearParams{5, 1024, 130}}) {
    INFO("N=" << p.N << " in=" << p.in << " out=" << p.out);
    const auto x = test::random_tensor<float>(p.input_shape(), 1);
    const auto dy = test::random_tensor<float>(p.output_shape(), 2);
    Tensor<float> dw[2], db[2];
    for (int t : {1, 2}) {
      moodnet::set_num_threads(t);
      dw[t - 1] = Tensor<float>(p.weight_shape());
      db[t - 1] = Tensor<float>(Shape{p.out});
      moodnet::kernels::linear_backward_weight<float>(p, x, dy, dw[t - 1]);
      moodnet::kernels::linear_backward_bias<float>(p, dy, db[t - 1]);
    }
    CHECK(std::memcmp(dw[0].data(), dw[1].data(), sizeof(float) * dw[0].numel()) == 0);
    CHECK(std::memcmp(db[0].data(), db[1].data(), sizeof(float) * db[0].numel()) == 0);
  }
  moodnet::set_num_threads(saved);
}

// Forward and backward-input are single GEMMs called outside any parallel region: Eigen must not
// spread them over the threads (its blocking, hence the rounding, would follow the thread count).
TEST_CASE("linear forward and input gradient are bit-identical with 1 and 2 threads", "[kernels][linear][threads]") {
  const int saved = moodnet::num_threads();
  for (const LinearParams p : {LinearParams{64, 512, 256}, LinearParams{1, 1024, 130}, LinearParams{37, 100, 7}}) {
    INFO("N=" << p.N << " in=" << p.in << " out=" << p.out);
    const auto x = test::random_tensor<double>(p.input_shape(), 3);
    const auto w = test::random_tensor<double>(p.weight_shape(), 4);
    const auto dy = test::random_tensor<double>(p.output_shape(), 5);
    Tensor<double> y[2], dx[2];
    for (int t : {1, 2}) {
      moodnet::set_num_threads(t);
      y[t - 1] = Tensor<double>(p.output_shape());
      dx[t - 1] = Tensor<double>(p.input_shape());
      moodnet::kernels::linear_forward<double>(p, x, w, nullptr, y[t - 1]);
      moodnet::kernels::linear_backward_input<double>(p, dy, w, dx[t - 1]);
    }
    CHECK(std::memcmp(y[0].data(), y[1].data(), sizeof(double) * y[0].numel()) == 0);
    CHECK(std::memcmp(dx[0].data(), dx[1].data(), sizeof(double) * dx[0].numel()) == 0);
  }
  moodnet::set_num_threads(saved);
}

TEST_CASE("linear rejects bad shapes with a message naming the values", "[kernels][linear][errors]") {
  REQUIRE_THROWS_WITH((LinearParams{0, 3, 4}.validate()), Catch::Contains("N=0"));
  REQUIRE_THROWS_WITH((LinearParams{2, 3, -1}.validate()), Catch::Contains("out=-1"));
  const LinearParams p{2, 3, 4};
  Tensor<float> x({2, 5}), w(p.weight_shape()), y(p.output_shape());
  REQUIRE_THROWS_WITH(moodnet::kernels::linear_forward<float>(p, x, w, nullptr, y),
                      Catch::Contains("input x has shape [2, 5], expected [2, 3]"));
  Tensor<float> x_ok(p.input_shape()), w_bad({3, 4});
  REQUIRE_THROWS_WITH(moodnet::kernels::linear_forward<float>(p, x_ok, w_bad, nullptr, y),
                      Catch::Contains("weight w has shape [3, 4], expected [4, 3]"));
  Tensor<float> db({3});
  REQUIRE_THROWS_WITH(moodnet::kernels::linear_backward_bias<float>(p, y, db), Catch::Contains("db has shape [3], expected [4]"));
}
