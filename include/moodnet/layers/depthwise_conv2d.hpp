#pragma once
// DepthwiseConv2d: one k×k filter per channel (PyTorch's Conv2d with groups = in = out channels),
// through the direct kernel in kernels/depthwise_conv2d.hpp. Parameter: weight [C, 1, k, k].
#include <string>

#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/depthwise_conv2d.hpp"
#include "moodnet/layers/batchnorm_fold.hpp"
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
           std::to_string(pad_) + (folded_.attached() ? " (+next BN in eval)" : "");
  }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, "DepthwiseConv2d", c_);
    const kernels::DepthwiseConv2dParams p = params(in[0], in[2], in[3]);
    p.validate();
    return Shape{in[0], c_, p.out_h(), p.out_w()};
  }
  void reset_parameters(std::uint64_t seed) override { kaiming_normal(this->param(0).value, k_ * k_, seed); }

  // In eval mode, also apply `bn` (the BatchNorm2d right after this layer, with its fused ReLU) to
  // the output, and let it pass through (layers/batchnorm_fold.hpp); nullptr detaches.
  void fold_batchnorm(BatchNorm2d<T>* bn) { folded_.attach(bn); }

  TensorView<const T> forward(TensorView<const T> x) override {
    y_.resize(output_shape(x.shape()));
    x_ = x;
    kernels::depthwise_conv2d_forward(params(x.dim(0), x.dim(2), x.dim(3)), x.data(), this->param(0).value.data(),
                                      static_cast<const T*>(nullptr), y_.data(), ws_, folded_.prepare(this->training()));
    return y_;
  }
  // dx[c] = full correlation of dy[c] with the flipped w[c]; dW[c] += sum_n dy[n,c] ⋆ x[n,c].
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "DepthwiseConv2d output gradient");
    const kernels::DepthwiseConv2dParams p = params(x_.dim(0), x_.dim(2), x_.dim(3));
    kernels::depthwise_conv2d_backward_weight(p, x_.data(), dy.data(), this->param(0).grad.data(), ws_);
    dx_.resize(x_.shape());
    kernels::depthwise_conv2d_backward_input(p, dy.data(), this->param(0).value.data(), dx_.data(), ws_);
    return dx_;
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
  TensorView<const T> x_;
  Tensor<T> y_, dx_;
  Workspace ws_;
  FoldedBatchNorm<T> folded_;
};

}  // namespace moodnet
