#pragma once
// Naive oracle for kernels/batchnorm2d.hpp: plain loops, double accumulation, textbook two-pass
// statistics and the backward formula written out directly. Same arguments as the kernels.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "moodnet/kernels/batchnorm2d.hpp"

namespace moodnet::kernels::ref {

template <class T>
inline void batchnorm2d_forward_train(const BatchNorm2dParams& p, const T* x, const T* gamma, const T* beta, T* y,
                                      T* save_mean, T* save_rstd, T* running_mean, T* running_var) {
  const std::int64_t N = p.N, C = p.C, HW = p.H * p.W;
  const double M = static_cast<double>(N * HW);
  for (std::int64_t c = 0; c < C; ++c) {
    double sum = 0;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < HW; ++i) sum += x[(n * C + c) * HW + i];
    const double mean = sum / M;
    double sq = 0;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < HW; ++i) {
        const double d = x[(n * C + c) * HW + i] - mean;
        sq += d * d;
      }
    const double var = sq / M, rstd = 1.0 / std::sqrt(var + p.eps);
    save_mean[c] = static_cast<T>(mean);
    save_rstd[c] = static_cast<T>(rstd);
    if (running_mean && running_var) {
      running_mean[c] = static_cast<T>((1 - p.momentum) * running_mean[c] + p.momentum * mean);
      running_var[c] = static_cast<T>((1 - p.momentum) * running_var[c] + p.momentum * var * M / (M - 1));
    }
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < HW; ++i) {
        const std::int64_t j = (n * C + c) * HW + i;
        const double v = gamma[c] * (x[j] - mean) * rstd + beta[c];
        y[j] = static_cast<T>(p.fuse_relu ? std::max(v, 0.0) : v);
      }
  }
}

template <class T>
inline void batchnorm2d_forward_eval(const BatchNorm2dParams& p, const T* x, const T* gamma, const T* beta,
                                     const T* running_mean, const T* running_var, T* y) {
  const std::int64_t N = p.N, C = p.C, HW = p.H * p.W;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < HW; ++i) {
        const std::int64_t j = (n * C + c) * HW + i;
        const double v = gamma[c] * (x[j] - double(running_mean[c])) / std::sqrt(double(running_var[c]) + p.eps) + beta[c];
        y[j] = static_cast<T>(p.fuse_relu ? std::max(v, 0.0) : v);
      }
}

// dx = gamma*rstd/M * (M*g - sum(g) - xhat*sum(g*xhat)), g = dy (masked by the ReLU when fused).
template <class T>
inline void batchnorm2d_backward(const BatchNorm2dParams& p, const T* x, const T* dy, const T* gamma, const T* beta,
                                 const T* save_mean, const T* save_rstd, T* dx, T* dgamma, T* dbeta) {
  const std::int64_t N = p.N, C = p.C, HW = p.H * p.W;
  const double M = static_cast<double>(N * HW);
  std::vector<double> g(static_cast<std::size_t>(N * HW)), xhat(g.size());
  for (std::int64_t c = 0; c < C; ++c) {
    const double mean = save_mean[c], rstd = save_rstd[c];
    double sg = 0, sgx = 0;
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < HW; ++i) {
        const std::int64_t j = (n * C + c) * HW + i, k = n * HW + i;
        xhat[k] = (x[j] - mean) * rstd;
        const bool keep = !p.fuse_relu || gamma[c] * xhat[k] + beta[c] > 0;
        g[k] = keep ? double(dy[j]) : 0.0;
        sg += g[k];
        sgx += g[k] * xhat[k];
      }
    dgamma[c] += static_cast<T>(sgx);
    dbeta[c] += static_cast<T>(sg);
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t i = 0; i < HW; ++i) {
        const std::int64_t k = n * HW + i;
        dx[(n * C + c) * HW + i] = static_cast<T>(gamma[c] * rstd / M * (M * g[k] - sg - xhat[k] * sgx));
      }
  }
}

}  // namespace moodnet::kernels::ref
