// Ensembles (train/ensemble.hpp): the mean of probability arrays; an ensemble of one model is that
// model exactly (predict and evaluate); of two, the mean of the two models' probabilities, each
// model normalising and cropping by its own metadata; members that disagree on classes or image
// shape are refused naming both files; --weights a,b names the files (ClassifierFlags).
#include "moodnet/train/ensemble.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/models/registry.hpp"
#include "moodnet/train/classifier_flags.hpp"
#include "../support/temp_dir.hpp"

using namespace moodnet;
using Catch::Contains;

namespace {
// A CustomNet w 8 classifier on `input`, stored images `stored` (a larger size: centre crop), the
// given classes and normalisation.
train::Classifier ens_classifier(const Shape& input, const data::ImageShape& stored,
                                 const std::vector<std::string>& classes, const data::Normalization& norm,
                                 std::uint64_t seed) {
  io::ModelMetadata md;
  md.model = "customnet";
  md.size = {{"w", 8}};
  md.input = input;
  md.image_height = stored.height, md.image_width = stored.width;
  md.class_names = classes;
  md.set_normalization(norm);
  Model<float> model = build_model<float>("customnet", md.spec(seed));
  return {std::move(model), std::move(md), norm};
}
// n random images of `shape`, labels i % k.
data::Dataset ens_dataset(std::int64_t n, const data::ImageShape& shape, const std::vector<std::string>& classes) {
  data::Dataset d = data::Dataset::with_capacity(classes, n, shape, "random");
  Rng rng(11, 0);
  for (std::int64_t i = 0; i < d.images.numel(); ++i) d.images[i] = static_cast<std::uint8_t>(rng.uniform_int(256));
  for (std::int64_t i = 0; i < n; ++i) {
    d.labels[i] = static_cast<std::int32_t>(i % static_cast<std::int64_t>(classes.size()));
    d.keys[static_cast<std::size_t>(i)] = "img" + std::to_string(i);
  }
  return d;
}
// The model's own probabilities of d's images, normalised by `norm`.
std::vector<float> ens_alone(train::Classifier& c, const data::Dataset& d, train::Tta tta) {
  const data::ImageShape s = d.shape();
  Tensor<float> x({d.size(), s.channels, s.height, s.width});
  data::normalize_images(d.images.data(), x.data(), d.size(), s, c.norm);
  return train::predict_probabilities(c.model, x, tta);
}
const std::vector<std::string> kEnsClasses = {"a", "b", "c"};
}  // namespace

TEST_CASE("average_probabilities: the mean of one array is itself, of two their mean", "[train][ensemble]") {
  const std::vector<float> a = {0.2f, 0.3f, 0.5f, 0.9f, 0.05f, 0.05f}, b = {0.6f, 0.1f, 0.3f, 0.1f, 0.7f, 0.2f};
  CHECK(train::average_probabilities({a}) == a);
  const std::vector<float> m = train::average_probabilities({a, b});
  REQUIRE(m.size() == a.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    CHECK(m[i] == static_cast<float>((static_cast<double>(a[i]) + static_cast<double>(b[i])) / 2));
  CHECK_THROWS_WITH(train::average_probabilities({a, {0.5f}}), Contains("members of 6 and 1 values"));
  CHECK_THROWS(train::average_probabilities({}));
}

TEST_CASE("an ensemble of one model is the model: probabilities and evaluation bit-identical", "[train][ensemble]") {
  const data::ImageShape stored{1, 20, 20};
  const data::Dataset d = ens_dataset(9, stored, kEnsClasses);
  std::vector<train::Ensemble::Member> members;
  members.push_back({"one.safetensors", ens_classifier(Shape{1, 16, 16}, stored, kEnsClasses, {0.4f, 0.2f}, 3)});
  train::Ensemble e(std::move(members));
  train::Classifier& c = e.member(0).classifier;
  for (const train::Tta tta : {train::Tta::none, train::Tta::flip, train::Tta::ten_crop}) {
    const std::vector<float> alone = ens_alone(c, d, tta);
    CHECK(e.probabilities(d.images.data(), d.size(), tta) == alone);
  }
  const train::EvalResult one = train::evaluate(c.model, d, c.norm, train::Tta::flip);
  const train::EnsembleEvalResult ens = train::evaluate(e, d, train::Tta::flip);
  CHECK(ens.ensemble.probabilities == one.probabilities);
  CHECK(ens.ensemble.loss == one.loss);
  CHECK(ens.ensemble.confusion.table() == one.confusion.table());
  REQUIRE(ens.member_correct.size() == 1);
  CHECK(ens.member_correct[0] == one.confusion.correct());
}

TEST_CASE("an ensemble of two: the mean of each model's own probabilities (own normalisation, own crop)",
          "[train][ensemble]") {
  const data::ImageShape stored{3, 20, 20};
  const data::Dataset d = ens_dataset(8, stored, kEnsClasses);
  std::vector<train::Ensemble::Member> members;
  // A crop model (16x16 of 20x20) with per-channel statistics beside a whole-image one with one value.
  members.push_back({"a.safetensors", ens_classifier(Shape{3, 16, 16}, stored, kEnsClasses,
                                                     {{0.3f, 0.5f, 0.7f}, {0.2f, 0.3f, 0.25f}}, 1)});
  members.push_back({"b.safetensors", ens_classifier(Shape{3, 20, 20}, stored, kEnsClasses, {0.5f, 0.25f}, 2)});
  train::Ensemble e(std::move(members));
  for (const train::Tta tta : {train::Tta::none, train::Tta::flip}) {
    const std::vector<float> pa = ens_alone(e.member(0).classifier, d, tta), pb = ens_alone(e.member(1).classifier, d, tta);
    REQUIRE(pa != pb);  // two different models, or the mean proves nothing
    std::vector<std::vector<float>> per;
    const std::vector<float> p = e.probabilities(d.images.data(), d.size(), tta, &per);
    REQUIRE(p.size() == pa.size());
    CHECK(per[0] == pa);
    CHECK(per[1] == pb);
    for (std::size_t i = 0; i < p.size(); ++i) CHECK(p[i] == Approx((pa[i] + pb[i]) / 2).margin(1e-7));
    const train::EnsembleEvalResult r = train::evaluate(e, d, tta);
    CHECK(r.ensemble.probabilities == p);
    for (std::size_t m = 0; m < 2; ++m) {
      const std::vector<float>& q = m == 0 ? pa : pb;
      std::int64_t correct = 0;
      for (std::int64_t i = 0; i < d.size(); ++i) {
        const float* row = q.data() + i * 3;
        correct += std::max_element(row, row + 3) - row == d.label(i);
      }
      CHECK(r.member_correct[m] == correct);
    }
  }
}

TEST_CASE("ensemble members must share classes and image shape: errors name both files", "[train][ensemble]") {
  const data::ImageShape stored{1, 20, 20};
  const data::Normalization norm{0.5f, 0.25f};
  const auto pair = [&](train::Classifier b) {
    std::vector<train::Ensemble::Member> m;
    m.push_back({"first.safetensors", ens_classifier(Shape{1, 20, 20}, stored, kEnsClasses, norm, 1)});
    m.push_back({"second.safetensors", std::move(b)});
    return train::Ensemble(std::move(m));
  };
  CHECK_THROWS_WITH(pair(ens_classifier(Shape{1, 20, 20}, stored, {"a", "c", "b"}, norm, 2)),
                    "ensemble: first.safetensors has the classes {a,b,c}, second.safetensors {a,c,b}: members must "
                    "have the same classes in the same order");
  CHECK_THROWS_WITH(pair(ens_classifier(Shape{1, 20, 20}, stored, {"a", "b"}, norm, 2)),
                    Contains("second.safetensors {a,b}"));
  CHECK_THROWS_WITH(pair(ens_classifier(Shape{3, 20, 20}, {3, 20, 20}, kEnsClasses, norm, 2)),
                    "ensemble: first.safetensors reads images as 1x20x20, second.safetensors as 3x20x20 (channels x "
                    "height x width): members must read images of one shape");
  CHECK_THROWS_WITH(pair(ens_classifier(Shape{1, 20, 20}, {1, 24, 24}, kEnsClasses, norm, 2)),
                    Contains("as 1x24x24"));
  // Another input of the same stored images (a crop model) and another normalisation are fine.
  CHECK_NOTHROW(pair(ens_classifier(Shape{1, 16, 16}, stored, kEnsClasses, {0.4f, 0.3f}, 2)));
}

TEST_CASE("--weights a,b loads an ensemble from files; mismatched files are named", "[train][ensemble]") {
  test::TempDir dir("ensemble");
  const data::ImageShape stored{1, 16, 16};
  const data::Normalization norm{0.5f, 0.25f};
  const auto save = [&](const std::string& name, train::Classifier c) {
    io::save_weights(dir.file(name), c.model, c.metadata);
    return dir.file(name);
  };
  const std::string a = save("a.safetensors", ens_classifier(Shape{1, 16, 16}, stored, kEnsClasses, norm, 1));
  const std::string b = save("b.safetensors", ens_classifier(Shape{1, 16, 16}, stored, kEnsClasses, {0.3f, 0.2f}, 2));
  const std::string odd = save("odd.safetensors", ens_classifier(Shape{1, 16, 16}, stored, {"x", "y", "z"}, norm, 3));
  const std::string comma = save("with,comma.safetensors", ens_classifier(Shape{1, 16, 16}, stored, kEnsClasses, norm, 4));

  train::ClassifierFlags flags;
  flags.threads = 1;
  flags.weights = a;
  CHECK(flags.weights_files() == std::vector<std::string>{a});
  flags.weights = a + "," + b;
  CHECK(flags.weights_files() == std::vector<std::string>{a, b});
  train::Ensemble e = flags.load_ensemble();
  REQUIRE(e.size() == 2);
  CHECK(e.member(1).file == b);
  CHECK(e.member(1).classifier.norm.mean_of(0) == 0.3f);  // each member keeps its own normalisation

  const data::Dataset d = ens_dataset(4, stored, kEnsClasses);
  const std::vector<float> pa = ens_alone(e.member(0).classifier, d, train::Tta::none);
  const std::vector<float> pb = ens_alone(e.member(1).classifier, d, train::Tta::none);
  CHECK(e.probabilities(d.images.data(), d.size(), train::Tta::none) == train::average_probabilities({pa, pb}));

  flags.weights = comma;  // an existing file with a comma in its name is one file
  CHECK(flags.weights_files() == std::vector<std::string>{comma});
  flags.weights = a + "," + odd;
  CHECK_THROWS_WITH(flags.load_ensemble(), Contains("ensemble: " + a + " has the classes {a,b,c}, " + odd + " {x,y,z}"));
  flags.weights = a + ",,";
  CHECK_THROWS_WITH(flags.weights_files(), Contains("an empty file name between commas"));
  flags.weights = a + "," + dir.file("missing.safetensors");
  CHECK_THROWS_WITH(flags.load_ensemble(), Contains("missing.safetensors"));
}
