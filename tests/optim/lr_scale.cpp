// OptimizerConfig::norm_bias_lr_scale: norm parameters and biases (the arena's no-decay slots) step
// with lr x S, everything else with lr; S = 1 is the plain optimizer; bad scales are errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "moodnet/layers.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/optim/optimizer.hpp"

using namespace moodnet;

namespace {
// Conv 1x1 (weight [2,1,1,1] decays, bias [2] does not) then batchnorm (gamma, beta [2]: no decay).
Model<double> lr_scale_tiny() {
  auto net = std::make_unique<Sequential<double>>();
  net->emplace<Conv2d<double>>(1, 2, 1, 1, 0, 1, true);
  net->emplace<BatchNorm2d<double>>(2);
  return Model<double>(std::move(net), Shape{1, 1, 1}, 1);
}

// Whether arena element i belongs to a norm parameter or a bias (a no-decay slot).
std::vector<bool> lr_scale_norm_or_bias(Model<double>& m) {
  const ParamArena<double> a = m.arena();
  std::vector<bool> v(static_cast<std::size_t>(a.size()));
  for (const auto& s : a.slots)
    for (std::int64_t i = s.offset; i < s.offset + s.numel; ++i) v[static_cast<std::size_t>(i)] = !s.decay;
  return v;
}

// The parameters after `steps` steps from `start` with the fixed gradient g_i = grad x (0.5 + i).
std::vector<double> lr_scale_after(OptimizerConfig c, int steps, double start = 0, double grad = 1) {
  Model<double> m = lr_scale_tiny();
  Optimizer<double> opt(m.arena(), c);
  auto v = m.parameter_values();
  auto g = m.parameter_grads();
  v.fill(start);
  for (int s = 0; s < steps; ++s) {
    for (std::int64_t i = 0; i < g.numel(); ++i) g[i] = grad * (0.5 + static_cast<double>(i));
    opt.step();
  }
  return std::vector<double>(v.begin(), v.end());
}

OptimizerConfig lr_scale_sgd(double momentum) {
  OptimizerConfig c;
  c.name = "sgd";
  c.lr = 0.1;
  c.momentum = momentum;
  c.nesterov = false;
  c.weight_decay = 0;
  return c;
}
}  // namespace

TEST_CASE("norm_bias_lr_scale: norm parameters and biases move S times as far, weights as before", "[optim]") {
  Model<double> m = lr_scale_tiny();
  const std::vector<bool> scaled = lr_scale_norm_or_bias(m);
  REQUIRE(scaled.size() == 8);
  CHECK(std::count(scaled.begin(), scaled.end(), true) == 6);  // conv bias, gamma, beta

  for (const double momentum : {0.0, 0.9}) {  // SGD without momentum (one step), with momentum (3 steps)
    const int steps = momentum == 0 ? 1 : 3;
    OptimizerConfig c = lr_scale_sgd(momentum);
    const std::vector<double> one = lr_scale_after(c, steps);
    c.norm_bias_lr_scale = 4;
    const std::vector<double> four = lr_scale_after(c, steps);
    for (std::size_t i = 0; i < one.size(); ++i) {
      INFO("element " << i << ", momentum " << momentum);
      CHECK(one[i] != 0.0);
      if (scaled[i]) CHECK(four[i] == Approx(4 * one[i]).epsilon(1e-14));
      else CHECK(four[i] == one[i]);  // the same bits
    }
    if (momentum == 0)  // by hand: p = -lr g
      for (std::size_t i = 0; i < one.size(); ++i)
        CHECK(four[i] == Approx(-(scaled[i] ? 0.4 : 0.1) * (0.5 + static_cast<double>(i))).epsilon(1e-14));
  }

  // Adam's first step moves every element by lr (bias correction): by 4 lr where scaled.
  OptimizerConfig adam;
  adam.name = "adam";
  adam.lr = 0.01;
  adam.weight_decay = 0;
  adam.norm_bias_lr_scale = 4;
  const std::vector<double> a = lr_scale_after(adam, 1);
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(scaled[i] ? -0.04 : -0.01).epsilon(1e-6));

  // With weight decay on everything, the scaled rate applies to the decay of those elements too.
  OptimizerConfig wd = lr_scale_sgd(0);
  wd.weight_decay = 0.5;
  wd.decay_norm_and_bias = true;
  wd.norm_bias_lr_scale = 2;
  const std::vector<double> decayed = lr_scale_after(wd, 1, 1.0, 0.0);  // from 1, zero gradient
  for (std::size_t i = 0; i < decayed.size(); ++i)
    CHECK(decayed[i] == Approx(1 - (scaled[i] ? 0.2 : 0.1) * 0.5).epsilon(1e-14));
}

TEST_CASE("norm_bias_lr_scale: 1 is the plain optimizer; non-positive or non-finite scales are errors", "[optim]") {
  OptimizerConfig c = lr_scale_sgd(0.9);
  const std::vector<double> plain = lr_scale_after(c, 3);
  c.norm_bias_lr_scale = 1;
  CHECK(lr_scale_after(c, 3) == plain);
  Model<double> m = lr_scale_tiny();
  for (const double bad : {0.0, -1.0, std::numeric_limits<double>::infinity()}) {
    c.norm_bias_lr_scale = bad;
    CHECK_THROWS_WITH(Optimizer<double>(m.arena(), c), Catch::StartsWith("the norm/bias learning-rate scale must be > 0, got "));
  }
}
