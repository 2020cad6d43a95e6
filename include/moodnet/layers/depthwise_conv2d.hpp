#pragma once
// DepthwiseConv2d: one k×k filter per channel (PyTorch's Conv2d with groups = in = out channels),
// through the direct kernel in kernels/depthwise_conv2d.hpp. Parameter: weight [C, 1, k, k].
#include <memory>
#include <string>

#include "moodnet/graph/steps/conv.hpp"
#include "moodnet/kernels/depthwise_conv2d.hpp"
#include "moodnet/layers/init.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class DepthwiseConv2d : public Layer<T> {
 public:
  DepthwiseConv2d(std::int64_t channels, std::int64_t kernel, std::int64_t stride = 1, std::int64_t padding = 0)
      : c_(channels), k_(kernel), stride_(stride), pad_(padding) {
    params(1, k_, k_).validate();
    this->add_parameter("weight", Shape{c_, 1, k_, k_}, true);
  }

  std::string type_name() const override { return "Conv2d"; }
  std::string describe() const override {
    return "depthwise " + std::to_string(c_) + ", k" + std::to_string(k_) + " s" + std::to_string(stride_) + " p" +
           std::to_string(pad_);
  }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, "DepthwiseConv2d", c_);
    const kernels::DepthwiseConv2dParams p = params(in[0], in[2], in[3]);
    p.validate();
    return Shape{in[0], c_, p.out_h(), p.out_w()};
  }
  void reset_parameters(std::uint64_t seed) override { kaiming_normal(this->param(0).value, k_ * k_, seed); }

  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);
    Parameter<T>& w = this->param(0);
    return b.add_step(std::make_unique<graph::DepthwiseConv2dStep<T>>(params(x.shape[0], x.shape[2], x.shape[3]),
                                                                      w.value, w.grad),
                      {x}, out, type_name(), this->own_parameter_count());
  }

 private:
  kernels::DepthwiseConv2dParams params(std::int64_t n, std::int64_t h, std::int64_t w) const {
    kernels::DepthwiseConv2dParams p;
    p.N = n, p.C = c_, p.H = h, p.W = w, p.R = p.S = k_;
    p.stride_h = p.stride_w = stride_;
    p.pad_h = p.pad_w = pad_;
    return p;
  }

  std::int64_t c_, k_, stride_, pad_;
};

}  // namespace moodnet
