#pragma once
// A per-channel affine map with an optional ReLU, applied by a convolution kernel to its own output
// right after computing it (while the output is still in cache):
//
//   y[n, k, :, :] = y[n, k, :, :] * scale[k] + shift[k]          then max(0, y) when relu
//
// It is how an eval-mode BatchNorm2d (+ReLU) is folded into the convolution before it
// (graph/passes.hpp, fold_batchnorm): the same per-element expression as batchnorm2d_forward_eval on the same
// values, so the results are bit-identical to running the two layers one after the other, with one
// pass over the activation fewer.
#include <cstdint>

#include "moodnet/kernels/norm_detail.hpp"

namespace moodnet::kernels {

template <class T>
struct ChannelAffine {
  const T* scale = nullptr;  // [K]
  const T* shift = nullptr;  // [K]
  bool relu = false;
};

// Applies `a` (if non-null) to channel k's plane y[0, plane) in place.
template <class T>
inline void apply_channel_affine(const ChannelAffine<T>* a, std::int64_t k, T* y, std::int64_t plane) {
  if (a) detail::affine_plane(y, y, plane, a->scale[k], a->shift[k], a->relu);
}

}  // namespace moodnet::kernels
