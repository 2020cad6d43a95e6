// io/protobuf_writer.hpp against bytes computed by hand from the protobuf encoding rules, and
// io/onnx_export.hpp read back with a small wire-format reader of the test's own: the graph of a
// network with every layer kind the exporter knows (tests/support/nets.hpp), its attributes,
// initializers and metadata. That real ONNX clients accept the files is checked by
// tests/examples/onnx_export.sh (onnx.checker, OpenCV's dnn module).
#include "moodnet/io/onnx_export.hpp"
#include "moodnet/io/protobuf_writer.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../support/nets.hpp"

using moodnet::io::ProtoWriter;

namespace {

std::string onnx_test_bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

// One field as it is on the wire: number, wire type, the varint or fixed32 value, or the bytes.
struct OnnxTestField {
  int number = 0, wire = 0;
  std::uint64_t value = 0;
  std::string bytes;
};

// The reader: a message's fields in order (REQUIREs that the bytes are well formed).
std::vector<OnnxTestField> onnx_test_parse(std::string_view s) {
  std::size_t pos = 0;
  auto varint = [&] {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      REQUIRE(pos < s.size());
      REQUIRE(shift < 64);
      const auto b = static_cast<unsigned char>(s[pos++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  std::vector<OnnxTestField> out;
  while (pos < s.size()) {
    const std::uint64_t key = varint();
    OnnxTestField f;
    f.number = static_cast<int>(key >> 3), f.wire = static_cast<int>(key & 7);
    if (f.wire == 0) {
      f.value = varint();
    } else if (f.wire == 2) {
      const std::uint64_t n = varint();
      REQUIRE(n <= s.size() - pos);
      f.bytes = std::string(s.substr(pos, n));
      pos += n;
    } else {
      REQUIRE(f.wire == 5);
      REQUIRE(pos + 4 <= s.size());
      std::uint32_t v;
      std::memcpy(&v, s.data() + pos, 4);
      f.value = v;
      pos += 4;
    }
    out.push_back(std::move(f));
  }
  return out;
}
std::vector<OnnxTestField> onnx_test_all(const std::vector<OnnxTestField>& fields, int number) {
  std::vector<OnnxTestField> r;
  for (const auto& f : fields)
    if (f.number == number) r.push_back(f);
  return r;
}
OnnxTestField onnx_test_one(const std::vector<OnnxTestField>& fields, int number) {
  const auto r = onnx_test_all(fields, number);
  REQUIRE(r.size() == 1);
  return r[0];
}
std::string onnx_test_string(const std::vector<OnnxTestField>& fields, int number) {
  return onnx_test_one(fields, number).bytes;
}

}  // namespace

TEST_CASE("ProtoWriter writes varints low group first with the continuation bit", "[io][onnx_export]") {
  auto v = [](std::uint64_t x) {
    ProtoWriter w;
    w.varint(x);
    return w.data();
  };
  CHECK(v(0) == onnx_test_bytes({0x00}));
  CHECK(v(1) == onnx_test_bytes({0x01}));
  CHECK(v(127) == onnx_test_bytes({0x7F}));
  CHECK(v(128) == onnx_test_bytes({0x80, 0x01}));
  CHECK(v(300) == onnx_test_bytes({0xAC, 0x02}));  // 300 = 0b10_0101100: 0101100|1, 10
  CHECK(v(16384) == onnx_test_bytes({0x80, 0x80, 0x01}));
  CHECK(v(~0ull) == onnx_test_bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST_CASE("ProtoWriter writes keys, scalars, strings and nested messages as the encoding guide", "[io][onnx_export]") {
  // The encoding guide's examples: field 1 = 150; field 2 = "testing"; field 3 = {field 1 = 150}.
  ProtoWriter a;
  a.uint64(1, 150);
  CHECK(a.data() == onnx_test_bytes({0x08, 0x96, 0x01}));
  ProtoWriter b;
  b.string(2, "testing");
  CHECK(b.data() == onnx_test_bytes({0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}));
  ProtoWriter c;
  c.message(3, a);
  CHECK(c.data() == onnx_test_bytes({0x1A, 0x03, 0x08, 0x96, 0x01}));
  // Two levels: field 5 = {field 3 = {field 1 = 150}, field 2 = "testing"}; lengths 5 + 9 = 14.
  ProtoWriter inner;
  inner.append(c).append(b);
  ProtoWriter outer;
  outer.message(5, inner);
  CHECK(outer.data() == onnx_test_bytes({0x2A, 0x0E, 0x1A, 0x03, 0x08, 0x96, 0x01, 0x12, 0x07, 't', 'e', 's', 't',
                                         'i', 'n', 'g'}));
  // A negative int64 is its 64-bit two's complement: ten bytes.
  ProtoWriter n;
  n.int64(1, -1);
  CHECK(n.data() == onnx_test_bytes({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  ProtoWriter n2;
  n2.int64(1, -2);
  CHECK(n2.data() == onnx_test_bytes({0x08, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
  // Field 20 (above 15): a two-byte key, (20 << 3) | 0 = 160 = A0 01. Field 2 float 1.0f: wire 5, 3F800000 LE.
  ProtoWriter k;
  k.int64(20, 7).float32(2, 1.0f);
  CHECK(k.data() == onnx_test_bytes({0xA0, 0x01, 0x07, 0x15, 0x00, 0x00, 0x80, 0x3F}));
  // An empty string and an empty message: key and length 0.
  ProtoWriter e;
  e.string(4, "").message(6, ProtoWriter());
  CHECK(e.data() == onnx_test_bytes({0x22, 0x00, 0x32, 0x00}));
  // A 200-byte string: the length is a two-byte varint (C8 01).
  ProtoWriter l;
  l.bytes(9, std::string(200, 'x'));
  REQUIRE(l.size() == 203);
  CHECK(l.data().substr(0, 3) == onnx_test_bytes({0x4A, 0xC8, 0x01}));
  // The test's reader reads all of it back.
  const auto fields = onnx_test_parse(k.data() + e.data() + l.data());
  REQUIRE(fields.size() == 5);
  CHECK(fields[0].number == 20);
  CHECK(fields[0].value == 7);
  CHECK(fields[1].wire == 5);
  CHECK(fields[4].bytes == std::string(200, 'x'));
}

TEST_CASE("ONNX export writes every layer of a network as opset-13 nodes with its weights and metadata",
          "[io][onnx_export]") {
  using namespace moodnet;
  Model<float> model(test::small_resnet<float>(1, 7), Shape{1, 12, 12}, 3);
  // Non-trivial batchnorm statistics, so that running_mean and running_var cannot be mixed up unseen.
  for (auto& b : model.named_buffers())
    for (std::int64_t i = 0; i < b.buffer.values.numel(); ++i)
      b.buffer.values.data()[i] = b.name.find("running_var") != std::string::npos ? 1.0f + 0.1f * static_cast<float>(i)
                                                                                   : 0.01f * static_cast<float>(i);
  io::ModelMetadata md;
  md.model = "resnet", md.size = {{"w", 8}, {"blocks", 1}}, md.input = Shape{1, 12, 12};
  md.input_mean = 0.5, md.input_std = 0.25;
  md.extra["epoch"] = "12";
  model.train();  // the exporter reads the eval network and puts the mode back

  const auto fields = onnx_test_parse(io::onnx_model_bytes(model, md, {.batch = 0}));
  CHECK(model.training());
  CHECK(onnx_test_one(fields, 1).value == 7);  // ir_version
  CHECK(onnx_test_string(fields, 2) == "moodnet");
  const auto opset = onnx_test_parse(onnx_test_string(fields, 8));
  CHECK(onnx_test_string(opset, 1).empty());
  CHECK(onnx_test_one(opset, 2).value == 13);
  std::map<std::string, std::string> props;
  for (const auto& e : onnx_test_all(fields, 14)) {
    const auto kv = onnx_test_parse(e.bytes);
    props[onnx_test_string(kv, 1)] = onnx_test_string(kv, 2);
  }
  CHECK(props.at("class_names") == "angry,disgust,fear,happy,neutral,sad,surprise");
  CHECK(props.at("input_mean") == "0.5");
  CHECK(props.at("input_std") == "0.25");
  CHECK(props.at("model") == "resnet");
  CHECK(props.at("epoch") == "12");
  CHECK(props.at("onnx_input") == io::onnx_input_description(false));

  const auto graph = onnx_test_parse(onnx_test_string(fields, 7));
  std::vector<std::string> ops;
  std::map<std::string, std::vector<OnnxTestField>> node_by_output;
  for (const auto& n : onnx_test_all(graph, 1)) {
    const auto node = onnx_test_parse(n.bytes);
    ops.push_back(onnx_test_string(node, 4));
    node_by_output[onnx_test_string(node, 2)] = node;
  }
  // conv1 bn1 relu | layer1.0: conv bn relu conv bn, add relu | layer2.0: the same with the grouped
  // conv2 and the downsample conv + bn | GroupNorm as five nodes, ReLU | max-pool, global pool,
  // flatten, fc (the dropout is gone).
  const std::vector<std::string> expected = {
      "Conv", "BatchNormalization", "Relu",
      "Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Add", "Relu",
      "Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization", "Conv", "BatchNormalization", "Add", "Relu",
      "Reshape", "InstanceNormalization", "Reshape", "Mul", "Add", "Relu",
      "MaxPool", "GlobalAveragePool", "Flatten", "Gemm"};
  CHECK(ops == expected);

  // The grouped convolution of layer2.0 (conv2: 16 -> 16 channels in 4 groups, 3x3, stride 1; the
  // block's conv1 has the stride): its attributes as the file has them.
  const auto conv2 = node_by_output.at("layer2.0.conv2/conv2d");
  const auto inputs = onnx_test_all(conv2, 1);
  REQUIRE(inputs.size() == 2);
  CHECK(inputs[1].bytes == "layer2.0.conv2.weight");
  std::map<std::string, std::vector<std::int64_t>> ints;
  std::map<std::string, std::int64_t> scalars;
  for (const auto& a : onnx_test_all(conv2, 5)) {
    const auto attr = onnx_test_parse(a.bytes);
    const std::string name = onnx_test_string(attr, 1);
    for (const auto& i : onnx_test_all(attr, 8)) ints[name].push_back(static_cast<std::int64_t>(i.value));
    if (!onnx_test_all(attr, 3).empty()) scalars[name] = static_cast<std::int64_t>(onnx_test_one(attr, 3).value);
  }
  CHECK(scalars.at("group") == 4);
  CHECK(ints.at("kernel_shape") == std::vector<std::int64_t>{3, 3});
  CHECK(ints.at("pads") == std::vector<std::int64_t>{1, 1, 1, 1});
  CHECK(ints.at("strides") == std::vector<std::int64_t>{1, 1});
  CHECK(onnx_test_string(node_by_output.at("logits"), 4) == "Gemm");
  // The normalisations' epsilon (a float attribute: wire type 5), which OpenCV's float32 results
  // cannot tell from 0 on every network.
  auto epsilon_of = [&](const std::string& output) {
    const auto attr = onnx_test_parse(onnx_test_one(node_by_output.at(output), 5).bytes);
    CHECK(onnx_test_string(attr, 1) == "epsilon");
    const auto bits = static_cast<std::uint32_t>(onnx_test_one(attr, 2).value);
    float eps;
    std::memcpy(&eps, &bits, 4);
    return eps;
  };
  CHECK(epsilon_of("bn1/batchnorm2d") == 1e-5f);
  CHECK(epsilon_of("gn/normalized") == 1e-5f);
  CHECK(onnx_test_string(node_by_output.at("gn/normalized"), 4) == "InstanceNormalization");

  // Initializers: names, dims and the raw float values of the model's tensors.
  std::map<std::string, std::vector<OnnxTestField>> inits;
  for (const auto& t : onnx_test_all(graph, 5)) {
    const auto tensor = onnx_test_parse(t.bytes);
    inits[onnx_test_string(tensor, 8)] = tensor;
  }
  for (const auto& p : model.named_parameters()) {
    INFO(p.name);
    REQUIRE(inits.count(p.name) == 1);
    const auto& t = inits.at(p.name);
    CHECK(onnx_test_one(t, 2).value == 1);  // FLOAT
    const std::string raw = onnx_test_string(t, 9);
    REQUIRE(raw.size() == static_cast<std::size_t>(p.param->shape.numel()) * sizeof(float));
    CHECK(std::memcmp(raw.data(), p.param->value.data(), raw.size()) == 0);
  }
  for (auto& b : model.named_buffers()) {
    if (b.buffer.counter) continue;  // num_batches_tracked has no meaning in eval
    INFO(b.name);
    REQUIRE(inits.count(b.name) == 1);
    const std::string raw = onnx_test_string(inits.at(b.name), 9);
    REQUIRE(raw.size() == static_cast<std::size_t>(b.buffer.values.numel()) * sizeof(float));
    CHECK(std::memcmp(raw.data(), b.buffer.values.data(), raw.size()) == 0);
  }
  std::vector<std::int64_t> w_dims;
  for (const auto& d : onnx_test_all(inits.at("layer2.0.conv2.weight"), 1)) w_dims.push_back(static_cast<std::int64_t>(d.value));
  CHECK(w_dims == std::vector<std::int64_t>{16, 4, 3, 3});  // [K, C/groups, R, S]: 16 channels in 4 groups
  std::vector<std::int64_t> gn_dims;
  for (const auto& d : onnx_test_all(inits.at("gn.weight"), 1)) gn_dims.push_back(static_cast<std::int64_t>(d.value));
  CHECK(gn_dims == std::vector<std::int64_t>{16, 1, 1});

  // The input [N, 1, 12, 12] with the symbolic batch, the output [N, 7].
  auto dims_of = [](const OnnxTestField& value_info) {
    const auto vi = onnx_test_parse(value_info.bytes);
    const auto type = onnx_test_parse(onnx_test_string(vi, 2));
    const auto tensor = onnx_test_parse(onnx_test_string(type, 1));
    CHECK(onnx_test_one(tensor, 1).value == 1);  // FLOAT
    std::vector<std::string> dims;
    for (const auto& d : onnx_test_all(onnx_test_parse(onnx_test_string(tensor, 2)), 1)) {
      const auto dim = onnx_test_parse(d.bytes);
      dims.push_back(dim[0].number == 2 ? dim[0].bytes : std::to_string(dim[0].value));
    }
    return std::pair{onnx_test_string(vi, 1), dims};
  };
  CHECK(dims_of(onnx_test_one(graph, 11)) == std::pair{std::string("input"), std::vector<std::string>{"N", "1", "12", "12"}});
  CHECK(dims_of(onnx_test_one(graph, 12)) == std::pair{std::string("logits"), std::vector<std::string>{"N", "7"}});

  // A fixed batch, and the normalisation in the graph: Sub and Div first, the input named as before.
  const auto fixed = onnx_test_parse(io::onnx_model_bytes(model, md, {.batch = 5, .normalize_in_graph = true}));
  const auto g2 = onnx_test_parse(onnx_test_string(fixed, 7));
  CHECK(dims_of(onnx_test_one(g2, 11)).second == std::vector<std::string>{"5", "1", "12", "12"});
  CHECK(dims_of(onnx_test_one(g2, 12)).second == std::vector<std::string>{"5", "7"});
  const auto nodes2 = onnx_test_all(g2, 1);
  REQUIRE(nodes2.size() == expected.size() + 2);
  const auto sub = onnx_test_parse(nodes2[0].bytes);
  CHECK(onnx_test_string(sub, 4) == "Sub");
  CHECK(onnx_test_all(sub, 1)[0].bytes == "input");
  CHECK(onnx_test_all(sub, 1)[1].bytes == "input_mean");
  CHECK(onnx_test_string(onnx_test_parse(nodes2[1].bytes), 4) == "Div");

  CHECK_THROWS_WITH(io::onnx_model_bytes(model, md, {.batch = -1}),
                    Catch::Contains("batch size must be >= 0"));
}

TEST_CASE("ONNX export of a double model writes its weights rounded to float", "[io][onnx_export]") {
  using namespace moodnet;
  Model<double> model(test::small_resnet<double>(1, 7), Shape{1, 12, 12}, 5);
  io::ModelMetadata md;
  md.model = "resnet", md.size = {{"w", 8}, {"blocks", 1}}, md.input = Shape{1, 12, 12};
  const auto graph = onnx_test_parse(onnx_test_string(onnx_test_parse(io::onnx_model_bytes(model, md)), 7));
  std::size_t checked = 0;
  for (const auto& t : onnx_test_all(graph, 5)) {
    const auto tensor = onnx_test_parse(t.bytes);
    if (onnx_test_string(tensor, 8) != "fc.weight") continue;
    CHECK(onnx_test_one(tensor, 2).value == 1);  // FLOAT
    const std::string raw = onnx_test_string(tensor, 9);
    const auto& p = model.named_parameters().back();
    REQUIRE(p.name == "fc.bias");
    const auto& w = model.named_parameters()[model.named_parameters().size() - 2];
    REQUIRE(raw.size() == static_cast<std::size_t>(w.param->shape.numel()) * sizeof(float));
    for (std::int64_t i = 0; i < w.param->shape.numel(); ++i) {
      float f;
      std::memcpy(&f, raw.data() + i * 4, 4);
      CHECK(f == static_cast<float>(w.param->value.data()[i]));
    }
    ++checked;
  }
  CHECK(checked == 1);
}
