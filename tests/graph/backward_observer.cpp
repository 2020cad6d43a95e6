// What Plan::backward tells a BackwardObserver (graph/backward_observer.hpp), which data-parallel
// overlap relies on: in every registered model's training plan the steps' parameter gradients tile
// the gradient arena (each element in exactly one step's views), the observer hears of the start
// once and of each step once, a step's gradients hold their final values when it hears of it, and
// observing changes no bit of the gradients.
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <vector>

#include "../support/small_size.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/graph/backward_observer.hpp"
#include "moodnet/models.hpp"

using namespace moodnet;

namespace {

// Records the calls, and each step's parameter gradients as they are when the step is reported.
class Recorder final : public graph::BackwardObserver<float> {
 public:
  int started = 0;
  const graph::Plan<float>* plan = nullptr;
  std::map<const graph::Step<float>*, int> reports;
  std::map<const graph::Step<float>*, std::vector<std::vector<float>>> at_report;

  void backward_started(const graph::Plan<float>& p) override {
    ++started;
    plan = &p;
  }
  void step_done(const graph::Step<float>& s) override {
    ++reports[&s];
    auto& copies = at_report[&s];
    for (const TensorView<float>& g : s.parameter_gradients()) copies.emplace_back(g.data(), g.data() + g.numel());
  }
};

std::vector<float> gradients_of(Model<float>& m, const Tensor<float>& x, const Tensor<float>& dy,
                                graph::BackwardObserver<float>* observer) {
  m.set_step(3);  // the same dropout masks in both passes
  m.zero_grad();
  m.forward(x.view());
  m.backward(dy.view(), observer);
  const TensorView<const float> g = m.parameter_grads();
  return std::vector<float>(g.data(), g.data() + g.numel());
}

}  // namespace

TEST_CASE("Plan: parameter gradients tile the arena; an observer hears of each step once, with its final gradients",
          "[graph][plan]") {
  for (const ModelInfo& info : model_registry()) {
    INFO(info.name);
    ModelSpec spec;
    spec.size = test::small_size(info);
    spec.seed = 4;
    Model<float> m = build_model<float>(info.name, spec);
    m.train();
    Tensor<float> x(m.batch_shape(3));
    fill_uniform(x.view(), 5, -1, 1);
    const graph::Plan<float>& plan = m.plan(x.shape());
    Tensor<float> dy(plan.output_shape());
    fill_uniform(dy.view(), 6, -1, 1);

    const TensorView<const float> arena = m.parameter_grads();
    std::vector<int> hits(static_cast<std::size_t>(arena.numel()), 0);
    int steps_with_grads = 0;
    for (const auto& s : plan.steps()) {
      const auto grads = s->parameter_gradients();
      CHECK(s->has_parameter_grads() == !grads.empty());
      steps_with_grads += grads.empty() ? 0 : 1;
      for (const TensorView<float>& g : grads) {
        const std::int64_t begin = g.data() - arena.data();
        REQUIRE(begin >= 0);
        REQUIRE(begin + g.numel() <= arena.numel());
        for (std::int64_t i = begin; i < begin + g.numel(); ++i) ++hits[static_cast<std::size_t>(i)];
      }
    }
    std::int64_t not_once = 0;
    for (int h : hits) not_once += h != 1;
    CHECK(not_once == 0);
    CHECK(steps_with_grads > 0);

    const std::vector<float> plain = gradients_of(m, x, dy, nullptr);
    Recorder r;
    const std::vector<float> observed = gradients_of(m, x, dy, &r);
    CHECK(r.started == 1);
    CHECK(r.plan == &plan);
    int reported_with_grads = 0;
    for (const auto& s : plan.steps()) {
      if (s->parameter_gradients().empty()) continue;
      ++reported_with_grads;
      CHECK(r.reports[s.get()] == 1);
      // Final when reported: nothing later in the pass changed them.
      const auto grads = s->parameter_gradients();
      const auto& copies = r.at_report[s.get()];
      REQUIRE(copies.size() == grads.size());
      for (std::size_t k = 0; k < grads.size(); ++k)
        CHECK(copies[k] == std::vector<float>(grads[k].data(), grads[k].data() + grads[k].numel()));
    }
    CHECK(reported_with_grads == steps_with_grads);
    for (const auto& [step, n] : r.reports) CHECK(n == 1);
    CHECK(observed == plain);  // the same bits with and without an observer
  }
}
