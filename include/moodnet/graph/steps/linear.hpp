#pragma once
// Fully connected plan step (kernels/linear.hpp).
//   x: [N, in] -> y = x W^T + b: [N, out];  W: [out, in];  b: [out] or none
//   backward: dW += dy^T x; db += sum_n dy; dx = dy W (skipped when nobody needs it).
#include <string>

#include "moodnet/core/tensor.hpp"
#include "moodnet/graph/step.hpp"
#include "moodnet/kernels/linear.hpp"

namespace moodnet::graph {

template <class T>
class LinearStep : public Step<T> {
 public:
  LinearStep(kernels::LinearParams p, TensorView<T> w, TensorView<T> dw, TensorView<T> b, TensorView<T> db)
      : p_(p), w_(w), dw_(dw), b_(b), db_(db) {}

  StepKind kind() const override { return StepKind::linear; }
  std::string describe() const override { return std::to_string(p_.in) + "->" + std::to_string(p_.out); }
  const kernels::LinearParams& params() const { return p_; }

  void forward(const StepIO<T>& io) override {
    kernels::linear_forward(p_, io.in[0], w_.data(), b_.data(), io.out);
  }
  void backward(const StepIO<T>& io) override {
    kernels::linear_backward_weight(p_, io.in[0], io.dy, dw_.data());
    if (b_.data()) kernels::linear_backward_bias(p_, io.dy, db_.data());
    if (io.dx[0]) kernels::linear_backward_input(p_, io.dy, w_.data(), io.dx[0]);
  }
  bool backward_reads_input(int) const override { return true; }
  bool has_parameter_grads() const override { return true; }
  bool can_skip_input_grad() const override { return true; }
  std::vector<TensorView<T>> parameter_gradients() const override {
    if (!db_.data()) return {dw_};
    return {dw_, db_};
  }
  double flops() const override { return 2.0 * static_cast<double>(p_.N * p_.in * p_.out); }

 private:
  kernels::LinearParams p_;
  TensorView<T> w_, dw_, b_, db_;
};

}  // namespace moodnet::graph
