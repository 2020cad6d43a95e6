#pragma once
// Plan steps for the convolutions: dense/grouped (kernels/conv2d.hpp) and depthwise
// (kernels/depthwise_conv2d.hpp).
//
//   x: [N, C, H, W] -> y: [N, K, OH, OW];  w: [K, C/G, R, S] (OIHW);  b: [K] or none
//   backward: dW += dy ⋆ x (correlation over the batch), db += sum_{n,oh,ow} dy,
//             dx = conv_transpose(dy, W) — skipped when nobody needs dx (the network input).
//
// Eval-mode batchnorm folding (graph/passes.hpp): a BatchNorm2d right after the convolution is
// applied as the GEMM's epilogue, y = conv(x)*scale[k] + shift[k] (then ReLU if the batchnorm had
// absorbed one), with scale/shift recomputed from the running statistics on every forward (the
// weights may have changed between two evaluations). Bit-identical to the separate steps.
#include <string>

#include "moodnet/core/tensor.hpp"
#include "moodnet/graph/conv_algorithm.hpp"
#include "moodnet/graph/steps/batchnorm_state.hpp"
#include "moodnet/graph/step.hpp"
#include "moodnet/kernels/channel_affine.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/depthwise_conv2d.hpp"

namespace moodnet::graph {

// The eval-mode map of a batchnorm folded into the convolution before it.
template <class T>
class FoldedBatchNorm {
 public:
  bool active() const { return bn_.gamma.data() != nullptr; }
  void fold(const BatchNormState<T>& bn, bool relu) { bn_ = bn, relu_ = relu; }
  bool relu() const { return relu_; }
  // The epilogue for this forward: scale/shift from the current running statistics (nullptr if none).
  const kernels::ChannelAffine<T>* prepare() {
    if (!active()) return nullptr;
    bn_.eval_scale_shift(scale_, shift_);
    affine_ = {scale_.data(), shift_.data(), relu_};
    return &affine_;
  }

 private:
  BatchNormState<T> bn_;
  bool relu_ = false;
  Tensor<T> scale_, shift_;  // [K]
  kernels::ChannelAffine<T> affine_;
};

template <class T>
class Conv2dStep : public Step<T> {
 public:
  Conv2dStep(kernels::Conv2dParams p, TensorView<T> w, TensorView<T> dw, TensorView<T> b, TensorView<T> db)
      : p_(p), w_(w), dw_(dw), b_(b), db_(db) {}

  StepKind kind() const override { return StepKind::conv2d; }
  std::string describe() const override {
    return std::to_string(p_.C) + "->" + std::to_string(p_.K) + ", k" + std::to_string(p_.R) + " s" +
           std::to_string(p_.stride_h) + " p" + std::to_string(p_.pad_h) +
           (p_.groups > 1 ? " g" + std::to_string(p_.groups) : "") +
           (algorithms_.any_winograd() ? " [" + algorithms_.str() + "]" : "");
  }
  const kernels::Conv2dParams& params() const { return p_; }
  FoldedBatchNorm<T>& folded() { return folded_; }
  // Per pass: the standard kernels or Winograd (graph/conv_algorithm.hpp; the plan sets it).
  const ConvAlgorithms& algorithms() const { return algorithms_; }
  void set_algorithms(ConvAlgorithms a) {
    MOODNET_CHECK(!a.any_winograd() || kernels::winograd_supported(p_), "conv ", describe(),
                  ": Winograd needs a dense 3x3 kernel with stride 1");
    algorithms_ = a;
  }

  void forward(const StepIO<T>& io) override {
    run_conv_forward<T>(algorithms_.forward, p_, io.in[0], w_.data(), b_.data(), io.out, *io.ws, folded_.prepare());
  }
  void backward(const StepIO<T>& io) override {
    run_conv_backward_weight<T>(algorithms_.weight_grad, p_, io.in[0], io.dy, dw_.data(), *io.ws);
    if (b_.data()) kernels::conv2d_backward_bias(p_, io.dy, db_.data());
    if (io.dx[0]) run_conv_backward_input<T>(algorithms_.input_grad, p_, io.dy, w_.data(), io.dx[0], *io.ws);
  }
  bool backward_reads_input(int) const override { return true; }
  bool has_parameter_grads() const override { return true; }
  bool can_skip_input_grad() const override { return true; }
  std::vector<TensorView<T>> parameter_gradients() const override {
    if (!db_.data()) return {dw_};
    return {dw_, db_};
  }
  double flops() const override {
    return 2.0 * static_cast<double>(p_.N * p_.K * p_.out_h() * p_.out_w()) * static_cast<double>(p_.c_per_group() * p_.R * p_.S);
  }

 private:
  kernels::Conv2dParams p_;
  TensorView<T> w_, dw_, b_, db_;
  FoldedBatchNorm<T> folded_;
  ConvAlgorithms algorithms_;
};

template <class T>
class DepthwiseConv2dStep : public Step<T> {
 public:
  DepthwiseConv2dStep(kernels::DepthwiseConv2dParams p, TensorView<T> w, TensorView<T> dw) : p_(p), w_(w), dw_(dw) {}

  StepKind kind() const override { return StepKind::depthwise_conv2d; }
  std::string describe() const override {
    return std::to_string(p_.C) + " channels, k" + std::to_string(p_.R) + " s" + std::to_string(p_.stride_h) + " p" +
           std::to_string(p_.pad_h);
  }
  const kernels::DepthwiseConv2dParams& params() const { return p_; }
  FoldedBatchNorm<T>& folded() { return folded_; }

  void forward(const StepIO<T>& io) override {
    kernels::depthwise_conv2d_forward(p_, io.in[0], w_.data(), static_cast<const T*>(nullptr), io.out, *io.ws,
                                      folded_.prepare());
  }
  // dW[c] += sum_n dy[n,c] ⋆ x[n,c]; dx[c] = full correlation of dy[c] with the flipped w[c].
  void backward(const StepIO<T>& io) override {
    kernels::depthwise_conv2d_backward_weight(p_, io.in[0], io.dy, dw_.data(), *io.ws);
    if (io.dx[0]) kernels::depthwise_conv2d_backward_input(p_, io.dy, w_.data(), io.dx[0], *io.ws);
  }
  bool backward_reads_input(int) const override { return true; }
  bool has_parameter_grads() const override { return true; }
  bool can_skip_input_grad() const override { return true; }
  std::vector<TensorView<T>> parameter_gradients() const override { return {dw_}; }
  double flops() const override {
    return 2.0 * static_cast<double>(p_.N * p_.C * p_.out_h() * p_.out_w() * p_.R * p_.S);
  }

 private:
  kernels::DepthwiseConv2dParams p_;
  TensorView<T> w_, dw_;
  FoldedBatchNorm<T> folded_;
};

}  // namespace moodnet::graph
