#pragma once
// Conv2d: dense or grouped 2-D convolution through im2col + GEMM (kernels/conv2d.hpp).
// Parameters: weight [out, in/groups, k, k] (OIHW, as PyTorch), optional bias [out].
#include <string>

#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/layers/batchnorm_fold.hpp"
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
           std::to_string(stride_) + " p" + std::to_string(pad_) + (groups_ > 1 ? " g" + std::to_string(groups_) : "") +
           (folded_.attached() ? " (+next BN in eval)" : "");
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

  // In eval mode, also apply `bn` (the BatchNorm2d right after this layer, with its fused ReLU) to
  // the output, and let it pass through (layers/batchnorm_fold.hpp); nullptr detaches.
  void fold_batchnorm(BatchNorm2d<T>* bn) { folded_.attach(bn); }

  TensorView<const T> forward(TensorView<const T> x) override {
    const Shape out = output_shape(x.shape());
    x_ = x;
    y_.resize(out);
    kernels::conv2d_forward(params(x.dim(0), x.dim(2), x.dim(3)), x.data(), this->param(0).value.data(),
                            bias_ ? this->param(1).value.data() : nullptr, y_.data(), ws_,
                            folded_.prepare(this->training()));
    return y_;
  }
  // dx = conv_transpose(dy, W); dW += dy ⋆ x (correlation over the batch); db += sum over N, H, W of dy.
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "Conv2d output gradient");
    const kernels::Conv2dParams p = params(x_.dim(0), x_.dim(2), x_.dim(3));
    kernels::conv2d_backward_weight(p, x_.data(), dy.data(), this->param(0).grad.data(), ws_);
    if (bias_) kernels::conv2d_backward_bias(p, dy.data(), this->param(1).grad.data());
    dx_.resize(x_.shape());
    kernels::conv2d_backward_input(p, dy.data(), this->param(0).value.data(), dx_.data(), ws_);
    return dx_;
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
  TensorView<const T> x_;
  Tensor<T> y_, dx_;
  Workspace ws_;
  FoldedBatchNorm<T> folded_;
};

}  // namespace moodnet
