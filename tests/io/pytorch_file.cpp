// Reads tests/io/data/tiny_conv_bn.safetensors, the state_dict of a small PyTorch model
//   Sequential(Conv2d(1, 4, 3, bias=False), BatchNorm2d(4), Conv2d(4, 2, 1), BatchNorm2d(2))
// written by Python (tools/compare_with_pytorch.py tiny-fixture, torch 1.13), not by moodnet.
// Tensor i of the state_dict holds (k - 3) / 8 + i for k = 0..numel-1, num_batches_tracked = 7 + i.
#include "moodnet/io/safetensors.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace moodnet::io;

TEST_CASE("a state_dict written by PyTorch loads exactly: names, dtypes, shapes, values", "[io][safetensors]") {
  const std::string path = std::string(MOODNET_SOURCE_DIR) + "/tests/io/data/tiny_conv_bn.safetensors";
  const auto f = SafetensorsFile::load(path);
  struct Expected {
    const char* name;
    DType dtype;
    std::vector<std::int64_t> shape;
  };
  const std::vector<Expected> expected = {
      {"0.weight", DType::F32, {4, 1, 3, 3}}, {"1.weight", DType::F32, {4}},
      {"1.bias", DType::F32, {4}},            {"1.running_mean", DType::F32, {4}},
      {"1.running_var", DType::F32, {4}},     {"1.num_batches_tracked", DType::I64, {}},
      {"2.weight", DType::F32, {2, 4, 1, 1}}, {"2.bias", DType::F32, {2}},
      {"3.weight", DType::F32, {2}},          {"3.bias", DType::F32, {2}},
      {"3.running_mean", DType::F32, {2}},    {"3.running_var", DType::F32, {2}},
      {"3.num_batches_tracked", DType::I64, {}}};
  REQUIRE(f.tensors().size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& e = expected[i];
    INFO("tensor " << e.name);
    const TensorEntry& t = f.at(e.name);
    CHECK(t.dtype == e.dtype);
    CHECK(t.shape == e.shape);
    if (e.dtype == DType::I64) {
      std::int64_t v = 0;
      f.copy_to(e.name, &v, {});
      CHECK(v == 7 + static_cast<std::int64_t>(i));
    } else {
      const auto v = f.read_vector<float>(e.name);
      for (std::size_t k = 0; k < v.size(); ++k)
        CHECK(v[k] == (static_cast<float>(k) - 3.0f) / 8.0f + static_cast<float>(i));
    }
  }
  CHECK_NOTHROW(f.check_all_read());
  CHECK(f.metadata().at("written_by") == "tools/compare_with_pytorch.py tiny-fixture");
}
