#pragma once
// Naive oracle for activations.hpp: the definitions, one element at a time. Backward takes the
// forward output y, like the optimized kernels.
#include <algorithm>
#include <cstdint>

#include "moodnet/kernels/activations.hpp"

namespace moodnet::kernels::ref {

template <class T>
inline void relu_forward(const ActivationParams& p, const T* x, T* y) {
  for (std::int64_t i = 0; i < p.n; ++i) y[i] = std::max(x[i], T(0));
}
template <class T>
inline void relu_backward(const ActivationParams& p, const T* y, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < p.n; ++i) dx[i] = y[i] > 0 ? dy[i] : T(0);
}
template <class T>
inline void relu6_forward(const ActivationParams& p, const T* x, T* y) {
  for (std::int64_t i = 0; i < p.n; ++i) y[i] = std::min(std::max(x[i], T(0)), T(6));
}
template <class T>
inline void relu6_backward(const ActivationParams& p, const T* y, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < p.n; ++i) dx[i] = (y[i] > 0 && y[i] < 6) ? dy[i] : T(0);
}
template <class T>
inline void leaky_relu_forward(const ActivationParams& p, const T* x, T* y) {
  for (std::int64_t i = 0; i < p.n; ++i) y[i] = x[i] > 0 ? x[i] : static_cast<T>(p.slope) * x[i];
}
template <class T>
inline void leaky_relu_backward(const ActivationParams& p, const T* y, const T* dy, T* dx) {
  for (std::int64_t i = 0; i < p.n; ++i) dx[i] = y[i] > 0 ? dy[i] : static_cast<T>(p.slope) * dy[i];
}

}  // namespace moodnet::kernels::ref
