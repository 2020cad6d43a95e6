// The model registry (models/registry.hpp): every registered model builds from its defaults and its
// recipe, in float and double, for other input shapes and class counts; its weights file round-trips
// (metadata and tensors); unknown names and bad size arguments give one clear error.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/models/registry.hpp"
#include "../support/small_size.hpp"
#include "../support/temp_dir.hpp"

using namespace moodnet;

using test::small_size;

TEST_CASE("Registry entries are well-formed", "[models][registry]") {
  REQUIRE(!model_registry().empty());
  std::set<std::string> names;
  for (const ModelInfo& info : model_registry()) {
    INFO(info.name);
    CHECK(names.insert(info.name).second);  // unique
    CHECK(!info.title.empty());
    CHECK(!info.description.empty());
    CHECK(info.build_float != nullptr);
    CHECK(info.build_double != nullptr);
    CHECK(&find_model(info.name) == &info);
    std::set<std::string> keys, flags;
    for (const SizeArg& a : info.size_args) {
      INFO(a.key);
      CHECK(keys.insert(a.key).second);
      CHECK(flags.insert(a.flag).second);
      CHECK(a.min <= a.max);
      CHECK(a.multiple_of >= 1);
      CHECK(a.accepts(a.default_value));
      CHECK(!a.help.empty());
    }
    // The recipe names only the model's own size arguments, with valid values.
    CHECK_NOTHROW(resolve_size_args(info, info.recipe.size));
    CHECK(info.recipe.epochs >= 1);
    CHECK(info.recipe.batch_size >= 2);
    CHECK(info.recipe.lr > 0);
  }
}

TEST_CASE("Every registered model builds, in float and double, at the default input", "[models][registry]") {
  for (const ModelInfo& info : model_registry()) {
    INFO(info.name);
    ModelSpec spec;
    spec.size = small_size(info);
    Model<float> f = build_model<float>(info.name, spec);
    Model<double> d = build_model<double>(info.name, spec);
    CHECK(f.sample_shape() == default_input_shape());
    CHECK(f.network().output_shape(f.batch_shape(2)) == Shape{2, kDefaultNumClasses});
    CHECK(f.num_parameters() == d.num_parameters());
    CHECK(f.metadata().at("model") == info.name);
    // Builder defaults apply when no size arguments are given; the result equals an explicit spec.
    ModelSpec defaults;
    for (const auto& a : info.size_args) defaults.size[a.key] = a.default_value;
    CHECK(build_model<float>(info.name).num_parameters() == build_model<float>(info.name, defaults).num_parameters());
  }
}

TEST_CASE("Other inputs and class counts change only the first convolution and the classifier", "[models][registry]") {
  for (const ModelInfo& info : model_registry()) {
    INFO(info.name);
    ModelSpec base;
    base.size = small_size(info);
    ModelSpec rgb = base;
    rgb.input = Shape{3, 32, 40};
    rgb.num_classes = 10;
    const Model<float> a = build_model<float>(info.name, base);
    Model<float> b = build_model<float>(info.name, rgb);
    CHECK(b.sample_shape() == Shape{3, 32, 40});
    CHECK(b.network().output_shape(b.batch_shape(2)) == Shape{2, 10});
    // Same names in the same order; the first weight gains input channels, the last two layers classes.
    const auto& pa = a.named_parameters();
    const auto& pb = b.named_parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i].name == pb[i].name);
    const Shape w0a = pa.front().param->shape, w0b = pb.front().param->shape;
    CHECK(w0b[1] == 3 * w0a[1]);
    CHECK(pb.back().param->shape == Shape{10});
    for (std::size_t i = 1; i + 2 < pa.size(); ++i) CHECK(pa[i].param->shape == pb[i].param->shape);
  }
  // CustomNet's four 2x2 poolings need 16x16; the message says so.
  ModelSpec tiny;
  tiny.input = Shape{1, 8, 8};
  CHECK_THROWS_WITH(build_model<float>("customnet", tiny),
                    Catch::StartsWith("CustomNet-48 needs inputs of at least 16x16 (four 2x2 max-poolings), got [1, 8, 8]"));
  tiny.input = Shape{1, 16, 16};
  CHECK(build_model<float>("customnet", tiny).network().output_shape(Shape{1, 1, 16, 16}) == Shape{1, 7});
  tiny.input = Shape{48, 48};
  CHECK_THROWS_WITH(build_model<float>("mobilenet", tiny), Catch::Contains("must be [channels, height, width]"));
}

TEST_CASE("A registered model's weights file round-trips its metadata and tensors", "[models][registry][io]") {
  const test::TempDir dir("registry");
  for (const ModelInfo& info : model_registry()) {
    INFO(info.name);
    io::ModelMetadata md;
    md.model = info.name;
    md.size = small_size(info);
    md.input = Shape{3, 24, 24};
    md.class_names = {"cat", "dog", "bird"};
    md.input_mean = 0.25, md.input_std = 0.5;
    Model<float> m = io::make_model<float>(md, 3);
    const std::string path = dir.file(info.name + ".safetensors");
    io::save_weights(path, m, md);

    io::ModelMetadata back;
    Model<float> loaded = io::load_model<float>(path, &back);
    CHECK(back.model == md.model);
    CHECK(back.size == md.size);
    CHECK(back.input == md.input);
    CHECK(back.class_names == md.class_names);
    CHECK(back.input_mean == md.input_mean);
    CHECK(back.input_std == md.input_std);
    CHECK(loaded.sample_shape() == md.input);
    REQUIRE(loaded.num_parameters() == m.num_parameters());
    const auto va = m.parameter_values(), vb = loaded.parameter_values();
    std::int64_t differ = 0;
    for (std::int64_t i = 0; i < va.numel(); ++i) differ += va[i] != vb[i];
    CHECK(differ == 0);
  }
}

TEST_CASE("Unknown models and bad size arguments give one clear error", "[models][registry]") {
  const std::string registered = "(registered: " + model_names() + ")";
  CHECK(try_find_model("lenet") == nullptr);
  CHECK_THROWS_WITH(find_model("lenet"), "unknown model 'lenet' " + registered);
  CHECK_THROWS_WITH(build_model<float>("lenet"), "unknown model 'lenet' " + registered);

  ModelSpec s;
  s.size = {{"alpha", 0.5}};
  CHECK_THROWS_WITH(build_model<float>("customnet", s), "CustomNet-48 has no size argument 'alpha' (it takes: w)");
  s.size = {{"w", 0}};
  CHECK_THROWS_WITH(build_model<float>("customnet", s),
                    "CustomNet-48 size argument w must be a multiple of 8 in [8, 1024], got 0");
  s.size = {{"w", 8.5}};
  CHECK_THROWS_WITH(build_model<float>("customnet", s),
                    "CustomNet-48 size argument w must be a multiple of 8 in [8, 1024], got 8.5");
  s.size = {{"w", 12}};  // GroupNorm's 8 groups must divide every stage width
  CHECK_THROWS_WITH(build_model<float>("customnet", s),
                    "CustomNet-48 size argument w must be a multiple of 8 in [8, 1024], got 12");
  s.size = {{"alpha", 5}};
  CHECK_THROWS_WITH(build_model<float>("mobilenet", s),
                    "MobileNet-V1-48 size argument alpha must be a number in [0.01, 4], got 5");

  io::ModelMetadata md;
  md.model = "lenet";
  CHECK_THROWS_WITH(md.to_map(), Catch::Contains("unknown model \"lenet\""));
}

TEST_CASE("size_args_text reads like the run names", "[models][registry]") {
  CHECK(size_args_text(find_model("customnet"), {{"w", 32}}) == "w 32");
  CHECK(size_args_text(find_model("mobilenet"), {{"alpha", 0.5}}) == "alpha 0.5");
}
