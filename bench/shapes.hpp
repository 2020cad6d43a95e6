#pragma once
// The real layer shapes of the benchmark networks at batch 64 — MobileNet-V1-48 (alpha 1, 0.5),
// CustomNet-48 (w 64, 32) and the residual networks when registered — shared by every benchmark.
// They are read from each registered model's training plan compiled with every pass off (one step
// per PyTorch layer, as in ../shared/reference/pytorch_models.py and the per-layer PyTorch table of
// ../shared/reference/results-2026-11-24.md), never copied by hand. Shapes used by several networks
// appear once, with every user listed ("mb1, cn32").
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "moodnet/graph/steps/conv.hpp"
#include "moodnet/graph/steps/eltwise.hpp"
#include "moodnet/graph/steps/linear.hpp"
#include "moodnet/graph/steps/norm.hpp"
#include "moodnet/graph/steps/pool.hpp"
#include "moodnet/models/registry.hpp"

namespace moodnet::bench {

inline constexpr int kBatch = 64;

enum class LayerKind { dense, grouped, depthwise, pointwise, batchnorm, groupnorm, relu, maxpool, dropout, gap, linear };

struct LayerShape {
  LayerKind kind;
  int cin = 0, cout = 0;   // channels in/out (features for linear/dropout on flat inputs)
  int h = 0, w = 0;        // input spatial size (0 for flat inputs)
  int k = 0, stride = 1;   // conv/pool kernel and stride
  double p = 0;            // dropout probability
  int groups = 1;          // grouped convolution: groups; groupnorm: groups
  std::string used_by;     // "mb1, cn32"

  // "dense3x3 32->32 s1 @48x48" — the naming of the PyTorch reference table.
  std::string name() const {
    const std::string at = h ? " @" + std::to_string(h) + "x" + std::to_string(w) : "";
    const std::string c = "C" + std::to_string(cin);
    const std::string io = std::to_string(cin) + "->" + std::to_string(cout);
    const std::string s = " s" + std::to_string(stride);
    switch (kind) {
      case LayerKind::dense: return "dense" + std::to_string(k) + "x" + std::to_string(k) + " " + io + s + at;
      case LayerKind::grouped: return "grouped3x3 " + io + " g" + std::to_string(groups) + s + at;
      case LayerKind::depthwise: return "depthwise3x3 " + io + s + at;
      case LayerKind::pointwise: return "pointwise1x1 " + io + s + at;
      case LayerKind::batchnorm: return "batchnorm " + c + at;
      case LayerKind::groupnorm: return "groupnorm" + std::to_string(groups) + " " + c + at;
      case LayerKind::relu: return "relu " + (h ? c : "F" + std::to_string(cin)) + at;
      case LayerKind::maxpool: return "maxpool2x2 " + c + at;
      case LayerKind::dropout: {
        std::string pp = std::to_string(p);
        pp.erase(pp.find_last_not_of('0') + 1);
        return "dropout" + pp + " " + (h ? c : "F" + std::to_string(cin)) + at;
      }
      case LayerKind::gap: return "avgpool_global " + c + at;
      case LayerKind::linear: return "linear " + io;
    }
    return "?";
  }
  // Output spatial size of a conv/pool layer.
  int out_h() const { return kind == LayerKind::maxpool ? h / 2 : (h + 2 * (k / 2) - k) / stride + 1; }
  int out_w() const { return kind == LayerKind::maxpool ? w / 2 : (w + 2 * (k / 2) - k) / stride + 1; }
  // Padding of a conv layer: "same" for odd kernels (every network here uses k/2).
  int pad() const { return k / 2; }
  // Forward multiply-accumulates per image for conv and linear layers (0 otherwise).
  double macs_per_image() const {
    switch (kind) {
      case LayerKind::dense: case LayerKind::pointwise:
        return double(out_h()) * out_w() * cout * cin * k * k;
      case LayerKind::grouped: return double(out_h()) * out_w() * cout * (cin / groups) * k * k;
      case LayerKind::depthwise: return double(out_h()) * out_w() * cout * k * k;
      case LayerKind::linear: return double(cin) * cout;
      default: return 0;
    }
  }
};

namespace detail {
inline void add(std::vector<LayerShape>& out, LayerShape s, const std::string& net) {
  for (auto& e : out)
    if (e.name() == s.name()) {
      if (e.used_by.find(net) == std::string::npos) e.used_by += ", " + net;
      return;
    }
  s.used_by = net;
  out.push_back(s);
}

// The LayerShape of one plan step (false for steps that are not benchmarked on their own: views,
// residual adds).
inline bool layer_shape(const graph::Step<float>& step, LayerShape& s) {
  const Shape& in = step.input_shapes[0];
  s = LayerShape{};
  s.cin = static_cast<int>(in[1]);
  s.cout = static_cast<int>(step.output_shape[1]);
  if (in.rank() == 4) s.h = static_cast<int>(in[2]), s.w = static_cast<int>(in[3]);
  if (auto* c = dynamic_cast<const graph::Conv2dStep<float>*>(&step)) {
    const auto& p = c->params();
    s.k = static_cast<int>(p.R), s.stride = static_cast<int>(p.stride_h), s.groups = static_cast<int>(p.groups);
    s.kind = p.groups > 1 ? LayerKind::grouped : p.R == 1 ? LayerKind::pointwise : LayerKind::dense;
  } else if (auto* d = dynamic_cast<const graph::DepthwiseConv2dStep<float>*>(&step)) {
    s.kind = LayerKind::depthwise, s.k = static_cast<int>(d->params().R), s.stride = static_cast<int>(d->params().stride_h);
  } else if (dynamic_cast<const graph::BatchNorm2dStep<float>*>(&step)) {
    s.kind = LayerKind::batchnorm;
  } else if (auto* g = dynamic_cast<const graph::GroupNormStep<float>*>(&step)) {
    s.kind = LayerKind::groupnorm, s.groups = static_cast<int>(g->groups());
  } else if (auto* a = dynamic_cast<const graph::ActivationStep<float>*>(&step); a && a->fn() == graph::ActivationFn::relu) {
    s.kind = LayerKind::relu;
  } else if (auto* m = dynamic_cast<const graph::Pool2dStep<float>*>(&step); m && step.kind() == graph::StepKind::max_pool2d) {
    s.kind = LayerKind::maxpool, s.k = static_cast<int>(m->params().kernel_h), s.stride = static_cast<int>(m->params().stride_h);
  } else if (auto* dr = dynamic_cast<const graph::DropoutStep<float>*>(&step)) {
    s.kind = LayerKind::dropout, s.p = dr->probability();
  } else if (step.kind() == graph::StepKind::global_avg_pool2d) {
    s.kind = LayerKind::gap;
  } else if (auto* l = dynamic_cast<const graph::LinearStep<float>*>(&step)) {
    s.kind = LayerKind::linear, s.cin = static_cast<int>(l->params().in), s.cout = static_cast<int>(l->params().out);
  } else {
    return false;
  }
  return true;
}

// Every step of the registered model `name` (size argument key = value), batch 64, training plan
// with the passes off.
inline void add_model(std::vector<LayerShape>& out, const std::string& name, const SizeArgs& size, const std::string& tag) {
  ModelSpec spec;
  spec.size = size;
  Model<float> model = build_model<float>(name, spec);
  model.set_passes(graph::PassOptions::none());
  model.train();
  for (const auto& step : model.plan(model.batch_shape(kBatch)).steps()) {
    LayerShape s;
    if (layer_shape(*step, s)) add(out, s, tag);
  }
}
}  // namespace detail

// Every distinct layer shape of the benchmark networks, in network order.
inline const std::vector<LayerShape>& all_layer_shapes() {
  static const std::vector<LayerShape> shapes = [] {
    std::vector<LayerShape> v;
    detail::add_model(v, "mobilenet", {{"alpha", 1.0}}, "mb1");
    detail::add_model(v, "mobilenet", {{"alpha", 0.5}}, "mb0.5");
    detail::add_model(v, "customnet", {{"w", 64}}, "cn64");
    detail::add_model(v, "customnet", {{"w", 32}}, "cn32");
    if (try_find_model("resnet")) {
      detail::add_model(v, "resnet", {{"w", 32}, {"blocks", 1}}, "rn10");
      detail::add_model(v, "resnet", {{"w", 24}, {"blocks", 2}}, "rn18");
    }
    if (try_find_model("resnext"))
      detail::add_model(v, "resnext", {{"cardinality", 8}, {"group_width", 4}, {"w", 64}, {"blocks", 2}}, "rx8x4");
    return v;
  }();
  return shapes;
}

// The distinct shapes of one kind.
inline std::vector<LayerShape> layer_shapes(LayerKind kind) {
  std::vector<LayerShape> v;
  for (const auto& s : all_layer_shapes())
    if (s.kind == kind) v.push_back(s);
  return v;
}

}  // namespace moodnet::bench
