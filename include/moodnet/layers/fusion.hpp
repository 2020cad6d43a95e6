#pragma once
// Layer fusion that keeps the network's structure (and so its parameter names): a BatchNorm2d
// directly followed by a ReLU computes max(0, bn(x)) itself, and the ReLU passes through. This saves
// one read and one write of the activation in the forward pass and in the backward pass, and the
// ReLU's two buffers. Results equal the unfused pair (the ReLU is exact).
#include "moodnet/layers/activations.hpp"
#include "moodnet/layers/batchnorm2d.hpp"
#include "moodnet/layers/sequential.hpp"

namespace moodnet {

// Fuses (on = true) or separates again (on = false) every BatchNorm2d -> ReLU pair in `seq` and in
// the Sequentials nested in it. Returns the number of pairs changed. Call it between steps, not
// between a forward and its backward.
template <class T>
inline int fuse_batchnorm_relu(Sequential<T>& seq, bool on = true) {
  int pairs = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    if (auto* nested = dynamic_cast<Sequential<T>*>(&seq[i])) pairs += fuse_batchnorm_relu(*nested, on);
    if (i + 1 >= seq.size()) continue;
    auto* bn = dynamic_cast<BatchNorm2d<T>*>(&seq[i]);
    auto* act = dynamic_cast<Activation<T>*>(&seq[i + 1]);
    if (bn && act && act->kind() == ActivationKind::relu) {
      bn->set_fused_relu(on);
      act->set_pass_through(on);
      ++pairs;
    }
  }
  return pairs;
}

}  // namespace moodnet
