// Layer behaviour: BatchNorm and Dropout switch with train/eval, Residual adds and back-propagates
// into both branches, Flatten is a view, bad input shapes throw.
#include <catch2/catch.hpp>

#include <memory>

#include "../support/check.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/models/model.hpp"

using namespace moodnet;

TEST_CASE("BatchNorm2d: batch statistics in training, running statistics in eval", "[layers][batchnorm]") {
  auto net = std::make_unique<Sequential<double>>();
  net->emplace<BatchNorm2d<double>>(2);
  Model<double> m(std::move(net), Shape{2, 3, 3}, 1);
  Tensor<double> x = test::random_tensor<double>(Shape{4, 2, 3, 3}, 5, 2.0, 4.0);  // mean 3, far from 0

  m.train();
  const auto y_train = m.forward(x);
  double mean = 0;
  for (std::int64_t n = 0; n < 4; ++n)
    for (int i = 0; i < 9; ++i) mean += y_train(n, 0, i / 3, i % 3);
  CHECK(mean / 36 == Approx(0.0).margin(1e-12));  // normalised with the batch mean

  auto buffers = m.named_buffers();
  REQUIRE(buffers.size() == 3);
  const double running_mean0 = buffers[0].buffer.values[0];
  CHECK(running_mean0 == Approx(0.1 * 3.0).epsilon(0.1));  // momentum 0.1 from 0 toward ~3
  CHECK(*buffers[2].buffer.counter == 1);

  m.eval();
  const auto y_eval = m.forward(x);
  // Eval uses running stats (mean ~0.3, var ~0.9 + 0.1 * var): outputs stay far from zero mean.
  double eval_mean = 0;
  for (std::int64_t i = 0; i < 18; ++i) eval_mean += y_eval[i];
  CHECK(eval_mean / 18 > 1.0);
  CHECK(*buffers[2].buffer.counter == 1);  // eval does not count batches
  Tensor<double> dy({4, 2, 3, 3});
  REQUIRE_THROWS_WITH(m.backward(dy), Catch::Contains("training"));
}

TEST_CASE("Dropout: zeros and rescales in training, identity in eval; masks follow the step", "[layers][dropout]") {
  auto net = std::make_unique<Sequential<float>>();
  net->emplace<Dropout<float>>(0.5);
  Model<float> m(std::move(net), Shape{10000}, 9);
  Tensor<float> x({1, 10000});
  x.fill(1.0f);
  m.train();
  m.set_step(7);
  Tensor<float> y1 = Tensor<float>::uninitialized(x.shape());
  y1.copy_from(m.forward(x));
  int zeros = 0;
  for (float v : y1) {
    REQUIRE((v == 0.0f || v == 2.0f));
    zeros += v == 0.0f;
  }
  CHECK(zeros == Approx(5000).margin(250));
  m.set_step(7);
  const auto y2 = m.forward(x);
  for (std::int64_t i = 0; i < x.numel(); ++i) REQUIRE(y1[i] == y2[i]);  // same step, same mask
  const auto y3 = m.forward(x);  // no set_step: next step, another mask
  int differ = 0;
  for (std::int64_t i = 0; i < x.numel(); ++i) differ += y1[i] != y3[i];
  CHECK(differ > 1000);
  m.eval();
  const auto ye = m.forward(x);
  CHECK(ye.data() == x.data());  // no step at all in eval: the output is the input
}

TEST_CASE("Residual: y = body(x) + x, and gradients flow into both branches", "[layers][residual]") {
  auto body = std::make_unique<Sequential<double>>();
  body->emplace<Linear<double>>(3, 3, false);
  auto net = std::make_unique<Sequential<double>>();
  net->add(std::make_unique<Residual<double>>(std::move(body)));
  Model<double> m(std::move(net), Shape{3}, 2);
  m.set_input_grad(true);
  auto& w = m.named_parameters()[0];
  CHECK(w.name == "0.body.0.weight");
  // W = 2 * I: y = 2x + x = 3x.
  w.param->value.zero();
  for (int i = 0; i < 3; ++i) w.param->value(i, i) = 2.0;
  Tensor<double> x({1, 3});
  x[0] = 1, x[1] = -2, x[2] = 0.5;
  const auto y = m.forward(x);
  CHECK(y[0] == 3.0);
  CHECK(y[1] == -6.0);
  CHECK(y[2] == 1.5);
  Tensor<double> dy({1, 3});
  dy.fill(1.0);
  m.zero_grad();
  const auto dx = m.backward(dy);
  for (int i = 0; i < 3; ++i) CHECK(dx[i] == 3.0);          // W^T dy + dy
  CHECK(w.param->grad(1, 0) == Approx(x[0]));               // dW = dy^T x
  CHECK(w.param->grad(0, 1) == Approx(x[1]));

  REQUIRE_THROWS_WITH(
      Residual<double>(std::make_unique<Linear<double>>(3, 4)).output_shape(Shape{1, 3}),
      Catch::Contains("does not match shortcut output"));
}

TEST_CASE("Flatten is a view; layers reject inputs that do not fit", "[layers]") {
  auto net = std::make_unique<Sequential<float>>();
  net->emplace<Flatten<float>>();
  Model<float> m(std::move(net), Shape{3, 4, 5}, 0);
  m.set_input_grad(true);
  Tensor<float> x({2, 3, 4, 5});
  const auto y = m.forward(x);
  CHECK(y.shape() == Shape{2, 60});
  CHECK(y.data() == x.data());
  Tensor<float> dy({2, 60});
  const auto dx = m.backward(dy);
  CHECK(dx.shape() == x.shape());
  CHECK(dx.data() == dy.data());  // the gradient is lent, not copied
  Conv2d<float> conv(3, 8, 3, 1, 1);
  REQUIRE_THROWS_WITH(conv.output_shape(Shape{2, 4, 8, 8}), Catch::Contains("expects 3 input channels"));
  REQUIRE_THROWS_WITH(Conv2d<float>(6, 8, 3, 1, 1, 4), Catch::Contains("groups"));
  REQUIRE_THROWS_WITH(conv.output_shape(Shape{2, 3, 8}), Catch::Contains("rank-4"));
  REQUIRE_THROWS_AS(GroupNorm<float>(3, 8), Error);
  REQUIRE_THROWS_AS(Dropout<float>(1.0), Error);
}
