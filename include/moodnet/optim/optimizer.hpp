#pragma once
// Optimizer: SGD (momentum, Nesterov), Adam or AdamW over a parameter arena, with PyTorch's
// torch.optim semantics (kernels/optimizer_updates.hpp states them), optional exclusion of norm
// parameters and biases from weight decay, and gradient clipping by global norm.
//
//   Optimizer<float> opt(model.arena(), config);   // a view of the model's values and gradients
//
// It sees only the arena (layers/param_arena.hpp): two flat arrays and one slot per parameter, so
// it knows nothing of layers or models. State is indexed by arena position: SGD keeps one buffer (momentum), Adam/AdamW two (exp_avg,
// exp_avg_sq), each as long as the arena. The step counter advances once per step().
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/optimizer_updates.hpp"
#include "moodnet/layers/param_arena.hpp"

namespace moodnet {

enum class OptimizerKind { sgd, adam, adamw };

inline OptimizerKind parse_optimizer_kind(const std::string& s) {
  if (s == "sgd") return OptimizerKind::sgd;
  if (s == "adam") return OptimizerKind::adam;
  if (s == "adamw") return OptimizerKind::adamw;
  fail("unknown optimizer '", s, "' (expected sgd, adam or adamw)");
}
inline std::string to_string(OptimizerKind k) {
  return k == OptimizerKind::sgd ? "sgd" : k == OptimizerKind::adam ? "adam" : "adamw";
}

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::sgd;
  double lr = 0.01;
  double momentum = 0.9;       // SGD
  bool nesterov = true;        // SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam, AdamW
  double weight_decay = 5e-4;  // L2 for SGD/Adam, decoupled for AdamW
  bool decay_norm_and_bias = false;  // false: no weight decay on norm parameters and biases
  double clip_grad_norm = 0;         // > 0: clip the global gradient norm to this before the update

  void validate() const {
    MOODNET_CHECK(lr > 0 && std::isfinite(lr), "learning rate must be > 0, got ", lr);
    MOODNET_CHECK(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got ", momentum);
    MOODNET_CHECK(!(kind == OptimizerKind::sgd && nesterov) || momentum > 0, "Nesterov needs momentum > 0");
    MOODNET_CHECK(weight_decay >= 0, "weight decay must be >= 0, got ", weight_decay);
    MOODNET_CHECK(clip_grad_norm >= 0, "gradient clipping norm must be >= 0, got ", clip_grad_norm);
  }
};

template <class T>
class Optimizer {
 public:
  // arena: views of the parameters and gradients, which must outlive the optimizer (a Model's arena
  // stays put when the Model is moved).
  Optimizer(const ParamArena<T>& arena, OptimizerConfig config)
      : values_(arena.values), grads_(arena.grads), config_(config), lr_(config.lr) {
    config_.validate();
    MOODNET_CHECK(values_.numel() == grads_.numel(), "optimizer: the arena has ", values_.numel(), " values but ",
                  grads_.numel(), " gradients");
    const std::int64_t n = values_.numel();
    state_a_ = Tensor<T>({n});
    if (config_.kind != OptimizerKind::sgd) state_b_ = Tensor<T>({n});
    // Contiguous runs of parameters with the same decay flag become one range each.
    for (const auto& slot : arena.slots) {
      MOODNET_CHECK(slot.offset >= 0 && slot.numel >= 0 && slot.offset + slot.numel <= n, "optimizer: parameter ",
                    slot.name, " [", slot.offset, ", ", slot.offset + slot.numel, ") lies outside the arena of ", n);
      const bool decay = config_.decay_norm_and_bias || slot.decay;
      if (!ranges_.empty() && ranges_.back().decay == decay && ranges_.back().end == slot.offset)
        ranges_.back().end += slot.numel;
      else
        ranges_.push_back({slot.offset, slot.offset + slot.numel, decay});
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
    for (const auto& r : ranges_) {
      const double wd = r.decay ? config_.weight_decay : 0.0;
      const std::int64_t n = r.end - r.begin;
      if (config_.kind == OptimizerKind::sgd) {
        kernels::SgdParams p;
        p.lr = lr_, p.momentum = config_.momentum, p.nesterov = config_.nesterov, p.weight_decay = wd;
        p.step = steps_;
        kernels::sgd_update(p, grads + r.begin, params + r.begin,
                            config_.momentum > 0 ? state_a_.data() + r.begin : nullptr, n);
      } else {
        kernels::AdamParams p;
        p.lr = lr_, p.beta1 = config_.beta1, p.beta2 = config_.beta2, p.eps = config_.eps, p.weight_decay = wd;
        p.step = steps_;
        auto update = config_.kind == OptimizerKind::adam ? kernels::adam_update<T> : kernels::adamw_update<T>;
        update(p, grads + r.begin, params + r.begin, state_a_.data() + r.begin, state_b_.data() + r.begin, n);
      }
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
    if (config_.kind == OptimizerKind::sgd) return {{"momentum", state_a_}};
    return {{"exp_avg", state_a_}, {"exp_avg_sq", state_b_}};
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
  };
  TensorView<T> values_, grads_;  // [P] each: the arena
  OptimizerConfig config_;
  double lr_;
  std::int64_t steps_ = 0;
  Tensor<T> state_a_, state_b_;
  std::vector<Range> ranges_;
  Workspace ws_;
};

}  // namespace moodnet
