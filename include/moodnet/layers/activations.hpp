#pragma once
// Elementwise activations: ReLU, ReLU6, LeakyReLU(slope). Backward reads the saved output y
// (y > 0 <=> x > 0 for all three, given slope >= 0).
#include <string>

#include "moodnet/kernels/activations.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

enum class ActivationKind { relu, relu6, leaky_relu };

template <class T>
class Activation : public Layer<T> {
 public:
  explicit Activation(ActivationKind kind, double slope = 0.01) : kind_(kind), slope_(slope) {
    params(0).validate();
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
    if (pass_through_) return "fused into the previous layer";
    return kind_ == ActivationKind::leaky_relu ? "slope " + std::to_string(slope_) : std::string();
  }
  Shape output_shape(const Shape& in) const override { return in; }
  ActivationKind kind() const { return kind_; }
  // When the previous layer already applies this activation (a BatchNorm2d with a fused ReLU), the
  // layer passes its input and gradient through unchanged.
  void set_pass_through(bool on) { pass_through_ = on; }

  TensorView<const T> forward(TensorView<const T> x) override {
    if (pass_through_) return x;
    y_.resize(x.shape());
    const auto p = params(x.numel());
    switch (kind_) {
      case ActivationKind::relu: kernels::relu_forward(p, x.data(), y_.data()); break;
      case ActivationKind::relu6: kernels::relu6_forward(p, x.data(), y_.data()); break;
      case ActivationKind::leaky_relu: kernels::leaky_relu_forward(p, x.data(), y_.data()); break;
    }
    return y_;
  }
  // dx = dy * f'(x), with f'(x) read from y: 1 where y > 0 (and y < 6 for ReLU6), else 0 (slope for LeakyReLU).
  TensorView<const T> backward(TensorView<const T> dy) override {
    if (pass_through_) return dy;
    check_shape(dy.shape(), y_.shape(), type_name().c_str());
    dx_.resize(y_.shape());
    const auto p = params(y_.numel());
    switch (kind_) {
      case ActivationKind::relu: kernels::relu_backward(p, y_.data(), dy.data(), dx_.data()); break;
      case ActivationKind::relu6: kernels::relu6_backward(p, y_.data(), dy.data(), dx_.data()); break;
      case ActivationKind::leaky_relu: kernels::leaky_relu_backward(p, y_.data(), dy.data(), dx_.data()); break;
    }
    return dx_;
  }

 private:
  kernels::ActivationParams params(std::int64_t n) const {
    kernels::ActivationParams p;
    p.n = n, p.slope = slope_;
    return p;
  }

  ActivationKind kind_;
  double slope_;
  bool pass_through_ = false;
  Tensor<T> y_, dx_;
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
