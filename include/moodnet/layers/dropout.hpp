#pragma once
// Dropout(p): in training y = x * mask / (1 - p) with mask ~ Bernoulli(1 - p) drawn from the seeded
// generator and kept for backward (dx = dy * mask / (1 - p)); in eval the identity.
// The mask seed is a function of the layer's seed and the step (set_step, or a call counter when
// no step is given), never of the thread count.
#include <cstdint>
#include <string>

#include "moodnet/core/rng.hpp"
#include "moodnet/kernels/dropout.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(double p) : p_(p) { params(0).validate(); }

  std::string type_name() const override { return "Dropout"; }
  std::string describe() const override {
    std::string s = std::to_string(p_);
    return "p=" + s.erase(s.find_last_not_of('0') + 1);
  }
  Shape output_shape(const Shape& in) const override { return in; }
  void reset_parameters(std::uint64_t seed) override { seed_ = seed; }
  void set_step(std::uint64_t step) override { step_ = step; }

  TensorView<const T> forward(TensorView<const T> x) override {
    y_.resize(x.shape());
    mask_.resize({x.numel()});
    const auto p = params(x.numel());
    kernels::dropout_forward(p, x.data(), y_.data(), mask_.data());
    forward_params_ = p;
    ++step_;  // a second forward without set_step draws a fresh mask
    return y_;
  }
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "Dropout output gradient");
    dx_.resize(y_.shape());
    kernels::dropout_backward(forward_params_, dy.data(), mask_.data(), dx_.data());
    return dx_;
  }

 private:
  kernels::DropoutParams params(std::int64_t n) const {
    kernels::DropoutParams p;
    p.n = n, p.p = p_, p.training = this->training();
    std::uint64_t s = seed_ ^ (step_ * 0xD1B54A32D192ED03ull);
    p.seed = splitmix64(s);
    return p;
  }

  double p_;
  std::uint64_t seed_ = 0, step_ = 0;
  kernels::DropoutParams forward_params_;
  Tensor<std::uint8_t> mask_;
  Tensor<T> y_, dx_;
};

}  // namespace moodnet
