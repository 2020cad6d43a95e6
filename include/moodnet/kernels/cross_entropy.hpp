#pragma once
// Softmax cross-entropy on logits, fused and numerically stable, with PyTorch's exact semantics of
// torch.nn.CrossEntropyLoss(weight=w, label_smoothing=eps, reduction='mean') (no ignore_index).
//
// Layout:  logits, probs, dlogits: [N, K] row-major   labels: [N] int32 in [0, K)   w: [K] or null
//
// Per row n with label y = labels[n]:  lse = log(sum_k exp(z_k)) (computed as m + log(sum exp(z_k - m)),
// m = max_k z_k, so no exp overflows),  logp_k = z_k - lse,  p_k = exp(logp_k).
// PyTorch (aten/src/ATen/native/LossNLL.cpp, cross_entropy_loss_label_smoothing) computes
//   loss = (1-eps) * nll + (eps/K) * smooth, with, for reduction 'mean',
//     nll    = sum_n w[y_n] * (-logp[n, y_n])          / Wsum
//     smooth = sum_n sum_k w[k] * (-logp[n, k])        / Wsum
//     Wsum   = sum_n w[y_n]            (= N when w is null, i.e. all weights 1)
// Note the smoothing term weights class k by w[k] (not w[y_n]) but is still divided by
// sum_n w[y_n]: this is PyTorch's definition, followed exactly. With eps = 0 and no weights it is
// the plain mean of -logp[n, y_n]; with eps > 0 and no weights it equals the cross-entropy against
// the smoothed target (1-eps)*onehot(y) + eps/K.
//
// Gradient of that mean loss (d/dz_j of -sum_k w_k logp_k is Sw*p_j - w_j, Sw = sum_k w_k):
//   dlogits[n, j] = ( (1-eps)*w[y_n]*(p_j - [j == y_n]) + (eps/K)*(Sw*p_j - w_j) ) / Wsum
//
// Rows are independent and N*K is small (64 x 7), so this runs on one thread: deterministic.
// The loss is accumulated in double.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "moodnet/core/error.hpp"

namespace moodnet::kernels {

struct CrossEntropyParams {
  std::int64_t N = 0, K = 0;     // rows (batch) and classes
  double label_smoothing = 0.0;  // eps in [0, 1]

  void validate() const {
    MOODNET_CHECK(N >= 1 && K >= 1, "cross_entropy: shape N=", N, " K=", K, " must be positive");
    MOODNET_CHECK(label_smoothing >= 0 && label_smoothing <= 1, "cross_entropy: label_smoothing=", label_smoothing,
                  " must be in [0, 1]");
  }
};

namespace detail {
// Checks every label is in [0, K) and returns Wsum = sum_n w[y_n] (N without weights), and
// Sw = sum_k w[k] (K without weights).
template <class T>
inline double ce_weight_sums(const CrossEntropyParams& p, const std::int32_t* labels, const T* w, double& sw) {
  p.validate();
  double wsum = 0;
  for (std::int64_t n = 0; n < p.N; ++n) {
    const std::int32_t y = labels[n];
    MOODNET_CHECK(y >= 0 && y < p.K, "cross_entropy: label ", y, " of row ", n, " is outside [0, ", p.K, ")");
    wsum += w ? static_cast<double>(w[y]) : 1.0;
  }
  sw = 0;
  for (std::int64_t k = 0; k < p.K; ++k) sw += w ? static_cast<double>(w[k]) : 1.0;
  MOODNET_CHECK(wsum > 0, "cross_entropy: the class weights of the batch's labels sum to ", wsum,
                ", must be > 0");
  return wsum;
}

// One row's gradient from its probabilities (see the header comment). In place (d == prob) is fine.
template <class T>
inline void ce_row_grad(const CrossEntropyParams& p, const T* prob, std::int32_t y, const T* w, double sw,
                        double wsum, T* d) {
  const double eps = p.label_smoothing, wy = w ? static_cast<double>(w[y]) : 1.0;
  const double a = (1 - eps) * wy / wsum, b = eps / static_cast<double>(p.K) / wsum;
  for (std::int64_t j = 0; j < p.K; ++j) {
    const double pj = static_cast<double>(prob[j]), wj = w ? static_cast<double>(w[j]) : 1.0;
    d[j] = static_cast<T>(a * (pj - (j == y ? 1.0 : 0.0)) + b * (sw * pj - wj));
  }
}

// Loss of all rows; writes probs and/or dlogits when non-null.
template <class T>
inline double ce_rows(const CrossEntropyParams& p, const T* logits, const std::int32_t* labels, const T* w,
                      T* probs, T* dlogits) {
  double sw = 0;
  const double wsum = ce_weight_sums(p, labels, w, sw);
  const double eps = p.label_smoothing;
  double nll = 0, smooth = 0;
  for (std::int64_t n = 0; n < p.N; ++n) {
    const T* z = logits + n * p.K;
    const std::int32_t y = labels[n];
    double m = static_cast<double>(z[0]);
    for (std::int64_t k = 1; k < p.K; ++k) m = std::max(m, static_cast<double>(z[k]));
    double s = 0, wz = 0;  // sum exp(z - m), sum w_k z_k
    for (std::int64_t k = 0; k < p.K; ++k) {
      s += std::exp(static_cast<double>(z[k]) - m);
      wz += (w ? static_cast<double>(w[k]) : 1.0) * static_cast<double>(z[k]);
    }
    const double lse = m + std::log(s);
    const double wy = w ? static_cast<double>(w[y]) : 1.0;
    nll += wy * (lse - static_cast<double>(z[y]));
    smooth += sw * lse - wz;  // -sum_k w_k logp_k
    T* pr = probs ? probs + n * p.K : dlogits ? dlogits + n * p.K : nullptr;
    if (!pr) continue;
    for (std::int64_t k = 0; k < p.K; ++k) pr[k] = static_cast<T>(std::exp(static_cast<double>(z[k]) - lse));
    if (dlogits) ce_row_grad(p, pr, y, w, sw, wsum, dlogits + n * p.K);
  }
  return ((1 - eps) * nll + eps / static_cast<double>(p.K) * smooth) / wsum;
}
}  // namespace detail

// Mean loss of the batch; writes the softmax probabilities when probs is non-null.
//   logits: [N, K]  labels: [N]  class_weights: [K] or null  ->  probs: [N, K] or null
// Throws moodnet::Error naming the row and value of a label outside [0, K).
template <class T>
inline double softmax_cross_entropy_forward(const CrossEntropyParams& p, const T* logits, const std::int32_t* labels,
                                            const T* class_weights, T* probs) {
  return detail::ce_rows<T>(p, logits, labels, class_weights, probs, nullptr);
}

// Gradient of the mean loss from the forward's probabilities.
//   probs: [N, K]  labels: [N]  class_weights: [K] or null  ->  dlogits: [N, K] (overwritten; may alias probs)
template <class T>
inline void softmax_cross_entropy_backward(const CrossEntropyParams& p, const T* probs, const std::int32_t* labels,
                                           const T* class_weights, T* dlogits) {
  double sw = 0;
  const double wsum = detail::ce_weight_sums(p, labels, class_weights, sw);
  for (std::int64_t n = 0; n < p.N; ++n)
    detail::ce_row_grad(p, probs + n * p.K, labels[n], class_weights, sw, wsum, dlogits + n * p.K);
}

// Fused forward + backward: returns the mean loss and writes its gradient (and the probabilities
// when probs is non-null).
//   logits: [N, K]  labels: [N]  class_weights: [K] or null  ->  dlogits: [N, K] (overwritten)  probs: [N, K] or null
template <class T>
inline double softmax_cross_entropy_forward_backward(const CrossEntropyParams& p, const T* logits,
                                                     const std::int32_t* labels, const T* class_weights, T* dlogits,
                                                     T* probs = nullptr) {
  return detail::ce_rows<T>(p, logits, labels, class_weights, probs, dlogits);
}

// The predicted class of each row: the index of its largest value (the first one on ties, like
// torch.argmax). x: [N, K]  ->  out: [N]
template <class T>
inline void argmax_rows(const T* x, std::int64_t N, std::int64_t K, std::int32_t* out) {
  MOODNET_CHECK(N >= 0 && K >= 1, "argmax_rows: shape N=", N, " K=", K, " needs K >= 1");
  for (std::int64_t n = 0; n < N; ++n) {
    const T* r = x + n * K;
    std::int64_t best = 0;
    for (std::int64_t k = 1; k < K; ++k)
      if (r[k] > r[best]) best = k;
    out[n] = static_cast<std::int32_t>(best);
  }
}

}  // namespace moodnet::kernels
