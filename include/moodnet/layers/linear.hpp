#pragma once
// Linear: y = x W^T + b. Parameters: weight [out, in], bias [out] (PyTorch's nn.Linear).
#include <string>

#include "moodnet/kernels/linear.hpp"
#include "moodnet/layers/init.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Linear : public Layer<T> {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true)
      : in_(in_features), out_(out_features), bias_(bias) {
    MOODNET_CHECK(in_ > 0 && out_ > 0, "Linear: features must be positive, got in=", in_, " out=", out_);
    this->add_parameter("weight", Shape{out_, in_}, true);
    if (bias_) this->add_parameter("bias", Shape{out_}, false);
  }

  std::string type_name() const override { return "Linear"; }
  std::string describe() const override { return std::to_string(in_) + "->" + std::to_string(out_); }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 2, "Linear", in_);
    return Shape{in[0], out_};
  }
  void reset_parameters(std::uint64_t seed) override {
    fan_in_uniform(this->param(0).value, in_, seed);
    if (bias_) fan_in_uniform(this->param(1).value, in_, seed ^ 0xB1A5ull);
  }

  TensorView<const T> forward(TensorView<const T> x) override {
    y_.resize(output_shape(x.shape()));
    x_ = x;
    kernels::linear_forward(params(x.dim(0)), x.data(), this->param(0).value.data(),
                            bias_ ? this->param(1).value.data() : nullptr, y_.data());
    return y_;
  }
  // dx = dy W; dW += dy^T x; db += sum_n dy.
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "Linear output gradient");
    const kernels::LinearParams p = params(x_.dim(0));
    kernels::linear_backward_weight(p, x_.data(), dy.data(), this->param(0).grad.data());
    if (bias_) kernels::linear_backward_bias(p, dy.data(), this->param(1).grad.data());
    dx_.resize(x_.shape());
    kernels::linear_backward_input(p, dy.data(), this->param(0).value.data(), dx_.data());
    return dx_;
  }

 private:
  kernels::LinearParams params(std::int64_t n) const {
    kernels::LinearParams p;
    p.N = n, p.in = in_, p.out = out_;
    return p;
  }

  std::int64_t in_, out_;
  bool bias_;
  TensorView<const T> x_;
  Tensor<T> y_, dx_;
};

}  // namespace moodnet
