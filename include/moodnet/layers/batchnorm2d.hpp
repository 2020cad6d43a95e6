#pragma once
// BatchNorm2d (PyTorch semantics): training normalises with the batch statistics and updates the
// running statistics (momentum 0.1, unbiased variance); eval uses the running statistics.
// Parameters: weight (gamma) [C], bias (beta) [C] — no weight decay. Buffers: running_mean [C],
// running_var [C], num_batches_tracked (int64), saved in checkpoints like PyTorch's state_dict.
#include <memory>
#include <string>

#include "moodnet/graph/steps/norm.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class BatchNorm2d : public Layer<T> {
 public:
  explicit BatchNorm2d(std::int64_t channels, double eps = 1e-5, double momentum = 0.1)
      : c_(channels), eps_(eps), momentum_(momentum), running_mean_({channels}), running_var_({channels}) {
    MOODNET_CHECK(c_ > 0, "BatchNorm2d: channels must be positive, got ", c_);
    this->add_parameter("weight", Shape{c_}, false);
    this->add_parameter("bias", Shape{c_}, false);
    running_var_.fill(T(1));
  }

  std::string type_name() const override { return "BatchNorm2d"; }
  std::string describe() const override { return std::to_string(c_); }
  // The eval-mode map y = x*scale[c] + shift[c] from the running statistics.
  void eval_scale_shift(Tensor<T>& scale, Tensor<T>& shift) { state().eval_scale_shift(scale, shift); }
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
  // Synchronised batchnorm (kernels/batchnorm2d.hpp): training statistics over every replica of
  // a data-parallel group through `sync` (null: this batch alone, the default). Plans already
  // compiled use it from their next forward.
  void set_sync(kernels::BatchNormSync* sync) { sync_ = sync; }
  kernels::BatchNormSync* sync() const { return sync_; }
  std::vector<BufferRef<T>> buffers() override {
    return {{"running_mean", running_mean_, nullptr},
            {"running_var", running_var_, nullptr},
            {"num_batches_tracked", {}, &num_batches_tracked_}};
  }

  // Training: the batch statistics (and the running statistics updated); eval: the running ones.
  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);
    kernels::BatchNorm2dParams p;
    p.N = x.shape[0], p.C = x.shape[1], p.H = x.shape[2], p.W = x.shape[3];
    p.eps = eps_, p.momentum = momentum_;
    return b.add_step(std::make_unique<graph::BatchNorm2dStep<T>>(p, state(), this->training()), {x}, out, type_name(),
                      this->own_parameter_count());
  }

 private:
  graph::BatchNormState<T> state() {
    graph::BatchNormState<T> s;
    s.gamma = this->param(0).value, s.beta = this->param(1).value;
    s.dgamma = this->param(0).grad, s.dbeta = this->param(1).grad;
    s.running_mean = running_mean_, s.running_var = running_var_;
    s.num_batches_tracked = &num_batches_tracked_;
    s.eps = eps_, s.momentum = momentum_;
    s.sync = &sync_;
    return s;
  }

  std::int64_t c_;
  double eps_, momentum_;
  Tensor<T> running_mean_, running_var_;
  std::int64_t num_batches_tracked_ = 0;
  kernels::BatchNormSync* sync_ = nullptr;
};

// Sets the synchronised-batchnorm hook of every BatchNorm2d in `root` (walking into containers);
// returns how many there are.
template <class T>
inline int set_batchnorm_sync(Layer<T>& root, kernels::BatchNormSync* sync) {
  int n = 0;
  if (auto* bn = dynamic_cast<BatchNorm2d<T>*>(&root)) bn->set_sync(sync), ++n;
  root.for_each_child([&](const std::string&, Layer<T>& child) { n += set_batchnorm_sync(child, sync); });
  return n;
}

}  // namespace moodnet
