// The models fuse BatchNorm2d+ReLU and, in eval mode, fold each BatchNorm2d into the convolution
// before it (layers/fusion.hpp). Both are pure speed/memory changes: a training step and an eval
// forward must give exactly the bits of the same network with the layers kept separate.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "../support/check.hpp"
#include "moodnet/layers/fusion.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models.hpp"
#include "moodnet/optim/optimizer.hpp"

using namespace moodnet;

namespace {

bool same_bits(TensorView<const float> a, TensorView<const float> b) {
  return a.numel() == b.numel() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

void check_fusion_is_exact(Model<float> fused, Model<float> plain) {
  CHECK(fuse_norm_relu(plain.network(), false) > 0);
  CHECK(fold_batchnorm_into_conv(plain.network(), false) > 0);
  const Tensor<float> x = test::random_tensor<float>({5, 1, 48, 48}, 21);
  const std::vector<std::int32_t> labels{0, 3, 6, 2, 4};
  OptimizerConfig oc;
  oc.kind = OptimizerKind::sgd, oc.lr = 0.05, oc.momentum = 0.9;
  Optimizer<float> opt_fused(fused, oc), opt_plain(plain, oc);
  CrossEntropyLoss<float> loss_fused, loss_plain;
  for (int step = 0; step < 2; ++step) {
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
    opt_fused.step(), opt_plain.step();
    fused.eval(), plain.eval();  // the running statistics and weights just changed: the fold must follow
    REQUIRE(same_bits(fused.forward(x), plain.forward(x)));
  }
}

}  // namespace

TEST_CASE("Fused BN+ReLU and eval-mode BN folding give bit-identical steps and outputs", "[models][fusion]") {
  SECTION("MobileNetV1-48 alpha 0.25") { check_fusion_is_exact(make_mobilenet_v1_48(0.25, 3), make_mobilenet_v1_48(0.25, 3)); }
  SECTION("CustomNet-48 w 8") { check_fusion_is_exact(make_customnet_48(8, 3), make_customnet_48(8, 3)); }
}
