#pragma once
// GroupNorm over NCHW tensors, PyTorch semantics (torch.nn.GroupNorm(G, C, eps=1e-5, affine=True)):
// the same computation in training and evaluation (no running statistics).
//
// Layout:  x, y, dy, dx: [N, C, H, W]   gamma, beta, dgamma, dbeta: [C]   save_mean, save_rstd: [N, G]
//
//   group (n, g) = channels g*Cg .. (g+1)*Cg-1 of sample n, Cg = C/G: one contiguous block of
//   M = Cg*H*W values   x[n, g*Cg : (g+1)*Cg, :, :]
//
// Forward (per group, M values):
//   mean = sum(x)/M,  var = sum((x-mean)^2)/M (biased),  rstd = 1/sqrt(var + eps)
//   y[c] = gamma[c]*(x-mean)*rstd + beta[c]      (per-channel affine)
//
// Backward (per group; xhat = (x-mean)*rstd, g = dy*gamma[c], sums over the group's M values):
//   dbeta[c]  += sum_{n,h,w} dy              dgamma[c] += sum_{n,h,w} dy*xhat
//   dx = rstd/M * (M*g - sum(g) - xhat*sum(g*xhat))                    (overwrites dx)
// Fused ReLU (params.fuse_relu): y = max(0, gn(x)); backward first zeroes dy where the recomputed
// pre-activation x*scale[c] + bias[c] is <= 0 (scale, bias from the saved statistics, exactly as the
// forward computes them, so the mask is the forward's).
//
// Threads and determinism: one task per (n, g) block, reduced on one thread in a fixed order with
// double accumulators (norm_detail.hpp). dgamma/dbeta need a sum over n: each task writes its
// per-(n, c) partial sums to scratch, and they are added over n = 0..N-1 afterwards in a fixed
// order, so results are bit-identical for any thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/norm_detail.hpp"
#include "moodnet/kernels/instantiation.hpp"

namespace moodnet::kernels {

struct GroupNormParams {
  std::int64_t N = 0, C = 0, H = 0, W = 0;
  std::int64_t G = 1;  // number of groups; must divide C
  double eps = 1e-5;
  bool fuse_relu = false;  // y = max(0, gn(x)) and the matching backward

  std::int64_t group_channels() const { return C / G; }
  std::int64_t plane() const { return H * W; }
  std::int64_t group_size() const { return C / G * H * W; }  // M: values per (n, g)
  void validate() const {
    MOODNET_CHECK(N >= 1 && C >= 1 && H >= 1 && W >= 1, "groupnorm: shape N=", N, " C=", C, " H=", H, " W=", W,
                  " must be positive");
    MOODNET_CHECK(G >= 1 && C % G == 0, "groupnorm: groups G=", G, " must be >= 1 and divide C=", C);
    MOODNET_CHECK(eps > 0 && std::isfinite(eps), "groupnorm: eps=", eps, " must be > 0");
  }
};

// Forward (training and eval alike).
//   x: [N,C,H,W]  gamma, beta: [C]  ->  y: [N,C,H,W]  save_mean, save_rstd: [N, G]
template <class T>
void groupnorm_forward(const GroupNormParams& p, const T* x, const T* gamma, const T* beta, T* y,
                       T* save_mean, T* save_rstd) {
  p.validate();
  const std::int64_t Cg = p.group_channels(), HW = p.plane(), M = p.group_size();
  parallel_for(p.N * p.G, [&](std::int64_t ng) {
    const T* xb = x + ng * M;  // (n, g) blocks are contiguous and in (n, g) order
    const double shift = static_cast<double>(xb[0]);
    double s1 = 0, s2 = 0;
    detail::accumulate_shifted_moments(xb, M, shift, s1, s2);
    const double md = s1 / static_cast<double>(M);
    const double var = std::max(s2 / static_cast<double>(M) - md * md, 0.0);
    const double mean = shift + md, rstd = 1.0 / std::sqrt(var + p.eps);
    save_mean[ng] = static_cast<T>(mean);
    save_rstd[ng] = static_cast<T>(rstd);
    const std::int64_t c0 = (ng % p.G) * Cg;
    for (std::int64_t j = 0; j < Cg; ++j) {
      // From the saved (rounded) statistics, exactly as backward recomputes them for the ReLU mask.
      T scale, bias;
      detail::norm_scale_bias(gamma[c0 + j], beta[c0 + j], save_mean[ng], save_rstd[ng], scale, bias);
      detail::affine_plane(xb + j * HW, y + ng * M + j * HW, HW, scale, bias, p.fuse_relu);
    }
  });
}

// Backward (see the header comment for the math).
//   x, dy: [N,C,H,W]  gamma: [C]  save_mean, save_rstd: [N, G] (from groupnorm_forward)
//   -> dx: [N,C,H,W] (overwritten)  dgamma, dbeta: [C] (accumulated +=)
//   ws: scratch, slot 0 holds 2*N*C doubles. beta: [C], needed only with p.fuse_relu (for the mask).
template <class T>
void groupnorm_backward(const GroupNormParams& p, const T* x, const T* dy, const T* gamma,
                        const T* save_mean, const T* save_rstd, T* dx, T* dgamma, T* dbeta, Workspace& ws,
                        const T* beta = nullptr) {
  p.validate();
  MOODNET_CHECK(!p.fuse_relu || beta != nullptr, "groupnorm_backward: fused ReLU needs beta");
  const std::int64_t N = p.N, C = p.C, Cg = p.group_channels(), HW = p.plane(), M = p.group_size();
  ws.reserve_slots(1);
  double* part_dy = ws.get<double>(0, 2 * N * C);  // [N, C]: sum(dy) per (n, c)
  double* part_dyxhat = part_dy + N * C;            // [N, C]: sum(dy*xhat) per (n, c)
  parallel_for(N * p.G, [&](std::int64_t ng) {
    const std::int64_t c_first = (ng % p.G) * Cg, base = ng * M;
    const double mean = static_cast<double>(save_mean[ng]), rstd = static_cast<double>(save_rstd[ng]);
    double sum_g = 0, sum_gx = 0;  // sum(g), sum(g*(x-mean)) over the group, g = dy*gamma
    // The forward's per-channel pre-activation x*scale + bias, for the fused-ReLU mask.
    auto scale_bias = [&](std::int64_t j, T& scale, T& bias) {
      scale = bias = T(0);
      if (p.fuse_relu) detail::norm_scale_bias(gamma[c_first + j], beta[c_first + j], save_mean[ng], save_rstd[ng], scale, bias);
    };
    for (std::int64_t j = 0; j < Cg; ++j) {
      double s_dy = 0, s_dyx = 0;
      T scale, bias;
      scale_bias(j, scale, bias);
      detail::accumulate_dy_moments(dy + base + j * HW, x + base + j * HW, HW, mean, s_dy, s_dyx, p.fuse_relu, scale,
                                    bias);
      const double gam = static_cast<double>(gamma[c_first + j]);
      const std::int64_t nc = ng * Cg + j;  // = n*C + c
      part_dy[nc] = s_dy;
      part_dyxhat[nc] = s_dyx * rstd;
      sum_g += gam * s_dy;
      sum_gx += gam * s_dyx;
    }
    // dx = rstd*(g - A - xhat*B), A = sum(g)/M, B = sum(g*xhat)/M = rstd*sum_gx/M
    //    = (rstd*gamma)*dy + cx*(x - mean) + c0,  cx = -rstd^2*B,  c0 = -rstd*A
    const double A = sum_g / static_cast<double>(M), B = rstd * sum_gx / static_cast<double>(M);
    const T cx = static_cast<T>(-rstd * rstd * B), c0 = static_cast<T>(-rstd * A), mean_t = save_mean[ng];
    for (std::int64_t j = 0; j < Cg; ++j) {
      const T k = static_cast<T>(rstd * static_cast<double>(gamma[c_first + j]));
      T scale, bias;
      scale_bias(j, scale, bias);
      detail::norm_input_grad_plane(x + base + j * HW, dy + base + j * HW, dx + base + j * HW, HW, k, cx, c0, mean_t,
                                    scale, bias, p.fuse_relu);
    }
  });
  for (std::int64_t c = 0; c < C; ++c) {  // fixed order over n: independent of the thread count
    double s_dy = 0, s_dyxhat = 0;
    for (std::int64_t n = 0; n < N; ++n) {
      s_dy += part_dy[n * C + c];
      s_dyxhat += part_dyxhat[n * C + c];
    }
    dbeta[c] += static_cast<T>(s_dy);
    dgamma[c] += static_cast<T>(s_dyxhat);
  }
}

// Compiled once where the program asks for it (kernels/instantiation.hpp).
#define MOODNET_GROUPNORM_KERNELS(prefix, T) \
  prefix template void groupnorm_forward<T>(const GroupNormParams&, const T*, const T*, const T*, T*, T*, T*); \
  prefix template void groupnorm_backward<T>(const GroupNormParams&, const T*, const T*, const T*, const T*, \
      const T*, T*, T*, T*, Workspace&, const T*);
MOODNET_KERNEL_INSTANTIATIONS(MOODNET_GROUPNORM_KERNELS)

}  // namespace moodnet::kernels
