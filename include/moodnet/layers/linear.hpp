#pragma once
// Linear: y = x W^T + b. Parameters: weight [out, in], bias [out] (PyTorch's nn.Linear).
#include <memory>
#include <string>

#include "moodnet/graph/steps/linear.hpp"
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

  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);
    const kernels::LinearParams p = params(x.shape[0]);
    Parameter<T>& w = this->param(0);
    TensorView<T> bias, dbias;
    if (bias_) bias = this->param(1).value, dbias = this->param(1).grad;
    return b.add_step(std::make_unique<graph::LinearStep<T>>(p, w.value, w.grad, bias, dbias), {x}, out, type_name(),
                      this->own_parameter_count());
  }

 private:
  kernels::LinearParams params(std::int64_t n) const {
    kernels::LinearParams p;
    p.N = n, p.in = in_, p.out = out_;
    return p;
  }

  std::int64_t in_, out_;
  bool bias_;
};

}  // namespace moodnet
