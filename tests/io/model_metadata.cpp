// The weights file's metadata (io/model_metadata.hpp, DESIGN.md contract 2): per-channel
// normalisation, input and stored shape, aspect rule and class names round-trip; files written
// before them (the shipped weights) read as FER-2013's 1x48x48 with one mean/std; every bad value,
// and tensors that disagree with the metadata, give a one-line error naming the file and key.
#include "moodnet/io/model_metadata.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <limits>
#include <string>

#include "../support/temp_dir.hpp"
#include "moodnet/io/model_checkpoint.hpp"

using namespace moodnet;
using namespace moodnet::io;
using Catch::Contains;

namespace {
ModelMetadata rgb_metadata() {
  ModelMetadata m;
  m.model = "customnet";
  m.size = {{"w", 8}};
  m.input = Shape{3, 32, 32};
  m.class_names = {"ant", "mole", "zebra"};
  m.input_mean = {0.49, 0.48, 0.45};
  m.input_std = {0.25, 0.24, 0.26};
  m.resize = data::ResizeMode::crop;
  m.image_height = m.image_width = 36;
  return m;
}
// The error from_map gives for `map`.
std::string from_map_error(const Metadata& map) {
  try {
    ModelMetadata::from_map(map, "m.safetensors");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("ModelMetadata: per-channel normalisation, stored size and aspect rule round-trip", "[io][metadata]") {
  const ModelMetadata m = rgb_metadata();
  const Metadata map = m.to_map();
  CHECK(map.at("input_shape") == "3,32,32");
  CHECK(map.at("class_names") == "ant,mole,zebra");
  CHECK(map.at("input_mean") == "0.49,0.48,0.45");
  CHECK(map.at("input_std") == "0.25,0.24,0.26");
  CHECK(map.at("resize") == "crop");
  CHECK(map.at("image_size") == "36,36");
  const ModelMetadata back = ModelMetadata::from_map(map, "m.safetensors");
  CHECK(back.input == m.input);
  CHECK(back.class_names == m.class_names);
  CHECK(back.input_mean == m.input_mean);
  CHECK(back.input_std == m.input_std);
  CHECK(back.resize == data::ResizeMode::crop);
  CHECK(back.stored_shape() == data::ImageShape{3, 36, 36});
  CHECK(back.centre_crop() == 32);
  CHECK(back.extra.empty());
  const data::Normalization n = back.normalization();
  CHECK(n.mean == std::vector<float>{0.49f, 0.48f, 0.45f});
  CHECK(n.std == std::vector<float>{0.25f, 0.24f, 0.26f});

  // set_normalization keeps the float values exactly (what a trainer computes).
  ModelMetadata s = m;
  s.set_normalization(data::Normalization{{0.1f, 0.2f, 0.3f}, {0.4f, 0.5f, 0.6f}});
  CHECK(ModelMetadata::from_map(s.to_map(), "s").normalization().std == std::vector<float>{0.4f, 0.5f, 0.6f});

  // Without a crop no image_size is written, and the stored shape is the input's.
  ModelMetadata plain = m;
  plain.image_height = plain.image_width = 0;
  CHECK(plain.to_map().count("image_size") == 0);
  CHECK(plain.stored_shape() == data::ImageShape{3, 32, 32});
  CHECK(plain.centre_crop() == 0);
  // One value for every channel of an RGB input stays one value.
  plain.input_mean = 0.5;
  CHECK(plain.to_map().at("input_mean") == "0.5");
  const data::Normalization mixed = ModelMetadata::from_map(plain.to_map(), "p").normalization();
  CHECK(mixed.mean == std::vector<float>{0.5f, 0.5f, 0.5f});  // beside three stds
  CHECK(mixed.std == std::vector<float>{0.25f, 0.24f, 0.26f});
}

TEST_CASE("ModelMetadata: files written before per-channel metadata read as FER-2013's", "[io][metadata]") {
  // Exactly the metadata of models/customnet_w32.safetensors: no input_shape, resize or image_size.
  const Metadata old{{"class_names", "angry,disgust,fear,happy,neutral,sad,surprise"},
                     {"input_mean", "0.5077385902404785"},
                     {"input_std", "0.25508570671081543"},
                     {"model", "customnet"},
                     {"w", "32"}};
  const ModelMetadata md = ModelMetadata::from_map(old, "old.safetensors");
  CHECK(md.input == Shape{1, 48, 48});
  CHECK(md.stored_shape() == data::kFer2013Shape);
  CHECK(md.resize == data::ResizeMode::stretch);
  CHECK(md.centre_crop() == 0);
  CHECK(md.input_mean == ChannelValues{0.5077385902404785});
  CHECK(md.normalization().mean == std::vector<float>{0.5077385902404785f});
  CHECK(md.normalization().std == std::vector<float>{0.25508570671081543f});
  CHECK(md.class_names == data::fer2013_class_names());
  CHECK(md.extra.empty());

  // The shipped files themselves.
  for (const char* f : {"models/customnet_w32.safetensors", "models/mobilenet_a0.5.safetensors"}) {
    INFO(f);
    const ModelMetadata s = read_weights_metadata(std::string(MOODNET_SOURCE_DIR) + "/" + f);
    CHECK(s.input == Shape{1, 48, 48});
    CHECK(s.input_mean.size() == 1);
    CHECK(s.input_std.size() == 1);
    CHECK(s.resize == data::ResizeMode::stretch);
    CHECK(s.class_names.size() == 7);
  }
}

TEST_CASE("ModelMetadata: every bad value is a one-line error naming the file and key", "[io][metadata]") {
  const Metadata good = rgb_metadata().to_map();
  auto with = [&](const std::string& key, const std::string& value) {
    Metadata m = good;
    m[key] = value;
    return from_map_error(m);
  };
  CHECK(with("input_mean", "0.5,0.5") ==
        "checkpoint m.safetensors: __metadata__ \"input_mean\" is \"0.5,0.5\": 2 values for an input of 3 channel(s) "
        "(input_shape 3,32,32), expected 1 or 3");
  CHECK(with("input_std", "0.2,0,0.2") ==
        "checkpoint m.safetensors: __metadata__ \"input_std\" is \"0.2,0,0.2\": every std must be a finite number > 0");
  CHECK_THAT(with("input_std", "-0.25"), Contains("\"input_std\" is \"-0.25\": every std must be a finite number > 0"));
  CHECK_THAT(with("input_std", "nan"), Contains("\"input_std\" is \"nan\", expected a number or one number per channel"));
  CHECK_THAT(with("input_std", "inf,1,1"), Contains("\"input_std\" is \"inf,1,1\", expected a number"));
  CHECK_THAT(with("input_mean", "0.5,,0.5"), Contains("\"input_mean\" is \"0.5,,0.5\", expected a number"));
  CHECK_THAT(with("input_mean", "half"), Contains("\"input_mean\" is \"half\", expected a number"));
  CHECK_THAT(with("class_names", "ant,mole,ant"), Contains("\"class_names\" names class \"ant\" twice"));
  CHECK_THAT(with("class_names", "ant,,zebra"), Contains("\"class_names\" has an empty name"));
  CHECK_THAT(with("resize", "zoom"), Contains("\"resize\" is \"zoom\", expected crop or stretch"));
  CHECK_THAT(with("image_size", "30,30"),
             Contains("\"image_size\" is \"30,30\", expected height,width at least the input's 32x32"));
  CHECK_THAT(with("image_size", "36"), Contains("\"image_size\" is \"36\", expected two positive integers"));
  CHECK_THAT(with("input_shape", "3,32,0"), Contains("\"input_shape\" is \"3,32,0\", expected three positive integers"));
  Metadata no_std = good;
  no_std.erase("input_std");
  CHECK(from_map_error(no_std) == "checkpoint m.safetensors: __metadata__ has no \"input_std\"");
  for (const auto& kv : good) {  // an empty value is an error for every key, and every message is one line
    INFO(kv.first);
    const std::string msg = with(kv.first, "");
    CHECK(msg.rfind("checkpoint m.safetensors: __metadata__ \"" + kv.first + "\"", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
  }

  // Writing refuses the same values (before anything reaches a file).
  ModelMetadata bad = rgb_metadata();
  bad.input_std = {0.25, 0.0, 0.25};
  CHECK_THROWS_WITH(bad.to_map(), "model metadata \"input_std\" is \"0.25,0,0.25\": every std must be a finite number > 0");
  bad = rgb_metadata();
  bad.input_mean = {0.5, 0.5};
  CHECK_THROWS_WITH(bad.to_map(), Contains("2 values for an input of 3 channel(s)"));
  bad = rgb_metadata();
  bad.class_names = {"a,b", "c"};
  CHECK_THROWS_WITH(bad.to_map(), Contains("class 0 \"a,b\" must be non-empty and without commas"));
  bad = rgb_metadata();
  bad.input = Shape{3, 32, 30};  // a crop from 36x36 needs a square input
  CHECK_THROWS_WITH(bad.to_map(), Contains("needs a square centre crop, but the input is 32x30"));
}

TEST_CASE("Weights whose tensors disagree with their metadata: class count and channels named", "[io][metadata]") {
  const test::TempDir dir("metadata");
  ModelMetadata md = rgb_metadata();
  md.input = Shape{1, 16, 16};
  md.input_mean = 0.5, md.input_std = 0.25;
  md.image_height = md.image_width = 0;
  Model<float> model = make_model<float>(md, 1);  // CustomNet w8: features.0.weight [8, 1, 3, 3], head.3.weight [3, 256]
  const std::string good = dir.file("good.safetensors");
  save_weights(good, model, md);
  CHECK(load_model<float>(good).sample_shape() == Shape{1, 16, 16});

  // The same tensors under metadata that claims 5 classes, or RGB input.
  auto tampered = [&](const std::string& name, const std::string& key, const std::string& value) {
    Metadata m = md.to_map();
    m[key] = value;
    const std::string f = dir.file(name);
    save_safetensors(f, io::detail::state_dict_refs(model), m);
    return f;
  };
  const std::string f5 = tampered("five.safetensors", "class_names", "a,b,c,d,e");
  CHECK_THROWS_WITH(load_model<float>(f5),
                    "checkpoint " + f5 + ": tensor head.3.weight has shape [3, 256]: 3 outputs, but the model has 5 "
                    "classes (__metadata__ \"class_names\" lists 5)");
  const std::string f3 = tampered("rgb.safetensors", "input_shape", "3,16,16");
  CHECK_THROWS_WITH(load_model<float>(f3),
                    "checkpoint " + f3 + ": tensor features.0.weight has shape [8, 1, 3, 3]: 1 input channel(s), but "
                    "the model takes 3 (__metadata__ \"input_shape\" is \"3,16,16\")");

  // Loading a good file into a model built for other data (e.g. --resume with other flags).
  ModelMetadata other = md;
  other.input = Shape{3, 16, 16};
  Model<float> rgb_model = make_model<float>(other, 1);
  CHECK_THROWS_WITH(load_weights(good, rgb_model), Contains("1 input channel(s), but the model takes 3"));
}

// Issue 19: weights files of NaN or Inf values, negative batchnorm running variances, or an absurd
// normalisation loaded and predicted without a word.
TEST_CASE("Weights with non-finite values, a negative running variance or an absurd normalisation are refused",
          "[io][metadata]") {
  const test::TempDir dir("metadata-values");
  ModelMetadata md = rgb_metadata();
  md.input = Shape{1, 16, 16};
  md.input_mean = 0.5, md.input_std = 0.25;
  md.image_height = md.image_width = 0;
  const auto saved_with = [&](const std::string& name, auto&& edit) {
    Model<float> model = make_model<float>(md, 1);
    edit(model);
    const std::string f = dir.file(name);
    save_weights(f, model, md);
    return f;
  };
  const std::string nan = saved_with("nan.safetensors", [](Model<float>& m) {
    m.named_parameters()[1].param->value.data()[2] = std::numeric_limits<float>::quiet_NaN();
  });
  CHECK_THROWS_WITH(load_model<float>(nan), "checkpoint " + nan + ": tensor features.1.weight holds nan at element 2: "
                                            "weights must be finite numbers");
  const std::string inf = saved_with("inf.safetensors", [](Model<float>& m) {
    m.named_parameters().back().param->value.data()[0] = -std::numeric_limits<float>::infinity();
  });
  CHECK_THROWS_WITH(load_model<float>(inf), Contains("tensor head.3.bias holds -inf at element 0"));
  const std::string var = saved_with("var.safetensors", [](Model<float>& m) {
    for (auto& b : m.named_buffers())
      if (b.name == "features.1.running_var") b.buffer.values.data()[3] = -0.5f;
  });
  CHECK_THROWS_WITH(load_model<float>(var), "checkpoint " + var + ": tensor features.1.running_var holds -0.5 at "
                                            "element 3: a running variance must be >= 0");

  Metadata m = md.to_map();
  m["input_std"] = "1e-30";
  CHECK(from_map_error(m) == "checkpoint m.safetensors: __metadata__ \"input_std\" is \"1e-30\": every std must be in "
                             "[1e-06, 1000] (inputs are (pixel/255 - mean) / std)");
  m = md.to_map();
  m["input_mean"] = "1e30";
  CHECK_THAT(from_map_error(m), Contains("\"input_mean\" is \"1e+30\": every mean must be in [-1000, 1000]"));
  m["input_mean"] = "0.5";
  CHECK(from_map_error(m) == "(no error)");
}

// Issue 19: a training-state file given as weights was reported as lacking a "w".
TEST_CASE("A training-state file given as weights is named as one", "[io][metadata]") {
  Metadata state = {{"format", "moodnet-training-state-1"}, {"model", "customnet"}, {"size.w", "8"}, {"step", "3"}};
  CHECK(from_map_error(state) == "checkpoint m.safetensors is a training-state file (\"format\" "
                                 "moodnet-training-state-1), not a weights file: use the weights saved beside it "
                                 "(last.safetensors or best.safetensors)");
}

// Issue 19: a 160-byte file whose metadata claimed width 1024 made predict allocate 9.2 GB and run
// for a minute before the tensors were compared. The build is capped at the values the file holds.
TEST_CASE("load_model refuses metadata describing a network larger than the file, before building it",
          "[io][metadata]") {
  const test::TempDir dir("metadata-huge");
  const std::string f = dir.file("tiny.safetensors");
  Metadata m = {{"model", "customnet"}, {"w", "256"},          {"class_names", "a,b"},
                {"input_mean", "0.5"},  {"input_std", "0.25"}, {"input_shape", "1,16,16"}};
  const float values[4] = {1, 2, 3, 4};
  save_safetensors(f, {tensor_ref<float>("features.0.weight", values, {4})}, m);
  CHECK_THROWS_WITH(load_model<float>(f), Catch::Matches("checkpoint " + f +
                                                         ": the network its metadata describes has [0-9]+ parameters, "
                                                         "but the file holds only 4 values \\(at most 65544 allowed\\)"));
  CHECK(model_parameter_cap.limit == 0);  // the cap is for that one build
}
