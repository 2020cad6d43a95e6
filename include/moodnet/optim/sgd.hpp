#pragma once
// SGD with momentum and Nesterov momentum, torch.optim.SGD's semantics (kernels::sgd_update states
// them). State: "momentum" (unused, but kept in the state file, when momentum is 0).
#include "moodnet/kernels/optimizer_updates.hpp"
#include "moodnet/optim/optimizer_config.hpp"
#include "moodnet/optim/update_rule.hpp"

namespace moodnet {

template <class T>
class Sgd final : public UpdateRule<T> {
 public:
  explicit Sgd(const OptimizerConfig& c) : momentum_(c.momentum), nesterov_(c.nesterov) {
    MOODNET_CHECK(!nesterov_ || momentum_ > 0, "Nesterov needs momentum > 0");
  }
  std::vector<std::string> state_names() const override { return {"momentum"}; }
  void update(const UpdateStep& s, const T* grad, T* param, T* const* state, std::int64_t n) const override {
    kernels::SgdParams p;
    p.lr = s.lr, p.momentum = momentum_, p.nesterov = nesterov_, p.weight_decay = s.weight_decay, p.step = s.step;
    kernels::sgd_update(p, grad, param, momentum_ > 0 ? state[0] : nullptr, n);
  }

 private:
  double momentum_;
  bool nesterov_;
};

}  // namespace moodnet
