#pragma once
// Adam (L2 weight decay added to the gradient) and AdamW (decoupled weight decay), torch.optim's
// semantics (kernels::adam_update / adamw_update state them). State: "exp_avg", "exp_avg_sq".
#include "moodnet/kernels/optimizer_updates.hpp"
#include "moodnet/optim/optimizer_config.hpp"
#include "moodnet/optim/update_rule.hpp"

namespace moodnet {

template <class T>
class Adam final : public UpdateRule<T> {
 public:
  Adam(const OptimizerConfig& c, bool decoupled_weight_decay)
      : beta1_(c.beta1), beta2_(c.beta2), eps_(c.eps), decoupled_(decoupled_weight_decay) {}
  std::vector<std::string> state_names() const override { return {"exp_avg", "exp_avg_sq"}; }
  void update(const UpdateStep& s, const T* grad, T* param, T* const* state, std::int64_t n) const override {
    kernels::AdamParams p;
    p.lr = s.lr, p.beta1 = beta1_, p.beta2 = beta2_, p.eps = eps_, p.weight_decay = s.weight_decay, p.step = s.step;
    (decoupled_ ? kernels::adamw_update<T> : kernels::adam_update<T>)(p, grad, param, state[0], state[1], n);
  }

 private:
  double beta1_, beta2_, eps_;
  bool decoupled_;
};

}  // namespace moodnet
