#pragma once
// Plan steps for the normalisations: BatchNorm2d (kernels/batchnorm2d.hpp) and GroupNorm
// (kernels/groupnorm.hpp), each optionally with the ReLU after it fused in (graph/passes.hpp).
//
// BatchNorm2d, training: per channel c over M = N*H*W values, xhat = (x - mean) * rstd,
//   y = gamma*xhat + beta (then max(0, .) when fused); running statistics updated (momentum,
//   unbiased variance) and num_batches_tracked incremented.
//   backward: with g = dy (zeroed where a fused ReLU clipped),
//   dx = gamma*rstd/M * (M*g - sum(g) - xhat*sum(g*xhat)); dgamma += sum(g*xhat); dbeta += sum(g).
//   Synchronised (BatchNormState::sync set): statistics and sums over every replica's shard
//   (kernels/batchnorm2d.hpp).
// BatchNorm2d, eval: y = x*scale[c] + shift[c] from the running statistics (no backward).
// GroupNorm: the same per (n, group) with M = C/G*H*W; dgamma/dbeta summed per channel.
#include <string>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/graph/step.hpp"
#include "moodnet/graph/steps/batchnorm_state.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"
#include "moodnet/kernels/groupnorm.hpp"

namespace moodnet::graph {

template <class T>
class BatchNorm2dStep : public Step<T> {
 public:
  BatchNorm2dStep(kernels::BatchNorm2dParams p, BatchNormState<T> state, bool training)
      : p_(p), s_(state), training_(training), save_mean_({p.C}), save_rstd_({p.C}) {}

  StepKind kind() const override { return StepKind::batchnorm2d; }
  std::string describe() const override {
    return std::to_string(p_.C) + (training_ ? "" : ", eval") + (p_.fuse_relu ? " (+ReLU)" : "");
  }
  bool training() const { return training_; }
  bool fused_relu() const { return p_.fuse_relu; }
  void set_fused_relu(bool on) { p_.fuse_relu = on; }
  const BatchNormState<T>& state() const { return s_; }

  void forward(const StepIO<T>& io) override {
    if (training_) {
      sync_ = s_.sync ? *s_.sync : nullptr;  // synchronised batchnorm: the same hook for the backward
      count_ = kernels::batchnorm2d_forward_train(p_, io.in[0], s_.gamma.data(), s_.beta.data(), io.out,
                                                  save_mean_.data(), save_rstd_.data(), s_.running_mean.data(),
                                                  s_.running_var.data(), sync_);
      ++*s_.num_batches_tracked;
    } else {
      kernels::batchnorm2d_forward_eval(p_, io.in[0], s_.gamma.data(), s_.beta.data(), s_.running_mean.data(),
                                        s_.running_var.data(), io.out);
    }
  }
  void backward(const StepIO<T>& io) override {
    MOODNET_CHECK(training_, "BatchNorm2d: backward needs a forward in training mode");
    kernels::batchnorm2d_backward(p_, io.in[0], io.dy, s_.gamma.data(), s_.beta.data(), save_mean_.data(),
                                  save_rstd_.data(), io.dx[0], s_.dgamma.data(), s_.dbeta.data(), io.ws, sync_,
                                  sync_ ? count_ : 0);
  }
  bool backward_reads_input(int) const override { return true; }
  bool has_parameter_grads() const override { return training_; }
  std::vector<TensorView<T>> parameter_gradients() const override {
    if (!training_) return {};
    return {s_.dgamma, s_.dbeta};
  }
  double flops() const override { return (training_ ? 6.0 : 2.0) * static_cast<double>(p_.N * p_.C * p_.plane()); }

 private:
  kernels::BatchNorm2dParams p_;
  BatchNormState<T> s_;
  bool training_;
  Tensor<T> save_mean_, save_rstd_;  // [C], from forward to backward
  kernels::BatchNormSync* sync_ = nullptr;  // the forward's hook (null: this batch alone)
  std::int64_t count_ = 0;                  // the values per channel the forward's statistics ran over
};

template <class T>
class GroupNormStep : public Step<T> {
 public:
  GroupNormStep(kernels::GroupNormParams p, TensorView<T> gamma, TensorView<T> beta, TensorView<T> dgamma,
                TensorView<T> dbeta)
      : p_(p), gamma_(gamma), beta_(beta), dgamma_(dgamma), dbeta_(dbeta), save_mean_({p.N, p.G}),
        save_rstd_({p.N, p.G}) {}

  StepKind kind() const override { return StepKind::groupnorm; }
  std::string describe() const override {
    return std::to_string(p_.G) + " groups, " + std::to_string(p_.C) + (p_.fuse_relu ? " (+ReLU)" : "");
  }
  bool fused_relu() const { return p_.fuse_relu; }
  void set_fused_relu(bool on) { p_.fuse_relu = on; }
  std::int64_t groups() const { return p_.G; }
  double eps() const { return p_.eps; }

  void forward(const StepIO<T>& io) override {
    kernels::groupnorm_forward(p_, io.in[0], gamma_.data(), beta_.data(), io.out, save_mean_.data(), save_rstd_.data());
  }
  void backward(const StepIO<T>& io) override {
    kernels::groupnorm_backward(p_, io.in[0], io.dy, gamma_.data(), save_mean_.data(), save_rstd_.data(), io.dx[0],
                                dgamma_.data(), dbeta_.data(), *io.ws, beta_.data());
  }
  bool backward_reads_input(int) const override { return true; }
  bool has_parameter_grads() const override { return true; }
  std::vector<TensorView<T>> parameter_gradients() const override { return {dgamma_, dbeta_}; }
  double flops() const override { return 6.0 * static_cast<double>(p_.N * p_.C * p_.plane()); }

 private:
  kernels::GroupNormParams p_;
  TensorView<T> gamma_, beta_, dgamma_, dbeta_;
  Tensor<T> save_mean_, save_rstd_;  // [N, G]
};

}  // namespace moodnet::graph
