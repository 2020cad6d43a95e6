// train::evaluate and predict_probabilities for any image shape: gray 48x48 exactly as the
// one-channel path always computed it, RGB with per-channel normalisation, images stored larger
// than the network's input centre-cropped (flip and ten-crop views of the crop), and the errors
// for images that cannot feed the model.
#include "moodnet/train/evaluate.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/models/registry.hpp"

using namespace moodnet;
using Catch::Contains;

namespace {
// n images of `shape` with random pixels, labels i % classes.
data::Dataset random_dataset(std::int64_t n, const data::ImageShape& shape, int classes, std::uint64_t seed) {
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c) names.push_back("c" + std::to_string(c));
  data::Dataset d = data::Dataset::with_capacity(names, n, shape, "random");
  Rng rng(seed, 0);
  for (std::int64_t i = 0; i < d.images.numel(); ++i) d.images[i] = static_cast<std::uint8_t>(rng.uniform_int(256));
  for (std::int64_t i = 0; i < n; ++i) {
    d.labels[i] = static_cast<std::int32_t>(i % classes);
    d.keys[static_cast<std::size_t>(i)] = "img" + std::to_string(i);
  }
  return d;
}
Model<float> customnet(const Shape& input, int classes) {
  ModelSpec s;
  s.input = input;
  s.num_classes = classes;
  s.seed = 5;
  s.size = {{"w", 8}};
  return build_model<float>("customnet", s);
}
// Softmax probabilities of the model on x (eval mode), [n, K] row-major.
std::vector<float> probabilities_of(Model<float>& model, TensorView<const float> x) {
  model.eval();
  const TensorView<const float> logits = model.forward(x);
  std::vector<float> p(static_cast<std::size_t>(logits.numel()));
  train::softmax_rows(logits.data(), logits.dim(0), logits.dim(1), p.data());
  return p;
}
}  // namespace

TEST_CASE("evaluate on gray 48x48 images is the one-channel path exactly", "[train][evaluate]") {
  const data::Dataset d = random_dataset(10, data::kFer2013Shape, 7, 1);
  Model<float> model = customnet(Shape{1, 48, 48}, 7);
  const data::Normalization norm{0.5077f, 0.2551f};
  Tensor<float> x({10, 1, 48, 48});
  data::normalize_pixels(d.images.data(), x.data(), x.numel(), norm);
  const std::vector<float> want = probabilities_of(model, x);
  const train::EvalResult r = train::evaluate(model, d, norm);
  REQUIRE(r.probabilities.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(r.probabilities[i] == want[i]);  // bit-identical
  double loss = 0;
  for (std::int64_t i = 0; i < d.size(); ++i) loss -= std::log(static_cast<double>(want[static_cast<std::size_t>(i * 7 + d.label(i))]));
  CHECK(r.loss == Approx(loss / 10).epsilon(1e-12));
  CHECK(r.confusion.total() == 10);
}

TEST_CASE("evaluate on RGB images stored larger than the input: per-channel norm, centre crop, TTA views",
          "[train][evaluate]") {
  const data::ImageShape stored{3, 20, 22};
  const data::Dataset d = random_dataset(6, stored, 3, 2);
  Model<float> model = customnet(Shape{3, 16, 16}, 3);
  const data::Normalization norm{{0.4f, 0.5f, 0.6f}, {0.2f, 0.25f, 0.3f}};
  Tensor<float> x({6, 3, 20, 22});
  data::normalize_images(d.images.data(), x.data(), 6, stored, norm);
  // Channel 1 of image 0, pixel 0, by hand.
  CHECK(x[20 * 22] == Approx((d.images[20 * 22] / 255.0 - 0.5) / 0.25).epsilon(1e-6));

  const Tensor<float> crop = data::centre_crop(x, 16);
  const std::vector<float> want = probabilities_of(model, crop);
  const train::EvalResult r = train::evaluate(model, d, norm);
  REQUIRE(r.probabilities.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) REQUIRE(r.probabilities[i] == Approx(want[i]).margin(1e-6));

  // flip: the mean of the crop's and its mirror's probabilities.
  const std::vector<float> mirrored = probabilities_of(model, data::tta_hflip(crop));
  const std::vector<float> flip = train::predict_probabilities(model, x, train::Tta::flip);
  for (std::int64_t i = 0; i < 6; ++i)
    for (int k = 0; k < 3; ++k)
      REQUIRE(flip[static_cast<std::size_t>(i * 3 + k)] ==
              Approx((mirrored[static_cast<std::size_t>(2 * i * 3 + k)] + mirrored[static_cast<std::size_t>((2 * i + 1) * 3 + k)]) / 2)
                  .margin(1e-6));
  // ten-crop: ten 16x16 crops of the stored 20x22 image (no resizing).
  const std::vector<float> ten = probabilities_of(model, data::tta_ten_crop(x, {16, false}));
  const std::vector<float> got = train::predict_probabilities(model, x, train::Tta::ten_crop);
  for (std::int64_t i = 0; i < 6; ++i)
    for (int k = 0; k < 3; ++k) {
      double s = 0;
      for (int v = 0; v < 10; ++v) s += ten[static_cast<std::size_t>((10 * i + v) * 3 + k)];
      REQUIRE(got[static_cast<std::size_t>(i * 3 + k)] == Approx(s / 10).margin(1e-6));
    }
  CHECK(train::input_views(x, Shape{3, 16, 16}, train::Tta::ten_crop).shape() == Shape{60, 3, 16, 16});
}

TEST_CASE("evaluate: images that cannot feed the model are one-line errors", "[train][evaluate]") {
  Model<float> rgb = customnet(Shape{3, 16, 16}, 3);
  const data::Normalization one{0.5f, 0.25f};
  CHECK_THROWS_WITH(train::evaluate(rgb, random_dataset(2, {1, 16, 16}, 3, 3), one),
                    "the images of random have 1 channel(s) (1x16x16), the model takes [3, 16, 16]");
  CHECK_THROWS_WITH(train::evaluate(rgb, random_dataset(2, {3, 12, 20}, 3, 3), one),
                    Contains("the images of random are 3x12x20, the model takes [3, 16, 16] (images must have its size"));
  Model<float> wide = customnet(Shape{3, 16, 24}, 3);
  CHECK_THROWS_WITH(train::evaluate(wide, random_dataset(2, {3, 20, 28}, 3, 3), one),
                    Contains("or be larger for a centre crop to a square input"));
  const data::Normalization two{{0.5f, 0.5f}, {0.25f, 0.25f}};
  CHECK_THROWS_WITH(train::evaluate(rgb, random_dataset(2, {3, 16, 16}, 3, 3), two),
                    Contains("normalisation has 2 mean(s) and 2 std(s) for images of 3 channel(s)"));
}
