// The arena optimizer: weight decay skips norm parameters and biases unless asked, the step counter
// advances once per step, learning rate changes apply, clipping bounds the update, bad configs throw.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "moodnet/layers.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/optim/optimizer.hpp"

using namespace moodnet;

namespace {
Model<double> tiny() {
  auto net = std::make_unique<Sequential<double>>();
  net->emplace<Conv2d<double>>(1, 2, 1, 1, 0, 1, true);  // weight [2,1,1,1] (decay), bias [2] (no decay)
  net->emplace<BatchNorm2d<double>>(2);                  // gamma, beta: no decay
  return Model<double>(std::move(net), Shape{1, 1, 1}, 1);
}
}  // namespace

TEST_CASE("SGD with weight decay leaves biases and norm parameters undecayed", "[optim]") {
  Model<double> m = tiny();
  OptimizerConfig c;
  c.name = "sgd";
  c.lr = 0.1;
  c.momentum = 0;
  c.nesterov = false;
  c.weight_decay = 0.5;
  Optimizer<double> opt(m.arena(), c);
  auto v = m.parameter_values();
  v.fill(1.0);
  m.zero_grad();  // zero gradient: only weight decay moves parameters
  opt.step();
  // weight: p -= lr * wd * p = 1 - 0.05; bias, gamma, beta untouched.
  REQUIRE(v.numel() == 8);
  for (int i = 0; i < 2; ++i) CHECK(v[i] == Approx(0.95));
  for (std::int64_t i = 2; i < v.numel(); ++i) CHECK(v[i] == 1.0);
  CHECK(opt.steps() == 1);

  c.decay_norm_and_bias = true;
  Optimizer<double> all(m.arena(), c);
  v.fill(1.0);
  all.step();
  for (std::int64_t i = 0; i < v.numel(); ++i) CHECK(v[i] == Approx(0.95));
}

TEST_CASE("Adam: one step per step(), bias-corrected; set_lr applies; clipping bounds the norm", "[optim]") {
  Model<double> m = tiny();
  OptimizerConfig c;
  c.name = "adam";
  c.lr = 0.01;
  c.weight_decay = 0;
  c.clip_grad_norm = 1.0;
  Optimizer<double> opt(m.arena(), c);
  auto v = m.parameter_values();
  auto g = m.parameter_grads();
  v.zero();
  g.fill(3.0);  // norm sqrt(8 * 9) = 8.49 > 1: clipped to 1
  const double norm = opt.step();
  CHECK(norm == Approx(std::sqrt(72.0)));
  // First Adam step moves every parameter by lr * sign(g) (bias correction makes m/sqrt(v) = 1).
  for (double p : v) CHECK(p == Approx(-0.01).epsilon(1e-6));
  opt.set_lr(0.0);
  g.fill(1.0);
  opt.step();
  for (double p : v) CHECK(p == Approx(-0.01).epsilon(1e-6));
  CHECK(opt.steps() == 2);
  CHECK(opt.state_buffers().size() == 2);
  CHECK(opt.state_buffers()[0].first == "exp_avg");
}

TEST_CASE("Optimizer configs are validated", "[optim]") {
  Model<double> m = tiny();
  OptimizerConfig c;
  c.lr = -1;
  REQUIRE_THROWS_WITH(Optimizer<double>(m.arena(), c), Catch::Contains("learning rate must be > 0, got -1"));
  c.lr = 0.1;
  c.momentum = 0;
  c.nesterov = true;
  REQUIRE_THROWS_WITH(Optimizer<double>(m.arena(), c), Catch::Contains("Nesterov"));
  REQUIRE_THROWS_WITH(check_optimizer_name("rmsprop"),
                      Catch::Contains("unknown optimizer 'rmsprop' (expected sgd, adam or adamw)"));
  c.nesterov = false;
  c.name = "rmsprop";
  REQUIRE_THROWS_WITH(Optimizer<double>(m.arena(), c), Catch::Contains("unknown optimizer 'rmsprop'"));
  CHECK_NOTHROW(check_optimizer_name("adamw"));
  CHECK(optimizer_names() == std::vector<std::string>{"sgd", "adam", "adamw"});
}

TEST_CASE("The optimizer needs only an arena: two arrays and the parameter slots", "[optim]") {
  // Six values: a "weight" of 4 (decayed) and a "bias" of 2 (not decayed), no Model anywhere.
  Tensor<double> values({6}), grads({6});
  values.fill(1.0);
  ParamArena<double> arena{values, grads, {{"w", 0, 4, true}, {"b", 4, 2, false}}};
  OptimizerConfig c;
  c.name = "sgd", c.lr = 0.1, c.momentum = 0, c.nesterov = false, c.weight_decay = 0.5;
  Optimizer<double> opt(arena, c);
  grads.fill(1.0);
  opt.step();
  // w: 1 - 0.1 * (1 + 0.5 * 1) = 0.85; b: 1 - 0.1 * 1 = 0.9.
  for (int i = 0; i < 4; ++i) CHECK(values[i] == Approx(0.85));
  for (int i = 4; i < 6; ++i) CHECK(values[i] == Approx(0.9));

  // The model's arena is the same view: slots in state_dict order, covering the whole arena.
  Model<double> m = tiny();
  const ParamArena<double> a = m.arena();
  CHECK(a.values.data() == m.parameter_values().data());
  CHECK(a.grads.data() == m.parameter_grads().data());
  REQUIRE(a.slots.size() == 4);
  CHECK(a.slots[0].name == "0.weight");
  CHECK(a.slots[0].decay);
  CHECK_FALSE(a.slots[1].decay);
  CHECK(a.slots.back().offset + a.slots.back().numel == a.size());

  ParamArena<double> bad{values, grads, {{"w", 4, 4, true}}};
  CHECK_THROWS_WITH(Optimizer<double>(bad, c), Catch::Contains("parameter w [4, 8) lies outside the arena of 6"));
}

namespace {
// A rule of the user's own: signSGD with a step counter buffer, p -= lr * sign(g + wd * p).
class SignSgd final : public UpdateRule<double> {
 public:
  std::vector<std::string> state_names() const override { return {"last_step"}; }
  void update(const UpdateStep& s, const double* grad, double* param, double* const* state,
              std::int64_t n) const override {
    for (std::int64_t i = 0; i < n; ++i) {
      const double g = grad[i] + s.weight_decay * param[i];
      param[i] -= s.lr * (g > 0 ? 1.0 : g < 0 ? -1.0 : 0.0);
      state[0][i] = static_cast<double>(s.step);
    }
  }
};
}  // namespace

TEST_CASE("An update rule of the caller's own drives the optimizer: decay ranges, steps and state buffers", "[optim]") {
  Tensor<double> values({5}), grads({5});
  values.fill(1.0);
  ParamArena<double> arena{values, grads, {{"w", 0, 3, true}, {"b", 3, 2, false}}};
  OptimizerConfig c;
  c.name = "signsgd", c.lr = 0.25, c.weight_decay = 4.0;
  Optimizer<double> opt(arena, c, std::make_unique<SignSgd>());
  for (std::int64_t i = 0; i < 5; ++i) grads[i] = i == 1 || i == 4 ? -0.5 : 0.0;
  opt.step();
  opt.step();
  // w: g = grad + 4 * p > 0 on both steps (p stays >= 0.5): 1 - 2 * 0.25 = 0.5;
  // b (no decay): sign(grad) = -1 at index 4 (p rises to 1.5), 0 at index 3.
  CHECK(values[0] == 0.5);
  CHECK(values[1] == 0.5);
  CHECK(values[2] == 0.5);
  CHECK(values[3] == 1.0);
  CHECK(values[4] == 1.5);
  const auto buffers = opt.state_buffers();
  REQUIRE(buffers.size() == 1);
  CHECK(buffers[0].first == "last_step");
  for (std::int64_t i = 0; i < 5; ++i) CHECK(buffers[0].second[i] == 2.0);
  CHECK_THROWS_WITH(Optimizer<double>(arena, c, nullptr), Catch::Contains("no update rule"));
}
