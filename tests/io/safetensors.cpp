#include "moodnet/io/safetensors.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "moodnet/io/model_metadata.hpp"
#include "../support/temp_dir.hpp"

using namespace moodnet::io;

namespace {
std::vector<unsigned char> le64(std::uint64_t v) {
  std::vector<unsigned char> b(8);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  return b;
}
// A file from a hand-written header and `data_bytes` bytes of data.
std::vector<unsigned char> make_file(const std::string& header, std::size_t data_bytes) {
  std::vector<unsigned char> f(8 + header.size() + data_bytes, 0x11);
  const auto len = le64(header.size());
  std::memcpy(f.data(), len.data(), 8);
  std::memcpy(f.data() + 8, header.data(), header.size());
  return f;
}
std::string load_error(const std::vector<unsigned char>& bytes) {
  try {
    SafetensorsFile::from_bytes(bytes, "x.safetensors");
  } catch (const moodnet::Error& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("safetensors round trip is bit-exact for F32, F64, I64 and metadata", "[io][safetensors]") {
  moodnet::test::TempDir dir;
  const std::string path = dir.file("w.safetensors");
  moodnet::Tensor<float> w({4, 1, 3, 3});
  for (std::int64_t i = 0; i < w.numel(); ++i) w[i] = static_cast<float>(i) * 0.37f - 5.0f;
  w[3] = std::numeric_limits<float>::denorm_min();
  w[4] = -0.0f;
  w[5] = std::numeric_limits<float>::infinity();
  const std::vector<double> d = {1.0 / 3.0, -1e-300, 6.02214076e23};
  const std::int64_t nbt = 123456789012345LL;
  const Metadata meta = {{"model", "customnet"}, {"note", "tab\t \"quoted\" \xc3\xa9"}};
  save_safetensors(path, {tensor_ref("features.0.weight", moodnet::TensorView<const float>(w)),
                          tensor_ref("stats", d.data(), {3}), tensor_ref("features.1.num_batches_tracked", &nbt, {}),
                          tensor_ref<float>("empty", nullptr, {0, 5})},
                   meta);

  const auto raw = read_file_bytes(path);
  const std::uint64_t n = raw[0] | (std::uint64_t(raw[1]) << 8);
  CHECK((8 + n) % 8 == 0);  // data section aligned
  CHECK(raw.size() == 8 + n + 36 * 4 + 3 * 8 + 8);

  const auto f = SafetensorsFile::load(path);
  CHECK(f.metadata() == meta);
  REQUIRE(f.tensors().size() == 4);
  CHECK(f.tensors()[0].name == "features.0.weight");  // header order kept
  CHECK(f.tensors()[1].dtype == DType::F64);
  CHECK(f.tensors()[2].dtype == DType::I64);
  CHECK(f.tensors()[2].shape.empty());
  CHECK(f.tensors()[3].shape == std::vector<std::int64_t>{0, 5});

  moodnet::Tensor<float> w2({4, 1, 3, 3});
  f.copy_to("features.0.weight", w2.view());
  CHECK(std::memcmp(w.data(), w2.data(), sizeof(float) * 36) == 0);
  CHECK(f.read_vector<double>("stats") == d);
  std::int64_t nbt2 = 0;
  f.copy_to("features.1.num_batches_tracked", &nbt2, {});
  CHECK(nbt2 == nbt);
  CHECK(f.unread_names() == std::vector<std::string>{"empty"});
  CHECK_THROWS_WITH(f.check_all_read(), Catch::Contains("unexpected tensors empty"));
  f.copy_to<float>("empty", nullptr, {0, 5});
  CHECK_NOTHROW(f.check_all_read());
}

TEST_CASE("a wrong tensor name, shape or dtype gives a clear error", "[io][safetensors]") {
  moodnet::test::TempDir dir;
  const std::string path = dir.file("x.safetensors");
  std::vector<float> w(32 * 9, 1.0f);
  save_safetensors(path, {tensor_ref("features.0.weight", w.data(), {32, 1, 3, 3})});
  const auto f = SafetensorsFile::load(path);
  moodnet::Tensor<float> small({16, 1, 3, 3});
  CHECK_THROWS_WITH(f.copy_to("features.0.weight", small.view()),
                    "checkpoint " + path + ": tensor features.0.weight has shape [32, 1, 3, 3], the model expects [16, 1, 3, 3]");
  CHECK_THROWS_WITH(f.copy_to("features.3.weight", small.view()),
                    "checkpoint " + path + ": tensor features.3.weight is missing");
  std::vector<double> dd(32 * 9);
  CHECK_THROWS_WITH(f.copy_to("features.0.weight", dd.data(), {32, 1, 3, 3}),
                    "checkpoint " + path + ": tensor features.0.weight has dtype F32, the model expects F64");
  CHECK_THROWS_WITH(f.check_all_read(), Catch::Contains("unexpected tensors features.0.weight"));
  CHECK_THROWS_WITH(save_safetensors(path, {tensor_ref("a", w.data(), {1}), tensor_ref("a", w.data(), {1})}),
                    Catch::Contains("tensor a is given twice"));
  CHECK_THROWS_WITH(save_safetensors(path, {tensor_ref("b", w.data(), {-1})}), Catch::Contains("invalid shape [-1]"));
  CHECK(SafetensorsFile::load(path).contains("features.0.weight"));  // the failed saves changed nothing
}

TEST_CASE("truncated files and corrupt headers are rejected with the offset or tensor", "[io][safetensors]") {
  const std::string good = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]}})";
  CHECK(load_error(make_file(good, 16)) == "no error");
  CHECK(load_error(make_file(good + "   ", 16)) == "no error");  // space padding is allowed

  CHECK(load_error({1, 2, 3}) == "checkpoint x.safetensors: file is 3 bytes, too short for the 8-byte header length");
  CHECK(load_error(make_file(good, 12)) ==
        "checkpoint x.safetensors: tensor b (data_offsets [8, 16]) runs past the end of the 12-byte data section (truncated?)");
  auto cut = make_file(good, 16);
  cut.resize(50);
  CHECK_THAT(load_error(cut), Catch::Contains("header length 107 at byte 0 runs past the end of the 50-byte file"));
  auto huge = make_file(good, 16);
  for (int i = 0; i < 8; ++i) huge[i] = 0xff;
  CHECK_THAT(load_error(huge), Catch::Contains("larger than the limit"));
  CHECK(load_error(make_file(good, 20)) ==
        "checkpoint x.safetensors: data section is 20 bytes but the tensors cover 16 (trailing bytes from offset 16)");

  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},})", 8)),
             Catch::Contains("header is not valid JSON") && Catch::Contains("expected a string key at byte"));
  CHECK(load_error(make_file("[1,2]", 0)) == "checkpoint x.safetensors: header at byte 8 is not a JSON object");
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)),
             Catch::Contains("tensor b (data_offsets [4, 12]) overlaps the tensor before it, which ends at offset 8"));
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12)),
             Catch::Contains("hole at offsets [0, 4) before tensor a"));
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("tensor a: shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8"));
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("tensor a: unknown dtype \"Q7\""));
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8)),
             Catch::Contains("tensor a: missing or non-array \"shape\""));
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8)),
             Catch::Contains("tensor a: data_offsets must be integers with 0 <= begin <= end"));
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("tensor a: shape"));
  CHECK_THAT(load_error(make_file(R"({"__metadata__":{"k":1}})", 0)), Catch::Contains("value of \"k\" is not a string"));
  CHECK_THAT(load_error(make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8)),
             Catch::Contains("duplicate key \"a\""));
}

TEST_CASE("ModelMetadata round-trips through the string map", "[io][safetensors]") {
  ModelMetadata m;
  m.model = "mobilenet";
  m.size = {{"alpha", 0.5}};
  m.input_mean = 0.5077;
  m.input_std = 0.2550;
  m.extra["epoch"] = "30";
  const Metadata map = m.to_map();
  CHECK(map.at("model") == "mobilenet");
  CHECK(map.at("alpha") == "0.5");
  CHECK(map.at("input_shape") == "1,48,48");
  CHECK(map.at("class_names") == "angry,disgust,fear,happy,neutral,sad,surprise");
  CHECK(map.at("input_mean") == "0.5077");
  const ModelMetadata back = ModelMetadata::from_map(map, "m.safetensors");
  CHECK(back.model == "mobilenet");
  CHECK(back.size == moodnet::SizeArgs{{"alpha", 0.5}});
  CHECK(back.input == moodnet::Shape{1, 48, 48});
  CHECK(back.class_names == moodnet::data::fer2013_class_names());
  CHECK(back.input_mean == 0.5077);
  CHECK(back.input_std == 0.2550);
  CHECK(back.extra == Metadata{{"epoch", "30"}});

  ModelMetadata c;
  c.model = "customnet";
  c.size = {{"w", 32}};
  c.input = moodnet::Shape{3, 32, 40};
  CHECK(c.to_map().at("w") == "32");
  CHECK(c.to_map().at("input_shape") == "3,32,40");
  CHECK(ModelMetadata::from_map(c.to_map(), "c").size.at("w") == 32);
  CHECK(ModelMetadata::from_map(c.to_map(), "c").input == moodnet::Shape{3, 32, 40});

  Metadata odd = c.to_map();
  odd["w"] = "32.5";
  CHECK_THROWS_WITH(ModelMetadata::from_map(odd, "c"),
                    "checkpoint c: __metadata__ \"w\" is \"32.5\", expected a multiple of 8 in [8, 1024]");
  odd = c.to_map();
  odd["input_shape"] = "3,32";
  CHECK_THROWS_WITH(ModelMetadata::from_map(odd, "c"), Catch::Contains("\"input_shape\" is \"3,32\", expected three"));
  odd.erase("input_shape");  // files written before input_shape existed: FER-2013's 1x48x48
  CHECK(ModelMetadata::from_map(odd, "c").input == moodnet::Shape{1, 48, 48});
  odd["model"] = "lenet";
  CHECK_THROWS_WITH(ModelMetadata::from_map(odd, "c"),
                    "checkpoint c: __metadata__ \"model\" is \"lenet\", expected one of " + moodnet::model_names());

  Metadata bad = map;
  bad["alpha"] = "half";
  CHECK_THROWS_WITH(ModelMetadata::from_map(bad, "m.safetensors"),
                    "checkpoint m.safetensors: __metadata__ \"alpha\" is \"half\", not a number");
  bad.erase("model");
  CHECK_THROWS_WITH(ModelMetadata::from_map(bad, "m.safetensors"), Catch::Contains("has no \"model\""));
}
