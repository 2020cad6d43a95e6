#pragma once
// Naive oracle for kernels/cross_entropy.hpp: log-softmax per row in double, then PyTorch's
// CrossEntropyLoss(weight, label_smoothing, reduction='mean') written as the per-row target
// distribution q_n[k] = (1-eps)*w[y_n]*[k == y_n] + (eps/K)*w[k], loss = sum_n sum_k q_n[k]*(-logp[n,k]) / sum_n w[y_n],
// and its gradient dlogits[n, j] = (sum_k q_n[k] * p_j - q_n[j]) / sum_n w[y_n].
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "moodnet/kernels/cross_entropy.hpp"

namespace moodnet::kernels::ref {

// Returns the loss; writes probs and dlogits when non-null.
template <class T>
inline double softmax_cross_entropy(const CrossEntropyParams& p, const T* logits, const std::int32_t* labels,
                                    const T* w, T* probs, T* dlogits) {
  const std::int64_t N = p.N, K = p.K;
  const double eps = p.label_smoothing;
  auto weight = [&](std::int64_t k) { return w ? double(w[k]) : 1.0; };
  double wsum = 0;
  for (std::int64_t n = 0; n < N; ++n) wsum += weight(labels[n]);
  std::vector<double> logp(static_cast<std::size_t>(K)), q(logp.size());
  double total = 0;
  for (std::int64_t n = 0; n < N; ++n) {
    double m = logits[n * K];
    for (std::int64_t k = 0; k < K; ++k) m = std::max(m, double(logits[n * K + k]));
    double s = 0;
    for (std::int64_t k = 0; k < K; ++k) s += std::exp(double(logits[n * K + k]) - m);
    double qsum = 0;
    for (std::int64_t k = 0; k < K; ++k) {
      logp[k] = double(logits[n * K + k]) - m - std::log(s);
      q[k] = (1 - eps) * weight(labels[n]) * (k == labels[n] ? 1.0 : 0.0) + eps / double(K) * weight(k);
      qsum += q[k];
      total -= q[k] * logp[k];
    }
    for (std::int64_t k = 0; k < K; ++k) {
      if (probs) probs[n * K + k] = static_cast<T>(std::exp(logp[k]));
      if (dlogits) dlogits[n * K + k] = static_cast<T>((qsum * std::exp(logp[k]) - q[k]) / wsum);
    }
  }
  return total / wsum;
}

}  // namespace moodnet::kernels::ref
