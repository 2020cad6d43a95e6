// The benchmark shape tables of shapes.hpp, read from the registered models' plans (one translation
// unit for every benchmark: building the models is the costly part to compile).
#include "shapes.hpp"

#include "moodnet/graph/steps/conv.hpp"
#include "moodnet/graph/steps/eltwise.hpp"
#include "moodnet/graph/steps/linear.hpp"
#include "moodnet/graph/steps/norm.hpp"
#include "moodnet/graph/steps/pool.hpp"
#include "moodnet/models/registry.hpp"

namespace moodnet::bench {

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

const std::vector<LayerShape>& all_layer_shapes() {
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

std::vector<LayerShape> layer_shapes(LayerKind kind) {
  std::vector<LayerShape> v;
  for (const auto& s : all_layer_shapes())
    if (s.kind == kind) v.push_back(s);
  return v;
}

}  // namespace moodnet::bench
