#pragma once
// Pooling plan steps (kernels/pooling.hpp).
//
//   max:     y = max over the window; backward: dy goes to the argmax of each window (aux slot 0,
//            int32 [N, C, OH, OW], kept from forward).
//   average: y = mean over the window; backward: dy / window size to every input of it.
//   global:  y[n, c] = mean_{h,w} x[n, c]; backward: dx[n, c, h, w] = dy[n, c] / (H*W).
#include <cstdint>
#include <string>

#include "moodnet/graph/step.hpp"
#include "moodnet/kernels/pooling.hpp"

namespace moodnet::graph {

template <class T>
class Pool2dStep : public Step<T> {
 public:
  Pool2dStep(kernels::Pool2dParams p, bool max) : p_(p), max_(max) {}

  StepKind kind() const override { return max_ ? StepKind::max_pool2d : StepKind::avg_pool2d; }
  const kernels::Pool2dParams& params() const { return p_; }
  std::string describe() const override {
    return "k" + std::to_string(p_.kernel_h) + " s" + std::to_string(p_.stride_h) +
           (p_.pad_h ? " p" + std::to_string(p_.pad_h) : "");
  }

  void forward(const StepIO<T>& io) override {
    if (max_)
      kernels::max_pool2d_forward(p_, io.in[0], io.out, static_cast<std::int32_t*>(io.aux[0]));
    else
      kernels::avg_pool2d_forward(p_, io.in[0], io.out);
  }
  void backward(const StepIO<T>& io) override {
    if (max_)
      kernels::max_pool2d_backward(p_, io.dy, static_cast<const std::int32_t*>(io.aux[0]), io.dx[0]);
    else
      kernels::avg_pool2d_backward(p_, io.dy, io.dx[0]);
  }
  std::vector<AuxSpec> aux() const override {
    if (!max_) return {};
    return {AuxSpec{out_numel() * static_cast<std::int64_t>(sizeof(std::int32_t)), true}};
  }
  double flops() const override { return static_cast<double>(out_numel() * p_.kernel_h * p_.kernel_w); }

 private:
  std::int64_t out_numel() const { return p_.N * p_.C * p_.out_h() * p_.out_w(); }
  kernels::Pool2dParams p_;
  bool max_;
};

template <class T>
class GlobalAvgPoolStep : public Step<T> {
 public:
  explicit GlobalAvgPoolStep(kernels::GlobalPoolParams p) : p_(p) {}

  StepKind kind() const override { return StepKind::global_avg_pool2d; }
  void forward(const StepIO<T>& io) override { kernels::global_avg_pool2d_forward(p_, io.in[0], io.out); }
  void backward(const StepIO<T>& io) override { kernels::global_avg_pool2d_backward(p_, io.dy, io.dx[0]); }
  double flops() const override { return static_cast<double>(p_.N * p_.C * p_.H * p_.W); }

 private:
  kernels::GlobalPoolParams p_;
};

}  // namespace moodnet::graph
