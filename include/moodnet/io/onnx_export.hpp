#pragma once
// ONNX export of a model, read from its eval-mode execution plan (graph/plan.hpp), written with the
// hand-written protobuf encoder io/protobuf_writer.hpp (no protobuf library: see there).
//
//   io::ModelMetadata md;
//   Model<float> model = io::load_model<float>("best.safetensors", &md);
//   io::export_onnx("model.onnx", model, md, {.batch = 0});        // dynamic batch "N"
//
// The file: IR version 7, opset 13 of the default domain (ONNX 1.8 and later read it; OpenCV's dnn
// module, onnxruntime). One graph input "input" [N, C, H, W] float and one output "logits" [N, K]
// (the scores before the softmax); N is the symbolic dimension "N" (batch 0) or a fixed number.
//
// What the graph computes is the eval-mode network: the plan is compiled for eval with every pass
// off (graph/passes.hpp), so each step maps onto ONNX operators one to one:
//   Conv2d (groups), DepthwiseConv2d  -> Conv (group = C for depthwise), bias when the layer has one
//   BatchNorm2d                       -> BatchNormalization with the running statistics (not folded
//                                        into the convolution: the file holds the weights file's
//                                        tensors under their state_dict names, and runtimes fold it
//                                        themselves — OpenCV and onnxruntime do)
//   GroupNorm(G)                      -> Reshape [N, G, C/G*H*W, 1] (4-D: InstanceNormalization's common
//                                        image layout), InstanceNormalization (scale 1, bias 0),
//                                        Reshape [N, C, H, W], Mul gamma [C,1,1], Add beta [C,1,1]
//                                        (GroupNormalization needs opset 18, which OpenCV 4.6 lacks)
//   ReLU / ReLU6 / LeakyReLU          -> Relu / Clip(0, 6) / LeakyRelu(alpha)
//   MaxPool2d / AvgPool2d             -> MaxPool / AveragePool (count_include_pad = 1, as PyTorch)
//   global average pool               -> GlobalAveragePool
//   Flatten (a view)                  -> Flatten(axis 1), or Reshape for another view
//   Linear                            -> Gemm(transB = 1)
//   Residual join                     -> Add (then Relu)
//   Dropout                           -> nothing (eval emits no step)
// Weights are written as float (a double model is rounded to float).
//
// Normalisation: by default the input is what moodnet's network itself takes, the normalised
// image x[c] = (pixel/255 - mean[c]) / std[c]. With normalize_in_graph the input is pixel/255
// and the graph begins with Sub(mean) and Div(std) nodes ([C,1,1] initializers "input_mean",
// "input_std"). Either way the model's metadata_props hold the weights file's __metadata__
// (model, size arguments, input_shape, class_names, input_mean, input_std, resize, ...) and
// "onnx_input", which says in words which of the two inputs this file takes.
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/version.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/graph/plan.hpp"
#include "moodnet/graph/steps/conv.hpp"
#include "moodnet/graph/steps/eltwise.hpp"
#include "moodnet/graph/steps/linear.hpp"
#include "moodnet/graph/steps/norm.hpp"
#include "moodnet/graph/steps/pool.hpp"
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/io/model_metadata.hpp"
#include "moodnet/io/protobuf_writer.hpp"
#include "moodnet/models/model.hpp"

namespace moodnet::io {

inline constexpr std::int64_t kOnnxIrVersion = 7;  // ONNX 1.8, the release of opset 13
inline constexpr std::int64_t kOnnxOpset = 13;

struct OnnxExportOptions {
  std::int64_t batch = 0;           // 0: a dynamic batch dimension "N"; > 0: that many images exactly
  bool normalize_in_graph = false;  // the input is pixel/255 and the graph applies mean and std itself
};

// The sentence metadata_props["onnx_input"] holds.
inline std::string onnx_input_description(bool normalize_in_graph) {
  return normalize_in_graph ? "pixel/255 in [0, 1], planar [N, C, H, W]; the graph subtracts input_mean and divides "
                              "by input_std itself"
                            : "(pixel/255 - input_mean[c]) / input_std[c], planar [N, C, H, W]";
}

namespace detail {

// Field numbers and enum values of onnx/onnx.proto (IR version 7), for what the exporter writes.
namespace onnx_proto {
// ModelProto
inline constexpr int kModelIrVersion = 1, kModelProducerName = 2, kModelProducerVersion = 3, kModelDocString = 6,
                     kModelGraph = 7, kModelOpsetImport = 8, kModelMetadataProps = 14;
inline constexpr int kOpsetDomain = 1, kOpsetVersion = 2;  // OperatorSetIdProto
inline constexpr int kEntryKey = 1, kEntryValue = 2;       // StringStringEntryProto
// GraphProto
inline constexpr int kGraphNode = 1, kGraphName = 2, kGraphInitializer = 5, kGraphDocString = 10, kGraphInput = 11,
                     kGraphOutput = 12;
// NodeProto
inline constexpr int kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4, kNodeAttribute = 5;
// AttributeProto and its AttributeType values
inline constexpr int kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrInts = 8, kAttrType = 20;
inline constexpr std::int64_t kAttrTypeFloat = 1, kAttrTypeInt = 2, kAttrTypeInts = 7;
// TensorProto and its DataType values
inline constexpr int kTensorDims = 1, kTensorDataType = 2, kTensorName = 8, kTensorRawData = 9;
inline constexpr std::int64_t kFloat = 1, kInt64 = 7;
// ValueInfoProto -> TypeProto -> TypeProto.Tensor -> TensorShapeProto -> Dimension
inline constexpr int kValueName = 1, kValueType = 2, kTypeTensor = 1, kTensorElemType = 1, kTensorShape = 2,
                     kShapeDim = 1, kDimValue = 1, kDimParam = 2;
}  // namespace onnx_proto

inline ProtoWriter onnx_attr_int(const std::string& name, std::int64_t v) {
  namespace f = onnx_proto;
  ProtoWriter a;
  a.string(f::kAttrName, name).int64(f::kAttrI, v).int64(f::kAttrType, f::kAttrTypeInt);
  return a;
}
inline ProtoWriter onnx_attr_float(const std::string& name, double v) {
  namespace f = onnx_proto;
  ProtoWriter a;
  a.string(f::kAttrName, name).float32(f::kAttrF, static_cast<float>(v)).int64(f::kAttrType, f::kAttrTypeFloat);
  return a;
}
inline ProtoWriter onnx_attr_ints(const std::string& name, const std::vector<std::int64_t>& v) {
  namespace f = onnx_proto;
  ProtoWriter a;
  a.string(f::kAttrName, name);
  for (std::int64_t x : v) a.int64(f::kAttrInts, x);
  a.int64(f::kAttrType, f::kAttrTypeInts);
  return a;
}

// The graph being written: nodes, initializers, inputs and outputs in separate writers, joined in
// field order at the end (any order parses; this one is what people expect to read in a dump).
class OnnxGraphWriter {
 public:
  // A node `op` reading `inputs`, writing the one value `output` (the node is named after it).
  void node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
            const std::vector<ProtoWriter>& attributes = {}) {
    namespace f = onnx_proto;
    ProtoWriter n;
    for (const auto& in : inputs) n.string(f::kNodeInput, in);
    n.string(f::kNodeOutput, output).string(f::kNodeName, output).string(f::kNodeOpType, op);
    for (const auto& a : attributes) n.message(f::kNodeAttribute, a);
    nodes_.message(f::kGraphNode, n);
  }
  // An initializer of float values (raw little-endian data); returns its name.
  std::string floats(const std::string& name, const std::vector<std::int64_t>& dims,
                            const std::vector<float>& values) {
    tensor(name, dims, onnx_proto::kFloat, values.data(), values.size() * sizeof(float));
    return name;
  }
  std::string int64s(const std::string& name, const std::vector<std::int64_t>& values) {
    tensor(name, {static_cast<std::int64_t>(values.size())}, onnx_proto::kInt64, values.data(),
           values.size() * sizeof(std::int64_t));
    return name;
  }
  // A graph input or output of float tensors: dims[0] is the batch ("N" when batch is 0).
  void value_info(bool is_input, const std::string& name, const Shape& shape, std::int64_t batch) {
    namespace f = onnx_proto;
    ProtoWriter s;
    for (int i = 0; i < shape.rank(); ++i) {
      ProtoWriter d;
      if (i == 0 && batch == 0) d.string(f::kDimParam, "N");
      else d.int64(f::kDimValue, i == 0 ? batch : shape[i]);
      s.message(f::kShapeDim, d);
    }
    ProtoWriter tensor_type, type, info;
    tensor_type.int64(f::kTensorElemType, f::kFloat).message(f::kTensorShape, s);
    type.message(f::kTypeTensor, tensor_type);
    info.string(f::kValueName, name).message(f::kValueType, type);
    (is_input ? inputs_ : outputs_).message(is_input ? f::kGraphInput : f::kGraphOutput, info);
  }
  // `wanted`, or wanted_2, wanted_3, ... if that name is taken (value names must be unique).
  std::string unique(const std::string& wanted) {
    std::string name = wanted;
    for (int k = 2; !names_.insert(name).second; ++k) name = wanted + "_" + std::to_string(k);
    return name;
  }

  ProtoWriter graph(const std::string& name, const std::string& doc) const {
    namespace f = onnx_proto;
    ProtoWriter g;
    g.append(nodes_).string(f::kGraphName, name).append(initializers_).string(f::kGraphDocString, doc);
    g.append(inputs_).append(outputs_);
    return g;
  }

 private:
  void tensor(const std::string& name, const std::vector<std::int64_t>& dims, std::int64_t type, const void* data,
              std::size_t bytes) {
    namespace f = onnx_proto;
    MOODNET_ASSERT(names_.count(name) == 0);
    names_.insert(name);
    ProtoWriter t;
    for (std::int64_t d : dims) t.int64(f::kTensorDims, d);
    t.int64(f::kTensorDataType, type).string(f::kTensorName, name);
    t.bytes(f::kTensorRawData, std::string_view(static_cast<const char*>(data), bytes));
    initializers_.message(f::kGraphInitializer, t);
  }

  ProtoWriter nodes_, initializers_, inputs_, outputs_;
  std::set<std::string> names_;
};

template <class T>
inline std::vector<float> onnx_floats(TensorView<const T> v) {
  return std::vector<float>(v.data(), v.data() + v.numel());
}

// The model's parameter called `name` with shape `want`; throws when the plan and the parameter
// table disagree (a layer whose step name is not its state_dict prefix).
template <class T>
inline TensorView<const T> onnx_parameter(const std::map<std::string, const Parameter<T>*>& params,
                                          const std::string& name, const Shape& want) {
  const auto it = params.find(name);
  MOODNET_CHECK(it != params.end(), "ONNX export: the model has no parameter \"", name, "\"");
  MOODNET_CHECK(it->second->shape == want, "ONNX export: parameter \"", name, "\" has shape ",
                it->second->shape.str(), ", the step expects ", want.str());
  return TensorView<const T>(it->second->value);
}

// Writes the nodes of one plan step reading the values `ins` (ONNX names, one per step input) and
// producing the value `y`. Initializers are named after the step's module (its state_dict prefix n:
// "n.weight", ...; "n/..." for the exporter's own constants).
template <class T>
inline void onnx_step(OnnxGraphWriter& g, const graph::Step<T>& s, const std::vector<std::string>& ins,
                      const std::string& y, const std::map<std::string, const Parameter<T>*>& params) {
  using graph::StepKind;
  const std::string& n = s.name;
  const std::string& x = ins[0];
  const Shape& in = s.input_shapes[0];
  // The module's parameter n + suffix (of `shape`) as an initializer of `dims` (default: shape's).
  auto param = [&](const std::string& suffix, const Shape& shape, std::vector<std::int64_t> dims = {}) {
    if (dims.empty())
      for (int i = 0; i < shape.rank(); ++i) dims.push_back(shape[i]);
    return g.floats(n + suffix, dims, onnx_floats(onnx_parameter(params, n + suffix, shape)));
  };
  switch (s.kind()) {
    case StepKind::conv2d:
    case StepKind::depthwise_conv2d: {
      std::int64_t K, C, R, S, sh, sw, ph, pw, groups;
      if (const auto* c = dynamic_cast<const graph::Conv2dStep<T>*>(&s)) {
        const kernels::Conv2dParams& p = c->params();
        K = p.K, C = p.C, R = p.R, S = p.S, groups = p.groups;
        sh = p.stride_h, sw = p.stride_w, ph = p.pad_h, pw = p.pad_w;
      } else {
        const kernels::DepthwiseConv2dParams& p = dynamic_cast<const graph::DepthwiseConv2dStep<T>&>(s).params();
        K = C = groups = p.C, R = p.R, S = p.S;  // weight [C, 1, R, S]: Conv with one group per channel
        sh = p.stride_h, sw = p.stride_w, ph = p.pad_h, pw = p.pad_w;
      }
      std::vector<std::string> inputs{x, param(".weight", Shape{K, C / groups, R, S})};
      if (params.count(n + ".bias")) inputs.push_back(param(".bias", Shape{K}));
      g.node("Conv", inputs, y,
             {onnx_attr_ints("kernel_shape", {R, S}), onnx_attr_ints("strides", {sh, sw}),
              onnx_attr_ints("pads", {ph, pw, ph, pw}), onnx_attr_ints("dilations", {1, 1}),
              onnx_attr_int("group", groups)});
      return;
    }
    case StepKind::batchnorm2d: {
      const graph::BatchNormState<T>& b = dynamic_cast<const graph::BatchNorm2dStep<T>&>(s).state();
      const std::int64_t C = in[1];
      g.node("BatchNormalization",
             {x, g.floats(n + ".weight", {C}, onnx_floats<T>(b.gamma)),
              g.floats(n + ".bias", {C}, onnx_floats<T>(b.beta)),
              g.floats(n + ".running_mean", {C}, onnx_floats<T>(b.running_mean)),
              g.floats(n + ".running_var", {C}, onnx_floats<T>(b.running_var))},
             y, {onnx_attr_float("epsilon", b.eps)});
      return;
    }
    case StepKind::groupnorm: {
      // GroupNorm(G) = InstanceNormalization over [N, G, C/G*H*W, 1], then the per-channel affine map.
      const auto& gn = dynamic_cast<const graph::GroupNormStep<T>&>(s);
      const std::int64_t G = gn.groups(), C = in[1];
      const std::string grouped = g.unique(n + "/grouped"), normed = g.unique(n + "/normalized"),
                        back = g.unique(n + "/ungrouped"), scaled = g.unique(n + "/scaled");
      g.node("Reshape", {x, g.int64s(n + "/group_shape", {0, G, -1, 1})}, grouped);
      g.node("InstanceNormalization",
             {grouped, g.floats(n + "/unit_scale", {G}, std::vector<float>(static_cast<std::size_t>(G), 1.0f)),
              g.floats(n + "/zero_bias", {G}, std::vector<float>(static_cast<std::size_t>(G), 0.0f))},
             normed, {onnx_attr_float("epsilon", gn.eps())});
      g.node("Reshape", {normed, g.int64s(n + "/shape", {0, C, in[2], in[3]})}, back);
      g.node("Mul", {back, param(".weight", Shape{C}, {C, 1, 1})}, scaled);
      g.node("Add", {scaled, param(".bias", Shape{C}, {C, 1, 1})}, y);
      return;
    }
    case StepKind::activation: {
      const auto& a = dynamic_cast<const graph::ActivationStep<T>&>(s);
      switch (a.fn()) {
        case graph::ActivationFn::relu: g.node("Relu", {x}, y); break;
        case graph::ActivationFn::relu6:
          g.node("Clip", {x, g.floats(n + "/min", {}, {0.0f}), g.floats(n + "/max", {}, {6.0f})}, y);
          break;
        case graph::ActivationFn::leaky_relu: g.node("LeakyRelu", {x}, y, {onnx_attr_float("alpha", a.slope())}); break;
      }
      return;
    }
    case StepKind::max_pool2d:
    case StepKind::avg_pool2d: {
      const kernels::Pool2dParams& p = dynamic_cast<const graph::Pool2dStep<T>&>(s).params();
      std::vector<ProtoWriter> attrs{onnx_attr_ints("kernel_shape", {p.kernel_h, p.kernel_w}),
                                     onnx_attr_ints("strides", {p.stride_h, p.stride_w}),
                                     onnx_attr_ints("pads", {p.pad_h, p.pad_w, p.pad_h, p.pad_w})};
      const bool max = s.kind() == StepKind::max_pool2d;
      if (!max) attrs.push_back(onnx_attr_int("count_include_pad", 1));
      g.node(max ? "MaxPool" : "AveragePool", {x}, y, attrs);
      return;
    }
    case StepKind::global_avg_pool2d: g.node("GlobalAveragePool", {x}, y); return;
    case StepKind::linear: {
      const kernels::LinearParams& p = dynamic_cast<const graph::LinearStep<T>&>(s).params();
      std::vector<std::string> inputs{x, param(".weight", Shape{p.out, p.in})};
      if (params.count(n + ".bias")) inputs.push_back(param(".bias", Shape{p.out}));
      g.node("Gemm", inputs, y, {onnx_attr_int("transB", 1)});
      return;
    }
    case StepKind::reshape: {
      const Shape& out = s.output_shape;
      if (out.rank() == 2 && out[1] == in.inner_numel()) {
        g.node("Flatten", {x}, y, {onnx_attr_int("axis", 1)});
      } else {
        std::vector<std::int64_t> dims{0};  // 0: the batch dimension as it comes
        for (int i = 1; i < out.rank(); ++i) dims.push_back(out[i]);
        g.node("Reshape", {x, g.int64s(g.unique(n + "/shape"), dims)}, y);
      }
      return;
    }
    case StepKind::add:
      MOODNET_ASSERT(!dynamic_cast<const graph::AddStep<T>&>(s).fused_relu());  // compiled without passes
      g.node("Add", {ins[0], ins[1]}, y);
      return;
    case StepKind::dropout: break;  // training plans only
  }
  fail("ONNX export: step ", n, " (", s.module_type, ", ", graph::to_string(s.kind()), ") has no ONNX form");
}

}  // namespace detail

// The ONNX ModelProto of `model` in eval mode (see the top of this file), its metadata_props from
// `md`. The model is put back in the mode it was in.
template <class T>
inline std::string onnx_model_bytes(Model<T>& model, const ModelMetadata& md, const OnnxExportOptions& o = {}) {
  namespace f = detail::onnx_proto;
  MOODNET_CHECK(o.batch >= 0, "ONNX export: the batch size must be >= 0 (0 = dynamic), got ", o.batch);
  const Shape& sample = model.sample_shape();
  MOODNET_CHECK(sample.rank() == 3, "ONNX export: the model's input must be an image [C, H, W], got ", sample.str());
  const bool was_training = model.training();
  model.eval();
  Workspace ws;
  graph::PlanOptions po;
  po.training = false;
  po.passes = graph::PassOptions::none();  // one step per layer: each maps onto ONNX operators
  const std::unique_ptr<graph::Plan<T>> plan = graph::Plan<T>::compile(model.network(), model.batch_shape(1), po, &ws);
  if (was_training) model.train();

  std::map<std::string, const Parameter<T>*> params;
  for (const auto& p : model.named_parameters()) params[p.name] = p.param;

  detail::OnnxGraphWriter g;
  std::map<int, std::string> value_names;  // plan value id -> ONNX value name
  value_names[0] = g.unique("input");
  if (o.normalize_in_graph) {
    const data::Normalization norm = md.normalization();
    const std::int64_t c = norm.channels();
    MOODNET_CHECK(c == 1 || c == sample[0], "ONNX export: the normalisation has ", c, " values for an input of ",
                  sample[0], " channels");
    const std::string centred = g.unique("input_centred"), normalized = g.unique("input_normalized");
    g.node("Sub", {value_names[0], g.floats("input_mean", {c, 1, 1}, norm.mean)}, centred);
    g.node("Div", {centred, g.floats("input_std", {c, 1, 1}, norm.std)}, normalized);
    value_names[0] = normalized;
  }
  const auto& steps = plan->steps();
  MOODNET_CHECK(!steps.empty(), "ONNX export: the network has no steps");
  // The plan's output is its last step's (a network's emit returns the value it made last).
  const int output_id = steps.back()->output;
  MOODNET_ASSERT(steps.back()->output_shape == plan->output_shape());
  for (const auto& sp : steps) {
    const graph::Step<T>& s = *sp;
    std::vector<std::string> ins;
    for (int v : s.inputs) {
      MOODNET_ASSERT(value_names.count(v));
      ins.push_back(value_names.at(v));
    }
    std::string op = graph::to_string(s.kind());
    if (s.kind() == graph::StepKind::activation) op = s.describe();  // relu, relu6, leaky_relu
    const std::string y = g.unique(s.output == output_id ? "logits" : s.name.empty() ? op : s.name + "/" + op);
    detail::onnx_step(g, s, ins, y, params);
    value_names[s.output] = y;
  }
  g.value_info(true, "input", model.batch_shape(1), o.batch);
  g.value_info(false, value_names.at(output_id), plan->output_shape(), o.batch);

  const ModelInfo& info = find_model(md.model);
  const std::string title = info.title + " (" + size_args_text(info, md.size) + ")";
  const std::string doc = title + " exported by moodnet " MOODNET_VERSION_STRING "; input: " +
                          onnx_input_description(o.normalize_in_graph) + "; output: logits over class_names";
  ProtoWriter m;
  m.int64(f::kModelIrVersion, kOnnxIrVersion).string(f::kModelProducerName, "moodnet");
  m.string(f::kModelProducerVersion, MOODNET_VERSION_STRING).string(f::kModelDocString, doc);
  m.message(f::kModelGraph, g.graph(md.model, doc));
  ProtoWriter opset;
  opset.string(f::kOpsetDomain, "").int64(f::kOpsetVersion, kOnnxOpset);
  m.message(f::kModelOpsetImport, opset);
  Metadata props = md.to_map();
  props["onnx_input"] = onnx_input_description(o.normalize_in_graph);
  for (const auto& [k, v] : props) {
    ProtoWriter e;
    e.string(f::kEntryKey, k).string(f::kEntryValue, v);
    m.message(f::kModelMetadataProps, e);
  }
  MOODNET_CHECK(m.size() < static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()),
                "ONNX export: the model is ", m.size(), " bytes; protobuf files are limited to 2 GiB");
  return m.data();
}

// Writes onnx_model_bytes(model, md, o) to `path`, atomically (io/atomic_file.hpp).
template <class T>
inline void export_onnx(const std::string& path, Model<T>& model, const ModelMetadata& md,
                        const OnnxExportOptions& o = {}) {
  write_file_atomic(path, onnx_model_bytes(model, md, o));
}

}  // namespace moodnet::io
