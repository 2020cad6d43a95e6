#pragma once
// Optimizer: a registered update rule (optimizers.hpp: SGD with momentum/Nesterov, Adam, AdamW,
// with PyTorch's torch.optim semantics) over a parameter arena, with optional exclusion of norm
// parameters and biases from weight decay, a learning-rate scale for them (norm_bias_lr_scale), and
// gradient clipping by global norm.
//
//   Optimizer<float> opt(model.arena(), config);   // a view of the model's values and gradients
//
// It sees only the arena (layers/param_arena.hpp): two flat arrays and one slot per parameter, so
// it knows nothing of layers or models. State is indexed by arena position: one buffer per name the
// rule lists (SGD "momentum"; Adam/AdamW "exp_avg", "exp_avg_sq"), each as long as the arena. The
// step counter advances once per step().
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/optimizer_updates.hpp"
#include "moodnet/layers/param_arena.hpp"
#include "moodnet/optim/optimizer_config.hpp"
#include "moodnet/optim/optimizers.hpp"

namespace moodnet {

template <class T>
class Optimizer {
 public:
  // arena: views of the parameters and gradients, which must outlive the optimizer (a Model's arena
  // stays put when the Model is moved). The update rule is the one registered under config.name
  // (optimizers.hpp).
  Optimizer(const ParamArena<T>& arena, OptimizerConfig config)
      : Optimizer(arena, config, make_update_rule<T>((config.validate(), config))) {}

  // A rule of the caller's own (config.name is then only a label; config's lr, weight decay and
  // clipping still apply).
  Optimizer(const ParamArena<T>& arena, OptimizerConfig config, std::unique_ptr<UpdateRule<T>> rule)
      : values_(arena.values), grads_(arena.grads), config_(config), lr_(config.lr), rule_(std::move(rule)) {
    config_.validate();
    MOODNET_CHECK(rule_ != nullptr, "optimizer: no update rule");
    MOODNET_CHECK(values_.numel() == grads_.numel(), "optimizer: the arena has ", values_.numel(), " values but ",
                  grads_.numel(), " gradients");
    const std::int64_t n = values_.numel();
    for (auto& name : rule_->state_names()) state_.push_back({std::move(name), Tensor<T>({n})});
    // Contiguous runs of parameters with the same decay flag and learning-rate scale become one range
    // each (with scale 1 the ranges are those of the decay flag alone, as before the scale existed).
    for (const auto& slot : arena.slots) {
      MOODNET_CHECK(slot.offset >= 0 && slot.numel >= 0 && slot.offset + slot.numel <= n, "optimizer: parameter ",
                    slot.name, " [", slot.offset, ", ", slot.offset + slot.numel, ") lies outside the arena of ", n);
      const bool decay = config_.decay_norm_and_bias || slot.decay;
      const bool scaled = !slot.decay && config_.norm_bias_lr_scale != 1;
      if (!ranges_.empty() && ranges_.back().decay == decay && ranges_.back().scaled == scaled &&
          ranges_.back().end == slot.offset)
        ranges_.back().end += slot.numel;
      else
        ranges_.push_back({slot.offset, slot.offset + slot.numel, decay, scaled});
    }
  }

  // One update with the current learning rate; returns the gradient norm before clipping (0 when
  // clipping is off).
  double step() {
    ++steps_;
    T* params = values_.data();
    T* grads = grads_.data();
    double norm = 0;
    if (config_.clip_grad_norm > 0) norm = kernels::clip_grad_norm(grads, grads_.numel(), config_.clip_grad_norm, ws_);
    std::vector<T*> state(state_.size());
    for (const auto& r : ranges_) {
      for (std::size_t i = 0; i < state_.size(); ++i) state[i] = state_[i].second.data() + r.begin;
      const UpdateStep u{r.scaled ? lr_ * config_.norm_bias_lr_scale : lr_, r.decay ? config_.weight_decay : 0.0, steps_};
      rule_->update(u, grads + r.begin, params + r.begin, state.data(), r.end - r.begin);
    }
    return norm;
  }

  void set_lr(double lr) {
    MOODNET_CHECK(lr >= 0 && std::isfinite(lr), "learning rate must be >= 0, got ", lr);
    lr_ = lr;
  }
  double lr() const { return lr_; }
  std::int64_t steps() const { return steps_; }
  const OptimizerConfig& config() const { return config_; }

  // Named state buffers for the training-state file ("momentum", or "exp_avg" and "exp_avg_sq").
  std::vector<std::pair<std::string, TensorView<T>>> state_buffers() {
    std::vector<std::pair<std::string, TensorView<T>>> out;
    for (auto& [name, buffer] : state_) out.emplace_back(name, buffer);
    return out;
  }
  // Restores the step counter after the buffers were loaded.
  void set_steps(std::int64_t steps) {
    MOODNET_CHECK(steps >= 0, "optimizer step count must be >= 0, got ", steps);
    steps_ = steps;
  }

 private:
  struct Range {
    std::int64_t begin, end;
    bool decay;
    bool scaled;  // a norm parameter or bias with norm_bias_lr_scale != 1
  };
  TensorView<T> values_, grads_;  // [P] each: the arena
  OptimizerConfig config_;
  double lr_;
  std::int64_t steps_ = 0;
  std::unique_ptr<UpdateRule<T>> rule_;
  std::vector<std::pair<std::string, Tensor<T>>> state_;  // [P] each, named by the rule
  std::vector<Range> ranges_;
  Workspace ws_;
};

}  // namespace moodnet
