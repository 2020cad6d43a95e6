#pragma once
// Naive oracle for kernels/groupnorm.hpp: plain loops, double accumulation, two-pass statistics
// and the backward formula written out directly. Same arguments as the kernels (no Workspace).
#include <cmath>
#include <cstdint>

#include "moodnet/kernels/groupnorm.hpp"

namespace moodnet::kernels::ref {

template <class T>
inline void groupnorm_forward(const GroupNormParams& p, const T* x, const T* gamma, const T* beta, T* y, T* save_mean,
                              T* save_rstd) {
  const std::int64_t Cg = p.C / p.G, HW = p.H * p.W, M = Cg * HW;
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t g = 0; g < p.G; ++g) {
      const std::int64_t base = (n * p.C + g * Cg) * HW;
      double sum = 0, sq = 0;
      for (std::int64_t i = 0; i < M; ++i) sum += x[base + i];
      const double mean = sum / double(M);
      for (std::int64_t i = 0; i < M; ++i) sq += (x[base + i] - mean) * (x[base + i] - mean);
      const double rstd = 1.0 / std::sqrt(sq / double(M) + p.eps);
      save_mean[n * p.G + g] = static_cast<T>(mean);
      save_rstd[n * p.G + g] = static_cast<T>(rstd);
      for (std::int64_t i = 0; i < M; ++i) {
        const std::int64_t c = g * Cg + i / HW;
        y[base + i] = static_cast<T>(gamma[c] * (x[base + i] - mean) * rstd + beta[c]);
      }
    }
}

// Per group: g = dy*gamma[c], dx = rstd/M * (M*g - sum(g) - xhat*sum(g*xhat)).
template <class T>
inline void groupnorm_backward(const GroupNormParams& p, const T* x, const T* dy, const T* gamma, const T* save_mean,
                               const T* save_rstd, T* dx, T* dgamma, T* dbeta) {
  const std::int64_t Cg = p.C / p.G, HW = p.H * p.W, M = Cg * HW;
  for (std::int64_t c = 0; c < p.C; ++c) {
    double sdy = 0, sdyx = 0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const std::int64_t ng = n * p.G + c / Cg;
      for (std::int64_t i = 0; i < HW; ++i) {
        const std::int64_t j = (n * p.C + c) * HW + i;
        sdy += dy[j];
        sdyx += dy[j] * (x[j] - double(save_mean[ng])) * double(save_rstd[ng]);
      }
    }
    dgamma[c] += static_cast<T>(sdyx);
    dbeta[c] += static_cast<T>(sdy);
  }
  for (std::int64_t n = 0; n < p.N; ++n)
    for (std::int64_t g = 0; g < p.G; ++g) {
      const std::int64_t base = (n * p.C + g * Cg) * HW;
      const double mean = save_mean[n * p.G + g], rstd = save_rstd[n * p.G + g];
      double sg = 0, sgx = 0;
      for (std::int64_t i = 0; i < M; ++i) {
        const double gi = dy[base + i] * double(gamma[g * Cg + i / HW]);
        sg += gi;
        sgx += gi * (x[base + i] - mean) * rstd;
      }
      for (std::int64_t i = 0; i < M; ++i) {
        const double gi = dy[base + i] * double(gamma[g * Cg + i / HW]), xhat = (x[base + i] - mean) * rstd;
        dx[base + i] = static_cast<T>(rstd / double(M) * (double(M) * gi - sg - xhat * sgx));
      }
    }
}

}  // namespace moodnet::kernels::ref
