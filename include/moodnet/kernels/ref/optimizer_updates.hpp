#pragma once
// Naive oracles for kernels/optimizer_updates.hpp: the textbook formulas, one element at a time,
// in double, with the Adam step written as lr * mhat / (sqrt(vhat) + eps).
#include <cmath>
#include <cstdint>

#include "moodnet/kernels/optimizer_updates.hpp"

namespace moodnet::kernels::ref {

template <class T>
inline void sgd_update(const SgdParams& p, const T* grad, T* param, T* buf, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) {
    double g = double(grad[i]) + p.weight_decay * double(param[i]);
    if (p.momentum != 0) {
      const double b = p.step == 1 ? g : p.momentum * double(buf[i]) + g;
      buf[i] = static_cast<T>(b);
      g = p.nesterov ? g + p.momentum * b : b;
    }
    param[i] = static_cast<T>(double(param[i]) - p.lr * g);
  }
}

template <class T>
inline void adam_like_update(const AdamParams& p, bool decoupled, const T* grad, T* param, T* m, T* v,
                             std::int64_t n) {
  const double t = double(p.step);
  for (std::int64_t i = 0; i < n; ++i) {
    double w = param[i];
    if (decoupled) w *= 1 - p.lr * p.weight_decay;
    const double g = double(grad[i]) + (decoupled ? 0.0 : p.weight_decay * w);
    const double mi = p.beta1 * double(m[i]) + (1 - p.beta1) * g;
    const double vi = p.beta2 * double(v[i]) + (1 - p.beta2) * g * g;
    const double mhat = mi / (1 - std::pow(p.beta1, t)), vhat = vi / (1 - std::pow(p.beta2, t));
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    param[i] = static_cast<T>(w - p.lr * mhat / (std::sqrt(vhat) + p.eps));
  }
}
template <class T>
inline void adam_update(const AdamParams& p, const T* grad, T* param, T* m, T* v, std::int64_t n) {
  adam_like_update(p, false, grad, param, m, v, n);
}
template <class T>
inline void adamw_update(const AdamParams& p, const T* grad, T* param, T* m, T* v, std::int64_t n) {
  adam_like_update(p, true, grad, param, m, v, n);
}

}  // namespace moodnet::kernels::ref
