#pragma once
// The settings of an Optimizer (optimizer.hpp): which update rule (by its registered name,
// optimizers.hpp) and the hyper-parameters the rules read. A rule checks its own constraints when
// it is built (sgd.hpp: Nesterov needs momentum).
#include <cmath>
#include <string>

#include "moodnet/core/error.hpp"

namespace moodnet {

struct OptimizerConfig {
  std::string name = "sgd";    // a registered update rule: "sgd", "adam", "adamw" (optimizers.hpp)
  double lr = 0.01;
  double momentum = 0.9;       // SGD
  bool nesterov = true;        // SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // Adam, AdamW
  double weight_decay = 5e-4;  // L2 for SGD/Adam, decoupled for AdamW
  bool decay_norm_and_bias = false;  // false: no weight decay on norm parameters and biases
  // Learning rate of norm parameters and biases (the arena's no-decay slots) = lr x this. 1 leaves
  // the ranges and every update bit-identical to an optimizer without the option.
  double norm_bias_lr_scale = 1;
  double clip_grad_norm = 0;         // > 0: clip the global gradient norm to this before the update

  void validate() const {
    MOODNET_CHECK(lr > 0 && std::isfinite(lr), "learning rate must be > 0, got ", lr);
    MOODNET_CHECK(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got ", momentum);
    MOODNET_CHECK(weight_decay >= 0, "weight decay must be >= 0, got ", weight_decay);
    MOODNET_CHECK(clip_grad_norm >= 0, "gradient clipping norm must be >= 0, got ", clip_grad_norm);
    MOODNET_CHECK(norm_bias_lr_scale > 0 && std::isfinite(norm_bias_lr_scale),
                  "the norm/bias learning-rate scale must be > 0, got ", norm_bias_lr_scale);
  }
};

}  // namespace moodnet
