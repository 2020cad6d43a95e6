// The plan's passes (graph/passes.hpp) — BatchNorm2d/GroupNorm+ReLU fusion, eval-mode batchnorm
// folded into the convolution before it, add+ReLU at residual joins — and the skipped input
// gradient are pure speed/memory changes: training steps and eval forwards must give exactly the
// bits of the same network compiled with every pass off.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "../support/check.hpp"
#include "../support/nets.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models.hpp"

using namespace moodnet;

namespace {

bool same_bits(TensorView<const float> a, TensorView<const float> b) {
  return a.numel() == b.numel() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

// Plain SGD over the arena: the same update for both models.
void sgd(Model<float>& m) {
  TensorView<float> w = m.parameter_values(), g = m.parameter_grads();
  for (std::int64_t i = 0; i < w.numel(); ++i) w[i] -= 0.05f * g[i];
}

void check_passes_are_exact(Model<float> fused, Model<float> plain, Shape input) {
  plain.set_passes(graph::PassOptions::none());
  plain.set_input_grad(true);  // the unrewritten plan also computes the input gradient
  const Tensor<float> x = test::random_tensor<float>(input, 21);
  const std::vector<std::int32_t> labels{0, 3, 6, 2, 4};
  CrossEntropyLoss<float> loss_fused, loss_plain;
  for (int step = 0; step < 3; ++step) {
    INFO("step " << step);
    fused.train(), plain.train();
    fused.set_step(step), plain.set_step(step);
    fused.zero_grad(), plain.zero_grad();
    const double l_fused = loss_fused.forward_backward(fused.forward(x), labels.data());
    const double l_plain = loss_plain.forward_backward(plain.forward(x), labels.data());
    REQUIRE(l_fused == l_plain);
    fused.backward(loss_fused.gradient());
    plain.backward(loss_plain.gradient());
    REQUIRE(same_bits(fused.parameter_grads(), plain.parameter_grads()));
    sgd(fused), sgd(plain);
    for (std::size_t i = 0; i < fused.named_buffers().size(); ++i) {
      const auto a = fused.named_buffers()[i].buffer, b = plain.named_buffers()[i].buffer;
      if (a.counter) REQUIRE(*a.counter == *b.counter);
      else REQUIRE(same_bits(a.values, b.values));
    }
    fused.eval(), plain.eval();  // the running statistics and weights just changed: the fold must follow
    REQUIRE(same_bits(fused.forward(x), plain.forward(x)));
  }
  // The passes did rewrite something: fewer steps in both modes.
  const Shape s = input;
  fused.train(), plain.train();
  CHECK(fused.plan(s).steps().size() < plain.plan(s).steps().size());
  fused.eval(), plain.eval();
  CHECK(fused.plan(s).steps().size() < plain.plan(s).steps().size());
}

}  // namespace

TEST_CASE("The plan's passes give bit-identical training steps and eval outputs", "[models][fusion]") {
  const Shape in{5, 1, 48, 48};
  SECTION("MobileNetV1-48 alpha 0.25") {
    check_passes_are_exact(make_mobilenet_v1_48(0.25, 3), make_mobilenet_v1_48(0.25, 3), in);
  }
  SECTION("CustomNet-48 w 8") { check_passes_are_exact(make_customnet_48(8, 3), make_customnet_48(8, 3), in); }
  SECTION("a residual network (identity and projection joins, grouped conv, GroupNorm)") {
    check_passes_are_exact(Model<float>(test::small_resnet<float>(), Shape{1, 20, 20}, 3),
                           Model<float>(test::small_resnet<float>(), Shape{1, 20, 20}, 3), Shape{5, 1, 20, 20});
  }
}
