// MobileNetV1-48 and CustomNet-48: parameter counts and names equal the PyTorch twins'
// (../shared/reference/pytorch_models.py), output shapes through every layer, summary.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "moodnet/models.hpp"

using moodnet::Shape;

namespace {

std::vector<std::string> names_of(moodnet::Model<float>& m) {
  std::vector<std::string> names;
  for (const auto& p : m.named_parameters()) names.push_back(p.name);
  return names;
}

}  // namespace

TEST_CASE("Parameter counts equal the PyTorch twins' for all four configurations", "[models]") {
  CHECK(moodnet::make_mobilenet_v1_48(1.0).num_parameters() == 3213575);
  CHECK(moodnet::make_mobilenet_v1_48(0.5).num_parameters() == 821895);
  CHECK(moodnet::make_customnet_48(64).num_parameters() == 4819271);
  CHECK(moodnet::make_customnet_48(32).num_parameters() == 1240231);
}

TEST_CASE("MobileNetV1-48 parameter and buffer names are the twin's state_dict keys", "[models]") {
  auto m = moodnet::make_mobilenet_v1_48(0.5);
  const auto names = names_of(m);
  // 1 stem conv + 27 BN (2 params each) + 13 dw + 13 pw convs + fc (2) = 1 + 54 + 26 + 2.
  REQUIRE(names.size() == 83);
  CHECK(names.front() == "features.0.weight");
  CHECK(names[1] == "features.1.weight");
  CHECK(names[2] == "features.1.bias");
  CHECK(names[3] == "features.3.weight");  // first depthwise conv (index 2 is the ReLU)
  CHECK(names[names.size() - 2] == "fc.weight");
  CHECK(names.back() == "fc.bias");
  const auto& params = m.named_parameters();
  CHECK(params[0].param->shape == Shape{16, 1, 3, 3});
  CHECK(params[3].param->shape == Shape{16, 1, 3, 3});    // depthwise: [C, 1, 3, 3]
  CHECK(params[6].param->shape == Shape{32, 16, 1, 1});   // features.6: pointwise 16 -> 32
  CHECK(params.back().param->shape == Shape{7});
  CHECK(params[params.size() - 2].param->shape == Shape{7, 512});
  // Weight decay applies to conv/linear weights only.
  CHECK(params[0].param->decay);
  CHECK_FALSE(params[1].param->decay);
  CHECK_FALSE(params.back().param->decay);

  const auto buffers = m.named_buffers();
  REQUIRE(buffers.size() == 27 * 3);
  CHECK(buffers[0].name == "features.1.running_mean");
  CHECK(buffers[1].name == "features.1.running_var");
  CHECK(buffers[2].name == "features.1.num_batches_tracked");
  CHECK(buffers[2].buffer.counter != nullptr);
  CHECK(buffers[1].buffer.values[0] == 1.0f);  // running_var starts at 1
}

TEST_CASE("CustomNet-48 names follow the twin: features.*, head.0/head.3", "[models]") {
  auto m = moodnet::make_customnet_48(32);
  const auto names = names_of(m);
  const std::set<std::string> expected_prefixes = {"features.0.weight", "features.1.weight", "features.1.bias",
                                                   "features.3.weight", "features.4.weight", "features.4.bias",
                                                   "features.8.weight", "head.0.weight",     "head.0.bias",
                                                   "head.3.weight",     "head.3.bias"};
  const std::set<std::string> got(names.begin(), names.end());
  for (const auto& e : expected_prefixes) CHECK(got.count(e) == 1);
  REQUIRE(names.size() == 4 * 6 + 4);
  CHECK(names.back() == "head.3.bias");
  CHECK(m.named_parameters()[3].param->shape == Shape{32, 32, 3, 3});
  // Only BatchNorm has buffers: 4 stages x 3.
  CHECK(m.named_buffers().size() == 12);
  CHECK(m.metadata().at("model") == "customnet");
  CHECK(m.metadata().at("w") == "32");
}

TEST_CASE("Output shapes through every layer and the model summary", "[models]") {
  auto mb = moodnet::make_mobilenet_v1_48(1.0);
  CHECK(mb.network().output_shape(Shape{64, 1, 48, 48}) == Shape{64, 7});
  auto& features = dynamic_cast<moodnet::Sequential<float>&>(mb.network()[0]);
  Shape s{2, 1, 48, 48};
  std::vector<Shape> after_pw;
  for (std::size_t i = 0; i < features.size(); ++i) {
    s = features[i].output_shape(s);
    if (i >= 3 && (i - 3) % 6 == 5) after_pw.push_back(s);  // after each block's last ReLU
  }
  REQUIRE(after_pw.size() == 13);
  CHECK(after_pw[0] == Shape{2, 64, 48, 48});
  CHECK(after_pw[1] == Shape{2, 128, 24, 24});
  CHECK(after_pw[3] == Shape{2, 256, 12, 12});
  CHECK(after_pw[5] == Shape{2, 512, 6, 6});
  CHECK(after_pw[12] == Shape{2, 1024, 3, 3});

  auto cn = moodnet::make_customnet_48(64);
  CHECK(cn.network().output_shape(Shape{3, 1, 48, 48}) == Shape{3, 7});
  const std::string summary = cn.summary(64);
  CHECK(summary.find("features.0") != std::string::npos);
  CHECK(summary.find("GroupNorm") != std::string::npos);
  CHECK(summary.find("[64, 512, 3, 3]") != std::string::npos);
  CHECK(summary.find("trainable parameters: 4,819,271") != std::string::npos);

  REQUIRE_THROWS_WITH(cn.network().output_shape(Shape{3, 3, 48, 48}),
                      Catch::Contains("Conv2d expects 1 input channels"));
  REQUIRE_THROWS_WITH(moodnet::make_customnet_48(0), Catch::Contains("got 0"));
  REQUIRE_THROWS_WITH(moodnet::make_mobilenet_v1_48(-1.0), Catch::Contains("alpha"));
}

TEST_CASE("Initialisation is seeded: same seed same weights, other seed other weights", "[models]") {
  auto a = moodnet::make_customnet_48(8, 1), b = moodnet::make_customnet_48(8, 1), c = moodnet::make_customnet_48(8, 2);
  const auto va = a.parameter_values(), vb = b.parameter_values(), vc = c.parameter_values();
  bool same_ab = true, same_ac = true;
  for (std::int64_t i = 0; i < va.numel(); ++i) {
    same_ab = same_ab && va[i] == vb[i];
    same_ac = same_ac && va[i] == vc[i];
  }
  CHECK(same_ab);
  CHECK_FALSE(same_ac);
  // BatchNorm/GroupNorm affine: gamma = 1, beta = 0.
  const auto& bn = a.named_parameters()[1];
  REQUIRE(bn.name == "features.1.weight");
  CHECK(bn.param->value[0] == 1.0f);
  CHECK(a.named_parameters()[2].param->value[0] == 0.0f);
  // Kaiming normal for the first conv: std sqrt(2 / 9) over 8*9 = 72 values: loose bound.
  const auto& w0 = a.named_parameters()[0].param->value;
  double s2 = 0;
  for (std::int64_t i = 0; i < w0.numel(); ++i) s2 += double(w0[i]) * w0[i];
  CHECK(std::sqrt(s2 / w0.numel()) == Approx(std::sqrt(2.0 / 9)).epsilon(0.3));
}
