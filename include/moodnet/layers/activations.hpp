#pragma once
// Elementwise activations: ReLU, ReLU6, LeakyReLU(slope). Backward reads the saved output y
// (y > 0 <=> x > 0 for all three, given slope >= 0).
#include <memory>
#include <string>

#include "moodnet/graph/steps/eltwise.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

enum class ActivationKind { relu, relu6, leaky_relu };

template <class T>
class Activation : public Layer<T> {
 public:
  explicit Activation(ActivationKind kind, double slope = 0.01) : kind_(kind), slope_(slope) {
    kernels::ActivationParams p;
    p.slope = slope_;
    p.validate();  // throws on a negative slope
  }

  std::string type_name() const override {
    switch (kind_) {
      case ActivationKind::relu: return "ReLU";
      case ActivationKind::relu6: return "ReLU6";
      case ActivationKind::leaky_relu: return "LeakyReLU";
    }
    return "?";
  }
  std::string describe() const override {
    return kind_ == ActivationKind::leaky_relu ? "slope " + std::to_string(slope_) : std::string();
  }
  Shape output_shape(const Shape& in) const override { return in; }
  ActivationKind kind() const { return kind_; }

  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const graph::ActivationFn fn = kind_ == ActivationKind::relu    ? graph::ActivationFn::relu
                                   : kind_ == ActivationKind::relu6 ? graph::ActivationFn::relu6
                                                                    : graph::ActivationFn::leaky_relu;
    return b.add_step(std::make_unique<graph::ActivationStep<T>>(fn, slope_, x.shape.numel()), {x}, x.shape,
                      type_name());
  }

 private:
  ActivationKind kind_;
  double slope_;
};

template <class T>
struct ReLU : Activation<T> {
  ReLU() : Activation<T>(ActivationKind::relu) {}
};
template <class T>
struct ReLU6 : Activation<T> {
  ReLU6() : Activation<T>(ActivationKind::relu6) {}
};
template <class T>
struct LeakyReLU : Activation<T> {
  explicit LeakyReLU(double slope = 0.01) : Activation<T>(ActivationKind::leaky_relu, slope) {}
};

}  // namespace moodnet
