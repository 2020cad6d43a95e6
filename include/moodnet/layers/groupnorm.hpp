#pragma once
// GroupNorm (PyTorch semantics): statistics per (sample, group of C/G channels) over C/G*H*W values,
// the same in training and eval. Parameters: weight (gamma) [C], bias (beta) [C] — no weight decay.
#include <string>

#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/groupnorm.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class GroupNorm : public Layer<T> {
 public:
  GroupNorm(std::int64_t groups, std::int64_t channels, double eps = 1e-5) : g_(groups), c_(channels), eps_(eps) {
    MOODNET_CHECK(g_ >= 1 && c_ >= 1 && c_ % g_ == 0, "GroupNorm: groups ", g_, " must divide channels ", c_);
    this->add_parameter("weight", Shape{c_}, false);
    this->add_parameter("bias", Shape{c_}, false);
  }

  std::string type_name() const override { return "GroupNorm"; }
  std::string describe() const override {
    return std::to_string(g_) + " groups, " + std::to_string(c_) + (fuse_relu_ ? " (+ReLU fused)" : "");
  }
  // Computes max(0, gn(x)) in one pass (and the matching backward); see layers/fusion.hpp.
  void set_fused_relu(bool fused) { fuse_relu_ = fused; }
  bool fused_relu() const { return fuse_relu_; }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, "GroupNorm", c_);
    return in;
  }
  void reset_parameters(std::uint64_t) override {
    this->param(0).value.fill(T(1));
    this->param(1).value.zero();
  }

  TensorView<const T> forward(TensorView<const T> x) override {
    y_.resize(output_shape(x.shape()));
    x_ = x;
    save_mean_.resize({x.dim(0), g_});
    save_rstd_.resize({x.dim(0), g_});
    kernels::groupnorm_forward(params(x.shape()), x.data(), this->param(0).value.data(), this->param(1).value.data(),
                               y_.data(), save_mean_.data(), save_rstd_.data());
    return y_;
  }
  // Per (n, g) with M = C/G*H*W and g = dy*gamma: dx = rstd/M * (M*g - sum(g) - xhat*sum(g*xhat));
  // dgamma[c] += sum_{n,hw} dy*xhat; dbeta[c] += sum_{n,hw} dy (with a fused ReLU, dy is first
  // zeroed where the output was clipped).
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "GroupNorm output gradient");
    dx_.resize(x_.shape());
    kernels::groupnorm_backward(params(x_.shape()), x_.data(), dy.data(), this->param(0).value.data(),
                                save_mean_.data(), save_rstd_.data(), dx_.data(), this->param(0).grad.data(),
                                this->param(1).grad.data(), ws_, this->param(1).value.data());
    return dx_;
  }

 private:
  kernels::GroupNormParams params(const Shape& s) const {
    kernels::GroupNormParams p;
    p.N = s[0], p.C = s[1], p.H = s[2], p.W = s[3], p.G = g_, p.eps = eps_, p.fuse_relu = fuse_relu_;
    return p;
  }

  std::int64_t g_, c_;
  double eps_;
  bool fuse_relu_ = false;
  TensorView<const T> x_;
  Tensor<T> y_, dx_, save_mean_, save_rstd_;
  Workspace ws_;
};

}  // namespace moodnet
