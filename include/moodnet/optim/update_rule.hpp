#pragma once
// One optimizer's update rule: the state it keeps per parameter element and the update of one
// contiguous range of the arena. Everything the rules share — the arena, the decay ranges, the step
// counter, the learning rate, gradient clipping, the state buffers' storage — is the Optimizer's
// (optimizer.hpp). A new optimizer is one UpdateRule subclass in its own header, its kernel in
// kernels/optimizer_updates.hpp and one line in optimizers.hpp (docs/extending.md).
#include <cstdint>
#include <string>
#include <vector>

namespace moodnet {

// What changes from step to step and range to range.
struct UpdateStep {
  double lr = 0;
  double weight_decay = 0;  // 0 on ranges excluded from decay (norm parameters, biases)
  std::int64_t step = 1;    // optimizer steps taken including this one (1 on the first)
};

template <class T>
class UpdateRule {
 public:
  virtual ~UpdateRule() = default;
  // Names of the per-element state buffers, each as long as the arena; the training-state file
  // stores them under these names ("momentum"; "exp_avg", "exp_avg_sq").
  virtual std::vector<std::string> state_names() const = 0;
  // param[0, n) -= the update from grad[0, n); state[i] points at buffer i at the same offset.
  virtual void update(const UpdateStep& s, const T* grad, T* param, T* const* state, std::int64_t n) const = 0;
};

}  // namespace moodnet
