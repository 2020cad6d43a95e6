#pragma once
// Element-wise plan steps: activations (kernels/activations.hpp), the residual join (add, optionally
// with the ReLU after it fused in), dropout (kernels/dropout.hpp) and reshape (a view).
//
//   activation: y = f(x); dx = dy * f'(x), with f'(x) read from the saved y (y > 0 <=> x > 0).
//   add:        y = a + b (then max(0, .) when fused); da = db = g with g = dy, or dy * [y > 0]
//               (the fused ReLU's mask: one pass in each direction).
//   dropout:    y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) from (seed, step, global position);
//               dx = dy * mask / (1 - p).
//   reshape:    y is x with another shape; dx is dy (no kernel, no copy).
#include <cstdint>
#include <string>

#include "moodnet/core/rng.hpp"
#include "moodnet/graph/step.hpp"
#include "moodnet/kernels/activations.hpp"
#include "moodnet/kernels/dropout.hpp"

namespace moodnet::graph {

enum class ActivationFn { relu, relu6, leaky_relu };

template <class T>
class ActivationStep : public Step<T> {
 public:
  ActivationStep(ActivationFn fn, double slope, std::int64_t n) : fn_(fn) { p_.n = n, p_.slope = slope; }

  StepKind kind() const override { return StepKind::activation; }
  std::string describe() const override {
    return fn_ == ActivationFn::relu ? "relu" : fn_ == ActivationFn::relu6 ? "relu6" : "leaky_relu";
  }
  ActivationFn fn() const { return fn_; }
  double slope() const { return p_.slope; }  // LeakyReLU's negative slope

  void forward(const StepIO<T>& io) override {
    switch (fn_) {
      case ActivationFn::relu: kernels::relu_forward(p_, io.in[0], io.out); break;
      case ActivationFn::relu6: kernels::relu6_forward(p_, io.in[0], io.out); break;
      case ActivationFn::leaky_relu: kernels::leaky_relu_forward(p_, io.in[0], io.out); break;
    }
  }
  void backward(const StepIO<T>& io) override {
    switch (fn_) {
      case ActivationFn::relu: kernels::relu_backward(p_, io.out, io.dy, io.dx[0]); break;
      case ActivationFn::relu6: kernels::relu6_backward(p_, io.out, io.dy, io.dx[0]); break;
      case ActivationFn::leaky_relu: kernels::leaky_relu_backward(p_, io.out, io.dy, io.dx[0]); break;
    }
  }
  bool backward_reads_output() const override { return true; }
  double flops() const override { return static_cast<double>(p_.n); }

 private:
  ActivationFn fn_;
  kernels::ActivationParams p_;
};

// The residual join. Without the fused ReLU both inputs borrow dy; with it, the masked gradient g
// is written once into aux slot 0 and both inputs borrow that.
template <class T>
class AddStep : public Step<T> {
 public:
  explicit AddStep(std::int64_t n) { p_.n = n; }

  StepKind kind() const override { return StepKind::add; }
  std::string describe() const override { return relu_ ? "add (+ReLU)" : "add"; }
  bool fused_relu() const { return relu_; }
  void set_fused_relu(bool on) { relu_ = on; }

  void forward(const StepIO<T>& io) override {
    const T* a = io.in[0];
    const T* b = io.in[1];
    T* y = io.out;
    const bool relu = relu_;
    kernels::detail::eltwise_for(p_.n, [=](std::int64_t lo, std::int64_t hi) {
      if (relu) {
#pragma omp simd
        for (std::int64_t i = lo; i < hi; ++i) {
          const T v = a[i] + b[i];
          y[i] = v > T(0) ? v : T(0);  // as kernels::relu_forward
        }
      } else {
#pragma omp simd
        for (std::int64_t i = lo; i < hi; ++i) y[i] = a[i] + b[i];
      }
    });
  }
  // Only called with the fused ReLU: g = dy * [y > 0] into aux 0, which both inputs then borrow.
  void backward(const StepIO<T>& io) override {
    kernels::relu_backward(p_, io.out, io.dy, static_cast<T*>(io.aux[0]));
  }
  bool passes_gradient_through(int) const override { return true; }
  bool lends_aux_gradient() const override { return relu_; }
  bool backward_reads_output() const override { return relu_; }
  std::vector<AuxSpec> aux() const override {
    if (!relu_) return {};
    return {AuxSpec{p_.n * static_cast<std::int64_t>(sizeof(T)), true}};
  }
  double flops() const override { return static_cast<double>(p_.n); }

 private:
  kernels::ActivationParams p_;
  bool relu_ = false;
};

// Training-mode dropout (in eval the builder emits no step). The mask's seed is a function of the
// module's seed and step counter, which this step advances after each forward; the batch's first
// item (a data-parallel shard's position in the global batch, else 0) places the mask: element k
// of item i draws at position (first_item + i) x item + k, the whole batch's mask there.
template <class T>
class DropoutStep : public Step<T> {
 public:
  // n: elements of the batch; item: elements per item (n / batch).
  DropoutStep(double p, std::int64_t n, std::int64_t item, const std::uint64_t* seed, std::uint64_t* step,
              const std::int64_t* first_item)
      : item_(item), seed_(seed), step_(step), first_item_(first_item) {
    p_.n = n, p_.p = p, p_.training = true;
  }

  StepKind kind() const override { return StepKind::dropout; }
  std::string describe() const override { return "p=" + std::to_string(p_.p).substr(0, 4); }
  double probability() const { return p_.p; }

  void forward(const StepIO<T>& io) override {
    std::uint64_t s = *seed_ ^ (*step_ * 0xD1B54A32D192ED03ull);
    p_.seed = splitmix64(s);
    p_.offset = *first_item_ * item_;
    kernels::dropout_forward(p_, io.in[0], io.out, static_cast<std::uint8_t*>(io.aux[0]));
    ++*step_;  // a second forward without set_step draws a fresh mask
  }
  void backward(const StepIO<T>& io) override {
    kernels::dropout_backward(p_, io.dy, static_cast<const std::uint8_t*>(io.aux[0]), io.dx[0]);
  }
  std::vector<AuxSpec> aux() const override { return {AuxSpec{p_.n, true}}; }
  double flops() const override { return static_cast<double>(p_.n); }

 private:
  kernels::DropoutParams p_;
  std::int64_t item_;
  const std::uint64_t* seed_;
  std::uint64_t* step_;
  const std::int64_t* first_item_;
};

template <class T>
class ReshapeStep : public Step<T> {
 public:
  StepKind kind() const override { return StepKind::reshape; }
  void forward(const StepIO<T>&) override {}
  void backward(const StepIO<T>&) override {}
  bool passes_gradient_through(int) const override { return true; }
  bool is_view() const override { return true; }
};

}  // namespace moodnet::graph
