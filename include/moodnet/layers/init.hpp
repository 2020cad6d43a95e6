#pragma once
// Parameter initialisation, seeded and independent of the thread count (core/rng.hpp fill_*).
//
//   kaiming_normal:  w ~ N(0, 2 / fan_in)          convolutions followed by (norm +) ReLU (He et al. 2015)
//   fan_in_uniform:  w ~ U(-1/sqrt(fan_in), +...)  linear layers and their biases (PyTorch's nn.Linear default)
//   norm affine:     gamma = 1, beta = 0           batchnorm / groupnorm
// fan_in of a convolution is (C / groups) * R * S: the inputs that feed one output value.
#include <cmath>
#include <cstdint>

#include "moodnet/core/rng.hpp"

namespace moodnet {

template <class T>
inline void kaiming_normal(TensorView<T> w, std::int64_t fan_in, std::uint64_t seed) {
  fill_normal(w, seed, 0.0, std::sqrt(2.0 / static_cast<double>(fan_in)));
}

template <class T>
inline void fan_in_uniform(TensorView<T> w, std::int64_t fan_in, std::uint64_t seed) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  fill_uniform(w, seed, -bound, bound);
}

}  // namespace moodnet
