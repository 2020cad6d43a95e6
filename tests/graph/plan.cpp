// The execution plan (graph/plan.hpp): what the passes leave of a residual network, state_dict
// names on the steps, the skipped input gradient, planned memory, gradients through shared and
// borrowed values (nested residuals) by finite differences in double, and bad calls.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../support/check.hpp"
#include "../support/nets.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/graph/memory_plan.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models.hpp"

using namespace moodnet;

namespace {

int count(const graph::Plan<float>& p, graph::StepKind k) {
  return static_cast<int>(std::count_if(p.steps().begin(), p.steps().end(), [&](const auto& s) { return s->kind() == k; }));
}
const graph::Step<float>* find(const graph::Plan<float>& p, const std::string& name) {
  for (const auto& s : p.steps())
    if (s->name == name) return s.get();
  return nullptr;
}

}  // namespace

TEST_CASE("Plan: the passes reach inside residual blocks, in training and in eval", "[graph][plan]") {
  Model<float> m(test::small_resnet<float>(), Shape{1, 20, 20}, 1);
  const Shape batch{4, 1, 20, 20};
  m.train();
  const graph::Plan<float>& train = m.plan(batch);
  CHECK(count(train, graph::StepKind::activation) == 0);  // every ReLU fused into a norm or an add
  CHECK(count(train, graph::StepKind::add) == 2);
  for (const auto& s : train.steps())
    if (auto* add = dynamic_cast<const graph::AddStep<float>*>(s.get())) CHECK(add->fused_relu());
  CHECK(count(train, graph::StepKind::batchnorm2d) == 6);
  CHECK(count(train, graph::StepKind::dropout) == 1);

  m.eval();
  const graph::Plan<float>& eval = m.plan(batch);
  CHECK(count(eval, graph::StepKind::batchnorm2d) == 0);  // all folded, the projection shortcut's too
  CHECK(count(eval, graph::StepKind::dropout) == 0);      // the identity in eval
  CHECK(count(eval, graph::StepKind::activation) == 0);
  const auto* conv2 = find(eval, "layer2.0.conv2");
  REQUIRE(conv2 != nullptr);
  CHECK(conv2->module_type == "Conv2d");
  REQUIRE(conv2->fused.size() == 1);
  CHECK(conv2->fused[0] == "BatchNorm2d layer2.0.bn2");
  const auto* down = find(eval, "layer2.0.downsample.0");
  REQUIRE(down != nullptr);
  CHECK(down->fused.size() == 1);
  // Names are the state_dict prefixes of the modules.
  CHECK(m.named_parameters()[3].name == "layer1.0.conv1.weight");
  CHECK(find(train, "layer1.0.bn1") != nullptr);
  CHECK(find(train, "layer1.0.bn1")->fused == std::vector<std::string>{"ReLU layer1.0.relu"});
}

TEST_CASE("Plan: activations live in one arena planned by liveness", "[graph][memory]") {
  Model<float> m(test::small_resnet<float>(), Shape{1, 20, 20}, 1);
  const Shape batch{8, 1, 20, 20};
  m.train();
  const auto& train = m.plan(batch);
  m.eval();
  const auto& eval = m.plan(batch);
  INFO("train arena " << train.arena_bytes() << " of " << train.unshared_bytes() << "; eval " << eval.arena_bytes());
  CHECK(train.arena_bytes() < train.unshared_bytes());
  CHECK(eval.arena_bytes() * 2 < train.arena_bytes());  // eval keeps nothing for backward
  // The largest activation must fit: [8, 8, 20, 20] floats, twice at least (a step's input and output).
  CHECK(eval.arena_bytes() >= 2 * 8 * 8 * 20 * 20 * 4);
}

TEST_CASE("MemoryPlan: buffers alive at the same time never share bytes", "[graph][memory]") {
  Rng rng(5);
  graph::MemoryPlan mp;
  struct B { std::int64_t bytes; int first, last; };
  std::vector<B> bs;
  for (int i = 0; i < 300; ++i) {
    const int a = static_cast<int>(rng.uniform_int(100)), len = static_cast<int>(rng.uniform_int(20));
    bs.push_back({1 + static_cast<std::int64_t>(rng.uniform_int(5000)), a, a + len});
    const int id = mp.add(bs.back().bytes);
    mp.touch(id, a);
    mp.touch(id, a + len);
  }
  const std::int64_t total = mp.place();
  std::int64_t peak_live = 0;
  for (int t = 0; t < 120; ++t) {
    std::int64_t live = 0;
    for (const B& b : bs)
      if (b.first <= t && t <= b.last) live += b.bytes;
    peak_live = std::max(peak_live, live);
  }
  CHECK(total >= peak_live);
  CHECK(total < mp.unshared_bytes());
  for (std::size_t i = 0; i < bs.size(); ++i) {
    CHECK(mp.offset(static_cast<int>(i)) % graph::MemoryPlan::kAlign == 0);
    CHECK(mp.offset(static_cast<int>(i)) + bs[i].bytes <= total);
    for (std::size_t j = i + 1; j < bs.size(); ++j) {
      const bool same_time = bs[i].first <= bs[j].last && bs[j].first <= bs[i].last;
      const std::int64_t oi = mp.offset(static_cast<int>(i)), oj = mp.offset(static_cast<int>(j));
      const bool same_bytes = oi < oj + bs[j].bytes && oj < oi + bs[i].bytes;
      if (same_time && same_bytes) FAIL("buffers " << i << " and " << j << " overlap");
    }
  }
}

TEST_CASE("Plan: no input gradient unless asked; then it matches finite differences through nested joins",
          "[graph][gradient]") {
  // Residual inside residual, both identity: the input feeds the inner body, the inner join and
  // the outer join — three contributions to one gradient, two of them borrowed.
  auto inner_body = std::make_unique<Sequential<double>>();
  inner_body->emplace<Conv2d<double>>(3, 3, 3, 1, 1, 1, true);
  inner_body->emplace<LeakyReLU<double>>(0.2);
  auto outer_body = std::make_unique<Sequential<double>>();
  outer_body->add(std::make_unique<Residual<double>>(std::move(inner_body)));
  outer_body->emplace<Conv2d<double>>(3, 3, 1, 1, 0, 3);  // grouped 1x1 after the inner join
  auto net = std::make_unique<Sequential<double>>();
  net->add(std::make_unique<Residual<double>>(std::move(outer_body)));
  net->emplace<GlobalAvgPool<double>>();
  net->emplace<Flatten<double>>();
  net->emplace<Linear<double>>(3, 4);
  Model<double> model(std::move(net), Shape{3, 5, 6}, 2);
  model.train();

  Tensor<double> x = test::random_tensor<double>(Shape{2, 3, 5, 6}, 4);
  const std::vector<std::int32_t> labels{1, 3};
  CrossEntropyLoss<double> loss;
  model.zero_grad();
  loss.forward_backward(model.forward(x), labels.data());
  CHECK(model.backward(loss.gradient()).empty());  // the default: nobody reads dx of the input

  model.set_input_grad(true);
  model.zero_grad();
  loss.forward_backward(model.forward(x), labels.data());
  const TensorView<const double> dx = model.backward(loss.gradient());
  REQUIRE(dx.shape() == x.shape());
  Tensor<double> dx_copy = Tensor<double>::uninitialized(x.shape());
  dx_copy.copy_from(dx);
  Tensor<double> dp_copy = Tensor<double>::uninitialized(Shape{model.num_parameters()});
  dp_copy.copy_from(model.parameter_grads());
  auto evaluate = [&] { return loss.forward(model.forward(x), labels.data()); };
  const std::vector<double> num_dx = test::numeric_gradient(x.data(), x.numel(), evaluate);
  const auto e = test::compare(dx_copy.data(), num_dx.data(), x.numel());
  INFO("input: max abs error " << e.max_abs << " at " << e.worst_index);
  CHECK(e.max_abs < 1e-7);
  const std::vector<double> num_dp =
      test::numeric_gradient(model.parameter_values().data(), model.num_parameters(), evaluate);
  const auto ep = test::compare(dp_copy.data(), num_dp.data(), model.num_parameters());
  INFO("parameters: max abs error " << ep.max_abs << " at " << ep.worst_index);
  CHECK(ep.max_abs < 1e-7);
}

TEST_CASE("Plan: bad calls give clear errors", "[graph][errors]") {
  Model<float> m(test::small_resnet<float>(), Shape{1, 20, 20}, 1);
  Tensor<float> x({2, 1, 20, 20});
  m.eval();
  m.forward(x);
  Tensor<float> dy({2, 7});
  REQUIRE_THROWS_WITH(m.backward(dy), Catch::Contains("compiled for training"));
  m.train();
  m.forward(x);
  Tensor<float> wrong({3, 7});
  REQUIRE_THROWS_WITH(m.backward(wrong), Catch::Contains("expected [2, 7]"));
  Tensor<float> small({2, 1, 20, 19});
  REQUIRE_THROWS_WITH(m.forward(small), Catch::Contains("expected [N, 1, 20, 20]"));
  // A network that does not fit its input says which module and why, before anything runs.
  auto net = std::make_unique<Sequential<float>>();
  net->emplace<Conv2d<float>>(2, 4, 3);
  REQUIRE_THROWS_WITH(Model<float>(std::move(net), Shape{3, 8, 8}, 0), Catch::Contains("expects 2 input channels"));
}

TEST_CASE("Model::summary reads the plan: one row per step, fused steps named", "[graph][summary]") {
  Model<float> m(test::small_resnet<float>(), Shape{1, 20, 20}, 1);
  const std::string s = m.summary(2);
  INFO(s);
  CHECK(s.find("layer2.0.downsample.0") != std::string::npos);
  CHECK(s.find("(+ ReLU layer1.0.relu)") != std::string::npos);
  CHECK(s.find("add (+ReLU)") != std::string::npos);
  CHECK(s.find("MiB planned") != std::string::npos);
  CHECK(m.training());
}
