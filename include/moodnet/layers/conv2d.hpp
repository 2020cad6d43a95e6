#pragma once
// Conv2d: dense or grouped 2-D convolution, run as a graph::Conv2dStep (graph/steps/conv.hpp:
// im2col + GEMM, kernels/conv2d.hpp). Parameters: weight [out, in/groups, k, k] (OIHW, as
// PyTorch), optional bias [out].
#include <memory>
#include <string>

#include "moodnet/graph/steps/conv.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/layers/init.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Conv2d : public Layer<T> {
 public:
  Conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel, std::int64_t stride = 1,
         std::int64_t padding = 0, std::int64_t groups = 1, bool bias = false)
      : in_(in_channels), out_(out_channels), k_(kernel), stride_(stride), pad_(padding), groups_(groups),
        bias_(bias) {
    params(1).validate();  // throws on channels/groups/kernel that cannot work
    this->add_parameter("weight", Shape{out_, in_ / groups_, k_, k_}, true);
    if (bias_) this->add_parameter("bias", Shape{out_}, false);
  }

  std::string type_name() const override { return "Conv2d"; }
  std::string describe() const override {
    return std::to_string(in_) + "->" + std::to_string(out_) + ", k" + std::to_string(k_) + " s" +
           std::to_string(stride_) + " p" + std::to_string(pad_) + (groups_ > 1 ? " g" + std::to_string(groups_) : "");
  }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, "Conv2d", in_);
    const kernels::Conv2dParams p = params(in[0], in[2], in[3]);
    p.validate();
    return p.output_shape();
  }
  void reset_parameters(std::uint64_t seed) override {
    kaiming_normal(this->param(0).value, (in_ / groups_) * k_ * k_, seed);
    if (bias_) this->param(1).value.zero();
  }

  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);
    Parameter<T>& w = this->param(0);
    TensorView<T> bias, dbias;
    if (bias_) bias = this->param(1).value, dbias = this->param(1).grad;
    return b.add_step(std::make_unique<graph::Conv2dStep<T>>(params(x.shape[0], x.shape[2], x.shape[3]), w.value,
                                                             w.grad, bias, dbias),
                      {x}, out, type_name(), this->own_parameter_count());
  }

 private:
  kernels::Conv2dParams params(std::int64_t n, std::int64_t h = 0, std::int64_t w = 0) const {
    kernels::Conv2dParams p;
    p.N = n, p.C = in_, p.H = h ? h : k_, p.W = w ? w : k_, p.K = out_, p.R = k_, p.S = k_;
    p.stride_h = p.stride_w = stride_;
    p.pad_h = p.pad_w = pad_;
    p.groups = groups_;
    return p;
  }

  std::int64_t in_, out_, k_, stride_, pad_, groups_;
  bool bias_;
};

}  // namespace moodnet
