#pragma once
// Residual: y = body(x) + shortcut(x), or y = relu(body(x) + shortcut(x)) with relu_after (the
// ResNet join), where the shortcut is the identity (when null) or a layer such as a 1x1 convolution
// (+ batchnorm) that matches the body's output shape.
//
// Backward: with g = dy (or dy * [y > 0] after the ReLU), both branches see g;
// dx = body.backward(g) + shortcut.backward(g) (for the identity shortcut, dx = body.backward(g) + g).
//
// Names: the children are "body" and "shortcut" by default. torchvision's blocks name the body's
// layers directly ("layer1.0.conv1", "layer1.0.downsample.0"): an empty body_name puts the body's
// children directly under the Residual's own name.
#include <memory>
#include <string>

#include "moodnet/graph/steps/eltwise.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

struct ResidualOptions {
  std::string body_name = "body";          // "" = the body's children are named under the Residual itself
  std::string shortcut_name = "shortcut";
  bool relu_after = false;                 // y = relu(body(x) + shortcut(x))
};

template <class T>
class Residual : public Layer<T> {
 public:
  explicit Residual(LayerPtr<T> body, LayerPtr<T> shortcut = nullptr, ResidualOptions options = {})
      : body_(std::move(body)), shortcut_(std::move(shortcut)), options_(std::move(options)) {
    MOODNET_CHECK(body_ != nullptr, "Residual needs a body");
    MOODNET_CHECK(!options_.shortcut_name.empty(), "Residual: the shortcut needs a name");
    MOODNET_CHECK(options_.body_name != options_.shortcut_name, "Residual: body and shortcut need different names");
    if (options_.body_name.empty()) {
      bool has_children = false;
      body_->for_each_child([&](const std::string&, Layer<T>&) { has_children = true; });
      MOODNET_CHECK(has_children && body_->parameters().empty(),
                    "Residual: an unnamed body must be a container (e.g. a Sequential), got a ", body_->type_name());
    }
  }

  std::string type_name() const override { return "Residual"; }
  std::string describe() const override {
    return std::string(shortcut_ ? "projection shortcut" : "identity shortcut") + (options_.relu_after ? ", ReLU" : "");
  }
  bool relu_after() const { return options_.relu_after; }
  Shape output_shape(const Shape& in) const override {
    const Shape b = body_->output_shape(in);
    const Shape s = shortcut_ ? shortcut_->output_shape(in) : in;
    MOODNET_CHECK(b == s, "Residual: body output ", b.str(), " does not match shortcut output ", s.str(),
                  " for input ", in.str());
    return b;
  }
  // Emits the body, then the shortcut, then the join: an add step (and a ReLU step, which the
  // plan's fuse_add_relu pass merges into the add).
  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);  // validates before anything is recorded
    graph::Value body_out, shortcut_out = x;
    {
      typename graph::PlanBuilder<T>::Scope scope(b, options_.body_name);
      body_out = body_->emit(b, x);
    }
    if (shortcut_) {
      typename graph::PlanBuilder<T>::Scope scope(b, options_.shortcut_name);
      shortcut_out = shortcut_->emit(b, x);
    }
    graph::Value y = b.add_step(std::make_unique<graph::AddStep<T>>(out.numel()), {body_out, shortcut_out}, out, "add");
    if (options_.relu_after)
      y = b.add_step(std::make_unique<graph::ActivationStep<T>>(graph::ActivationFn::relu, 0.0, out.numel()), {y}, out,
                     "ReLU");
    return y;
  }
  void set_training(bool training) override {
    Layer<T>::set_training(training);
    body_->set_training(training);
    if (shortcut_) shortcut_->set_training(training);
  }
  void for_each_child(const std::function<void(const std::string&, Layer<T>&)>& f) override {
    if (options_.body_name.empty())
      body_->for_each_child(f);
    else
      f(options_.body_name, *body_);
    if (shortcut_) f(options_.shortcut_name, *shortcut_);
  }

 private:
  LayerPtr<T> body_, shortcut_;
  ResidualOptions options_;
};

}  // namespace moodnet
