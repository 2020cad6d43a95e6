#pragma once
// BatchNorm2d (PyTorch semantics): training normalises with the batch statistics and updates the
// running statistics (momentum 0.1, unbiased variance); eval uses the running statistics.
// Parameters: weight (gamma) [C], bias (beta) [C] — no weight decay. Buffers: running_mean [C],
// running_var [C], num_batches_tracked (int64), saved in checkpoints like PyTorch's state_dict.
#include <string>

#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class BatchNorm2d : public Layer<T> {
 public:
  explicit BatchNorm2d(std::int64_t channels, double eps = 1e-5, double momentum = 0.1)
      : c_(channels), eps_(eps), momentum_(momentum), running_mean_({channels}), running_var_({channels}),
        save_mean_({channels}), save_rstd_({channels}) {
    MOODNET_CHECK(c_ > 0, "BatchNorm2d: channels must be positive, got ", c_);
    this->add_parameter("weight", Shape{c_}, false);
    this->add_parameter("bias", Shape{c_}, false);
    running_var_.fill(T(1));
  }

  std::string type_name() const override { return "BatchNorm2d"; }
  std::string describe() const override { return std::to_string(c_) + (fuse_relu_ ? " (+ReLU fused)" : ""); }
  // Computes max(0, bn(x)) in one pass (and the matching backward); the following ReLU layer is then
  // set to pass through (see layers/fusion.hpp). The result is the same as BN followed by ReLU.
  void set_fused_relu(bool fused) { fuse_relu_ = fused; }
  bool fused_relu() const { return fuse_relu_; }
  // Set by the convolution before this layer when it has already applied this layer's eval map (and
  // ReLU) to its output (layers/batchnorm_fold.hpp): the next eval forward passes its input through.
  void set_input_normalized(bool on) { input_normalized_ = on; }
  // The eval-mode map y = x*scale[c] + shift[c] from the running statistics, as forward_eval applies it.
  void eval_scale_shift(Tensor<T>& scale, Tensor<T>& shift) const {
    scale.resize({c_});
    shift.resize({c_});
    const T* gamma = this->parameters()[0].value.data();
    const T* beta = this->parameters()[1].value.data();
    for (std::int64_t c = 0; c < c_; ++c)
      kernels::batchnorm2d_eval_scale_shift(eps_, gamma[c], beta[c], running_mean_.data()[c], running_var_.data()[c],
                                            scale.data()[c], shift.data()[c]);
  }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, "BatchNorm2d", c_);
    return in;
  }
  void reset_parameters(std::uint64_t) override {
    this->param(0).value.fill(T(1));
    this->param(1).value.zero();
    running_mean_.zero();
    running_var_.fill(T(1));
    num_batches_tracked_ = 0;
  }
  std::vector<BufferRef<T>> buffers() override {
    return {{"running_mean", running_mean_, nullptr},
            {"running_var", running_var_, nullptr},
            {"num_batches_tracked", {}, &num_batches_tracked_}};
  }

  TensorView<const T> forward(TensorView<const T> x) override {
    if (!this->training() && input_normalized_) return x;  // the convolution before applied this layer
    y_.resize(output_shape(x.shape()));
    x_ = x;
    const auto p = params(x.shape());
    const T* gamma = this->param(0).value.data();
    const T* beta = this->param(1).value.data();
    if (this->training()) {
      kernels::batchnorm2d_forward_train(p, x.data(), gamma, beta, y_.data(), save_mean_.data(), save_rstd_.data(),
                                         running_mean_.data(), running_var_.data());
      ++num_batches_tracked_;
    } else {
      kernels::batchnorm2d_forward_eval(p, x.data(), gamma, beta, running_mean_.data(), running_var_.data(),
                                        y_.data());
    }
    return y_;
  }
  // Training mode: dx = gamma*rstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)) per channel (with a
  // fused ReLU, dy is first zeroed where the output was clipped);
  // dgamma += sum(dy*xhat); dbeta += sum(dy). (Backward through eval mode is not supported.)
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "BatchNorm2d output gradient");
    MOODNET_CHECK(this->training(), "BatchNorm2d: backward needs a forward in training mode");
    dx_.resize(x_.shape());
    kernels::batchnorm2d_backward(params(x_.shape()), x_.data(), dy.data(), this->param(0).value.data(),
                                  this->param(1).value.data(), save_mean_.data(), save_rstd_.data(), dx_.data(),
                                  this->param(0).grad.data(), this->param(1).grad.data(), &ws_);
    return dx_;
  }

 private:
  kernels::BatchNorm2dParams params(const Shape& s) const {
    kernels::BatchNorm2dParams p;
    p.N = s[0], p.C = s[1], p.H = s[2], p.W = s[3];
    p.eps = eps_, p.momentum = momentum_, p.fuse_relu = fuse_relu_;
    return p;
  }

  std::int64_t c_;
  double eps_, momentum_;
  Tensor<T> running_mean_, running_var_, save_mean_, save_rstd_;
  std::int64_t num_batches_tracked_ = 0;
  bool fuse_relu_ = false;
  bool input_normalized_ = false;
  TensorView<const T> x_;
  Tensor<T> y_, dx_;
  Workspace ws_;
};

}  // namespace moodnet
