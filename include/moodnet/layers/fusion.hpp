#pragma once
// Layer fusion that keeps the network's structure (and so its parameter names):
//   (1) a BatchNorm2d or GroupNorm directly followed by a ReLU computes max(0, norm(x)) itself, and
//       the ReLU passes through;
//   (2) in eval mode, a convolution directly followed by a BatchNorm2d applies it (see below).
// Each saves one read and one write of the activation per pass ((1) also the ReLU's two buffers),
// and both give results bit-identical to the separate layers (tests/models/fusion.cpp).
#include "moodnet/layers/activations.hpp"
#include "moodnet/layers/batchnorm2d.hpp"
#include "moodnet/layers/conv2d.hpp"
#include "moodnet/layers/depthwise_conv2d.hpp"
#include "moodnet/layers/groupnorm.hpp"
#include "moodnet/layers/sequential.hpp"

namespace moodnet {

namespace detail {
// Calls link(first, second) for every pair of adjacent layers in `seq` and in the Sequentials nested
// in it; link returns whether it changed the pair. Returns the number of pairs changed.
template <class T, class Link>
inline int for_each_adjacent_pair(Sequential<T>& seq, Link&& link) {
  int pairs = 0;
  for (std::size_t i = 0; i < seq.size(); ++i) {
    if (auto* nested = dynamic_cast<Sequential<T>*>(&seq[i])) pairs += for_each_adjacent_pair(*nested, link);
    if (i + 1 < seq.size() && link(seq[i], seq[i + 1])) ++pairs;
  }
  return pairs;
}
}  // namespace detail

// Fuses (on = true) or separates again (on = false) every BatchNorm2d -> ReLU and GroupNorm -> ReLU
// pair in `seq` and in the Sequentials nested in it. Returns the number of pairs changed. Call it
// between steps, not between a forward and its backward.
template <class T>
inline int fuse_norm_relu(Sequential<T>& seq, bool on = true) {
  return detail::for_each_adjacent_pair(seq, [on](Layer<T>& norm, Layer<T>& next) {
    auto* act = dynamic_cast<Activation<T>*>(&next);
    if (!act || act->kind() != ActivationKind::relu) return false;
    if (auto* bn = dynamic_cast<BatchNorm2d<T>*>(&norm)) bn->set_fused_relu(on);
    else if (auto* gn = dynamic_cast<GroupNorm<T>*>(&norm)) gn->set_fused_relu(on);
    else return false;
    act->set_pass_through(on);
    return true;
  });
}

// Folds (on = true) or unfolds every Conv2d/DepthwiseConv2d -> BatchNorm2d pair in `seq` and its
// nested Sequentials for EVAL mode: the convolution applies the BatchNorm's running-statistics map
// (and its fused ReLU) to its own output while it is in cache, and the BatchNorm passes through
// (layers/batchnorm_fold.hpp). Training is unchanged. Returns the number of pairs changed.
template <class T>
inline int fold_batchnorm_into_conv(Sequential<T>& seq, bool on = true) {
  return detail::for_each_adjacent_pair(seq, [on](Layer<T>& conv, Layer<T>& next) {
    auto* bn = dynamic_cast<BatchNorm2d<T>*>(&next);
    if (!bn) return false;
    if (auto* dense = dynamic_cast<Conv2d<T>*>(&conv)) dense->fold_batchnorm(on ? bn : nullptr);
    else if (auto* dw = dynamic_cast<DepthwiseConv2d<T>*>(&conv)) dw->fold_batchnorm(on ? bn : nullptr);
    else return false;
    return true;
  });
}

}  // namespace moodnet
