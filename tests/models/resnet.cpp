// ResNet-48 and ResNeXt-48 (models/resnet.hpp): parameter counts, state_dict names and shapes equal
// the PyTorch twins' (../shared/reference/pytorch_models.py, torchvision's names) for the three
// configurations of the issue; output shapes stage by stage; other inputs and class counts; a few
// training steps reduce the loss; finite-difference gradients in double through tiny versions of both.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "moodnet/layers.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/resnet.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "../support/check.hpp"

using namespace moodnet;

namespace {

// name -> shape of every parameter and buffer, and the names in order.
struct StateDict {
  std::vector<std::string> names;
  std::map<std::string, Shape> shapes;
};
template <class T>
StateDict state_dict(Model<T>& m) {
  StateDict d;
  for (const auto& p : m.named_parameters()) d.names.push_back(p.name), d.shapes[p.name] = p.param->shape;
  for (const auto& b : m.named_buffers())  // num_batches_tracked: an int64 scalar (shape [])
    d.names.push_back(b.name), d.shapes[b.name] = b.buffer.counter ? Shape{} : b.buffer.values.shape();
  return d;
}

// Every name of `expected` is in the state_dict with that shape.
void check_shapes(const StateDict& d, const std::map<std::string, Shape>& expected) {
  for (const auto& [name, shape] : expected) {
    INFO(name);
    REQUIRE(d.shapes.count(name) == 1);
    CHECK(d.shapes.at(name) == shape);
  }
}

// Every stage's output shape for a batch of 2 (children 3..6 of the root are layer1..layer4).
std::vector<Shape> stage_shapes(Model<float>& m) {
  Shape s = m.batch_shape(2);
  std::vector<Shape> out;
  for (std::size_t i = 0; i < m.network().size(); ++i) {
    s = m.network()[i].output_shape(s);
    if (m.network().child_name(i).rfind("layer", 0) == 0) out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("ResNet-48 and ResNeXt-48 parameter counts equal the twins'", "[models][resnet]") {
  CHECK(make_resnet_48(32, 1).num_parameters() == 1227623);  // ResNet-10-48 w32
  CHECK(make_resnet_48(24, 2).num_parameters() == 1574191);  // ResNet-18-48 w24
  CHECK(make_resnext_48(8, 4, 64, 2).num_parameters() == 992743);  // ResNeXt-48 8x4d
  CHECK(make_resnext_48().num_parameters() == 992743);  // the defaults are the twin's
  CHECK(make_resnet_48().num_parameters() == 1227623);
}

TEST_CASE("ResNet-10-48 w32: torchvision state_dict names and shapes", "[models][resnet]") {
  auto m = make_resnet_48(32, 1);
  const StateDict d = state_dict(m);
  // 1 stem conv + 1 BN, 4 blocks x (2 conv + 2 BN), 3 projections (conv + BN), fc: 12 BN, 12 conv.
  // Parameters: 12 conv weights + 12 x 2 BN + fc 2 = 38; buffers 12 x 3.
  CHECK(m.named_parameters().size() == 38);
  CHECK(m.named_buffers().size() == 36);
  const std::map<std::string, Shape> expected = {
      {"conv1.weight", {32, 1, 3, 3}},
      {"bn1.weight", {32}},
      {"bn1.running_mean", {32}},
      {"bn1.num_batches_tracked", {}},
      {"layer1.0.conv1.weight", {32, 32, 3, 3}},
      {"layer1.0.bn1.bias", {32}},
      {"layer1.0.conv2.weight", {32, 32, 3, 3}},
      {"layer1.0.bn2.running_var", {32}},
      {"layer2.0.conv1.weight", {64, 32, 3, 3}},
      {"layer2.0.downsample.0.weight", {64, 32, 1, 1}},
      {"layer2.0.downsample.1.weight", {64}},
      {"layer2.0.downsample.1.running_mean", {64}},
      {"layer3.0.downsample.0.weight", {128, 64, 1, 1}},
      {"layer4.0.conv2.weight", {256, 256, 3, 3}},
      {"layer4.0.downsample.1.bias", {256}},
      {"fc.weight", {7, 256}},
      {"fc.bias", {7}},
  };
  check_shapes(d, expected);
  CHECK(d.shapes.count("layer1.0.downsample.0.weight") == 0);  // identity shortcut in stage 1
  // Order: the twin's registration order (conv1, bn1, layer1.0.conv1, ..., downsample after bn2, fc).
  CHECK(m.named_parameters()[0].name == "conv1.weight");
  CHECK(m.named_parameters()[3].name == "layer1.0.conv1.weight");
  CHECK(m.named_parameters()[9].name == "layer2.0.conv1.weight");
  CHECK(m.named_parameters()[15].name == "layer2.0.downsample.0.weight");
  CHECK(m.named_parameters()[37].name == "fc.bias");
  CHECK(m.metadata().at("model") == "resnet");
  CHECK(m.metadata().at("w") == "32");
  CHECK(m.metadata().at("blocks") == "1");
}

TEST_CASE("ResNet-18-48 w24: two blocks per stage, projection only in the first", "[models][resnet]") {
  auto m = make_resnet_48(24, 2);
  const StateDict d = state_dict(m);
  CHECK(m.named_parameters().size() == 3 + 8 * 6 + 3 * 3 + 2);
  for (const char* name : {"layer1.1.conv2.weight", "layer2.1.bn1.weight", "layer4.1.conv1.weight",
                           "layer3.0.downsample.0.weight"})
    CHECK(d.shapes.count(name) == 1);
  CHECK(d.shapes.count("layer2.1.downsample.0.weight") == 0);
  CHECK(d.shapes.at("layer4.1.conv1.weight") == Shape{192, 192, 3, 3});
  CHECK(d.shapes.at("layer2.0.downsample.0.weight") == Shape{48, 24, 1, 1});
  CHECK(d.shapes.at("fc.weight") == Shape{7, 192});
}

TEST_CASE("ResNeXt-48 8x4d: bottleneck names, grouped conv2, stem w/2", "[models][resnet]") {
  auto m = make_resnext_48(8, 4, 64, 2);
  const StateDict d = state_dict(m);
  // stem (conv + BN) + 8 blocks x (3 conv + 3 BN) + 4 projections + fc.
  CHECK(m.named_parameters().size() == 3 + 8 * 9 + 4 * 3 + 2);
  const std::map<std::string, Shape> expected = {
      {"conv1.weight", {32, 1, 3, 3}},                  // stem: w / 2
      {"layer1.0.conv1.weight", {32, 32, 1, 1}},        // 1x1 -> width 8 * 4
      {"layer1.0.conv2.weight", {32, 4, 3, 3}},         // 8 groups of 4
      {"layer1.0.conv3.weight", {64, 32, 1, 1}},
      {"layer1.0.bn3.weight", {64}},
      {"layer1.0.downsample.0.weight", {64, 32, 1, 1}},  // 32 -> 64 channels at stride 1
      {"layer2.0.conv2.weight", {64, 8, 3, 3}},
      {"layer2.0.downsample.0.weight", {128, 64, 1, 1}},
      {"layer3.1.conv2.weight", {128, 16, 3, 3}},
      {"layer4.1.conv2.weight", {256, 32, 3, 3}},
      {"layer4.1.conv3.weight", {512, 256, 1, 1}},
      {"layer4.1.bn3.num_batches_tracked", {}},
      {"fc.weight", {7, 512}},
  };
  check_shapes(d, expected);
  CHECK(d.shapes.count("layer1.1.downsample.0.weight") == 0);
  CHECK(m.metadata().at("model") == "resnext");
  CHECK(m.metadata().at("cardinality") == "8");
  CHECK(m.metadata().at("group_width") == "4");
}

TEST_CASE("Residual nets: stage shapes, other inputs and class counts, bad sizes", "[models][resnet]") {
  auto rn = make_resnet_48(32, 1);
  const auto s = stage_shapes(rn);
  REQUIRE(s.size() == 4);
  CHECK(s[0] == Shape{2, 32, 48, 48});
  CHECK(s[1] == Shape{2, 64, 24, 24});
  CHECK(s[2] == Shape{2, 128, 12, 12});
  CHECK(s[3] == Shape{2, 256, 6, 6});
  CHECK(rn.network().output_shape(Shape{3, 1, 48, 48}) == Shape{3, 7});
  auto rx = make_resnext_48();
  const auto t = stage_shapes(rx);
  CHECK(t[0] == Shape{2, 64, 48, 48});
  CHECK(t[3] == Shape{2, 512, 6, 6});

  // Another input and class count: only conv1 and fc change.
  auto rgb = make_resnet_48(32, 1, 0, 10, Shape{3, 64, 64});
  CHECK(rgb.network().output_shape(Shape{2, 3, 64, 64}) == Shape{2, 10});
  CHECK(rgb.num_parameters() == 1227623 + 2 * 32 * 9 + 3 * 257);
  auto rx_rgb = make_resnext_48(8, 4, 64, 2, 0, 3, Shape{3, 32, 40});
  CHECK(rx_rgb.network().output_shape(Shape{1, 3, 32, 40}) == Shape{1, 3});

  REQUIRE_THROWS_WITH(make_resnet_48(0), Catch::Contains("w must be in [1, 1024], got 0"));
  REQUIRE_THROWS_WITH(make_resnet_48(32, 0), Catch::Contains("blocks per stage"));
  REQUIRE_THROWS_WITH(make_resnext_48(0), Catch::Contains("cardinality"));
  REQUIRE_THROWS_WITH(make_resnext_48(8, 4, 64, 2, 0, 0), Catch::Contains("num_classes"));
  REQUIRE_THROWS_WITH(make_resnet_48(32, 1, 0, 7, Shape{1, 48}), Catch::Contains("[channels, height, width]"));
}

TEST_CASE("A few training steps reduce the loss of both residual nets on a tiny batch", "[models][resnet][training]") {
  const Tensor<float> x = test::random_tensor<float>(Shape{8, 1, 16, 16}, 5);
  const std::vector<std::int32_t> labels = {0, 1, 2, 3, 4, 5, 6, 0};
  for (int which = 0; which < 2; ++which) {
    INFO((which == 0 ? "ResNet-48 w8" : "ResNeXt-48 4x2d w16"));
    Model<float> m = which == 0 ? make_resnet_48(8, 1, 3, 7, Shape{1, 16, 16})
                                : make_resnext_48(4, 2, 16, 1, 3, 7, Shape{1, 16, 16});
    OptimizerConfig oc;
    oc.name = "adam";
    oc.lr = 0.01;
    oc.weight_decay = 0;
    Optimizer<float> opt(m.arena(), oc);
    CrossEntropyLoss<float> loss;
    m.train();
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      m.set_step(static_cast<std::uint64_t>(step));
      m.zero_grad();
      last = loss.forward_backward(m.forward(x), labels.data());
      m.backward(loss.gradient());
      opt.step();
      if (step == 0) first = last;
    }
    INFO("loss " << first << " -> " << last);
    CHECK(std::isfinite(last));
    CHECK(last < 0.5 * first);
  }
}

// Central finite differences of the cross-entropy loss in double, for every parameter and the
// input, through a tiny ResNet and a tiny ResNeXt (2-channel 8x8 inputs, 5 classes, dropout off).
// Step 1e-7, not kFdStep: a 2-channel stem weight moves every pixel of its channel, and with the
// default 1e-5 some pre-activations cross a ReLU kink (errors up to 1e-2 at h = 1e-5 that fall to
// ~5e-9 at 1e-7, measured, so the gradients are right); the rounding noise at 1e-7 is ~1e-9.
TEST_CASE("Tiny ResNet-48 and ResNeXt-48 gradients match finite differences (double)", "[models][resnet][gradient]") {
  for (int which = 0; which < 2; ++which) {
    INFO((which == 0 ? "ResNet-48 w2 blocks 1" : "ResNeXt-48 2x1d w4 blocks 1"));
    Model<double> m = which == 0 ? make_resnet_48<double>(2, 1, 7, 5, Shape{2, 8, 8})
                                 : make_resnext_48<double>(2, 1, 4, 1, 7, 5, Shape{2, 8, 8});
    m.train();
    m.set_input_grad(true);
    m.for_each_layer([](const std::string&, Layer<double>& l) {
      if (l.type_name() == "Dropout") l.set_training(false);
    });
    Tensor<double> x = test::random_tensor<double>(Shape{3, 2, 8, 8}, 11);
    const std::vector<std::int32_t> labels = {0, 4, 2};
    CrossEntropyLoss<double> loss(0.1);
    auto evaluate = [&] { return loss.forward(m.forward(x), labels.data()); };

    m.zero_grad();
    CHECK(std::isfinite(loss.forward_backward(m.forward(x), labels.data())));
    Tensor<double> dx = Tensor<double>::uninitialized(x.shape());
    dx.copy_from(m.backward(loss.gradient()));

    constexpr double h = 1e-7;
    const std::vector<double> num_dp =
        test::numeric_gradient(m.parameter_values().data(), m.num_parameters(), evaluate, h);
    const auto ep = test::compare(m.parameter_grads().data(), num_dp.data(), m.num_parameters());
    INFO("parameters: " << m.num_parameters() << ", max abs error " << ep.max_abs << " at " << ep.worst_index);
    CHECK(ep.max_abs < 1e-6);
    const std::vector<double> num_dx = test::numeric_gradient(x.data(), x.numel(), evaluate, h);
    const auto ex = test::compare(dx.data(), num_dx.data(), x.numel());
    INFO("input: max abs error " << ex.max_abs << " at " << ex.worst_index);
    CHECK(ex.max_abs < 1e-6);
    double norm = 0;
    for (double g : m.parameter_grads()) norm += g * g;
    CHECK(norm > 1e-6);
  }
}
