#pragma once
// GroupNorm (PyTorch semantics): statistics per (sample, group of C/G channels) over C/G*H*W values,
// the same in training and eval. Parameters: weight (gamma) [C], bias (beta) [C] — no weight decay.
#include <memory>
#include <string>

#include "moodnet/graph/steps/norm.hpp"
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
    return std::to_string(g_) + " groups, " + std::to_string(c_);
  }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, "GroupNorm", c_);
    return in;
  }
  void reset_parameters(std::uint64_t) override {
    this->param(0).value.fill(T(1));
    this->param(1).value.zero();
  }

  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);
    kernels::GroupNormParams p;
    p.N = x.shape[0], p.C = x.shape[1], p.H = x.shape[2], p.W = x.shape[3], p.G = g_, p.eps = eps_;
    Parameter<T>& gamma = this->param(0);
    Parameter<T>& beta = this->param(1);
    return b.add_step(std::make_unique<graph::GroupNormStep<T>>(p, gamma.value, beta.value, gamma.grad, beta.grad), {x},
                      out, type_name(), this->own_parameter_count());
  }

 private:
  std::int64_t g_, c_;
  double eps_;
};

}  // namespace moodnet
