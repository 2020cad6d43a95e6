#pragma once
// BatchNorm2d over NCHW tensors, PyTorch semantics (torch.nn.BatchNorm2d, affine=True,
// track_running_stats=True), with an optional fused ReLU.
//
// Layout:  x, y, dy, dx: [N, C, H, W]     gamma, beta, dgamma, dbeta, running_*, save_*: [C]
//
//   channel c's statistics run over the N planes x[n, c, :, :]  (M = N*H*W values)
//
// Training forward (per channel, M values):
//   mean = sum(x)/M,  var = sum((x-mean)^2)/M  (biased),  rstd = 1/sqrt(var + eps)
//   y = gamma*(x-mean)*rstd + beta          (computed as x*scale + bias, like PyTorch's CPU path)
//   running_mean = (1-momentum)*running_mean + momentum*mean
//   running_var  = (1-momentum)*running_var  + momentum*var*M/(M-1)    (UNBIASED variance)
//   save_mean = mean, save_rstd = rstd (what backward needs).
// Eval forward: y = gamma*(x-running_mean)/sqrt(running_var + eps) + beta.
// Fused ReLU (params.fuse_relu): y = max(0, bn(x)); backward masks dy where the recomputed
// pre-activation x*scale + bias is <= 0 (the same expression as forward, so the mask matches).
//
// Backward (training mode; xhat = (x-mean)*rstd, sums over the channel's M values):
//   dbeta  += sum(dy)
//   dgamma += sum(dy*xhat)
//   dx = gamma*rstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat))          (overwrites dx)
//
// Synchronised batchnorm (optional BatchNormSync* sync; null = this batch alone): replicas of a
// data-parallel group each hold a shard of the global batch (replica r: M_r of the M = sum_r M_r
// values of a channel); sync->sum adds small per-channel vectors over the replicas, so
//   forward:  mean and var run over all M values (each replica's sums about a shift every replica
//             shares, its running mean, plus M_r, summed), running_var takes M/(M-1);
//   backward: replica r's dy is the gradient of its own mean loss, which data parallelism weighs by
//             w_r = M_r/M when it averages gradients; the global upstream gradient is w_r*dy, so
//             with S_dy = sum_q w_q*sum(dy_q) / w_r  (and S_dyxhat alike, both in r's units)
//             dx = gamma*rstd/M * (M*dy - S_dy - xhat*S_dyxhat); dgamma/dbeta take r's own sums
//             (the gradient averaging weighs and adds them).
// So R replicas on shards compute what one process computes on the whole batch, up to the order
// of the sums (tests/distributed/sync_batchnorm.cpp). The kernels stay MPI-free: the hook does it.
//
// Threads and determinism: work is split by channel; each channel is reduced on one thread in a
// fixed order (n = 0..N-1, plane by plane, 8 double lanes per plane, see norm_detail.hpp), so
// results are bit-identical for any thread count. Statistics accumulate in double, shifted by the
// channel's first element so E[d^2]-E[d]^2 does not cancel.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/norm_detail.hpp"
#include "moodnet/kernels/instantiation.hpp"

namespace moodnet::kernels {

struct BatchNorm2dParams {
  std::int64_t N = 0, C = 0, H = 0, W = 0;
  double eps = 1e-5;
  double momentum = 0.1;   // PyTorch's default; running = (1-momentum)*running + momentum*stat
  bool fuse_relu = false;  // y = max(0, bn(x)) and the matching backward

  std::int64_t plane() const { return H * W; }
  std::int64_t count() const { return N * H * W; }  // M: values per channel
  void validate() const {
    MOODNET_CHECK(N >= 1 && C >= 1 && H >= 1 && W >= 1, "batchnorm2d: shape N=", N, " C=", C, " H=", H,
                  " W=", W, " must be positive");
    MOODNET_CHECK(eps > 0 && std::isfinite(eps), "batchnorm2d: eps=", eps, " must be > 0");
    MOODNET_CHECK(momentum >= 0 && momentum <= 1, "batchnorm2d: momentum=", momentum, " must be in [0, 1]");
  }
};

// The sums of synchronised batchnorm over the replicas of a data-parallel group (see the header;
// distributed/sync_batchnorm.hpp implements it over MPI). sum(v, n) replaces v[0, n) by the sum
// over every replica of its v, the same on every replica; each replica's kernels call it in the
// same order with the same n (every replica runs the same network on its shard).
class BatchNormSync {
 public:
  virtual ~BatchNormSync() = default;
  virtual void sum(double* v, std::int64_t n) = 0;
};

// Training-mode forward.
//   x: [N,C,H,W]  gamma, beta: [C]  ->  y: [N,C,H,W]  save_mean, save_rstd: [C]
//   running_mean, running_var: [C], updated in place (both may be null to skip the update).
// Returns the values per channel the statistics ran over: M = N*H*W, with sync that over every
// replica (batchnorm2d_backward takes it).
template <class T>
std::int64_t batchnorm2d_forward_train(const BatchNorm2dParams& p, const T* x, const T* gamma, const T* beta,
                                       T* y, T* save_mean, T* save_rstd, T* running_mean, T* running_var,
                                       BatchNormSync* sync = nullptr) {
  p.validate();
  std::int64_t M = p.count();
  const std::int64_t HW = p.plane(), C = p.C;
  // Channel c's sums of (x - shift) and (x - shift)^2 over this replica's N planes.
  auto moments = [&](std::int64_t c, double shift, double& s1, double& s2) {
    const T* xc = x + c * HW;
    for (std::int64_t n = 0; n < p.N; ++n) detail::accumulate_shifted_moments(xc + n * C * HW, HW, shift, s1, s2);
  };
  // Channel c's statistics from its sums over M values, and the running-statistics update.
  auto finish = [&](std::int64_t c, double shift, double s1, double s2) {
    const double md = s1 / static_cast<double>(M);
    const double var = std::max(s2 / static_cast<double>(M) - md * md, 0.0);
    const double mean = shift + md;
    const double rstd = 1.0 / std::sqrt(var + p.eps);
    save_mean[c] = static_cast<T>(mean);
    save_rstd[c] = static_cast<T>(rstd);
    if (running_mean && running_var) {
      const double m = p.momentum, unbiased = var * static_cast<double>(M) / static_cast<double>(M - 1);
      running_mean[c] = static_cast<T>((1 - m) * static_cast<double>(running_mean[c]) + m * mean);
      running_var[c] = static_cast<T>((1 - m) * static_cast<double>(running_var[c]) + m * unbiased);
    }
  };
  if (!sync) {
    MOODNET_CHECK(M > 1, "batchnorm2d: training needs more than 1 value per channel, got N*H*W=", M);
    // Pass 1, one task per channel: the statistics and the running-statistics update.
    parallel_for(C, [&](std::int64_t c) {
      const double shift = static_cast<double>(x[c * HW]);
      double s1 = 0, s2 = 0;
      moments(c, shift, s1, s2);
      finish(c, shift, s1, s2);
    });
  } else {
    // Pass 1 in three: this replica's sums [s1 (C), s2 (C), M_r], summed over the replicas, then
    // the statistics. The shift must be the same on every replica: the running mean is (rank 0's,
    // broadcast, then updated from the same global statistics everywhere), 0 without one.
    std::vector<double> shift(static_cast<std::size_t>(C), 0.0), sums(static_cast<std::size_t>(2 * C + 1), 0.0);
    parallel_for(C, [&](std::int64_t c) {
      const auto i = static_cast<std::size_t>(c);
      if (running_mean) shift[i] = static_cast<double>(running_mean[c]);
      moments(c, shift[i], sums[i], sums[i + static_cast<std::size_t>(C)]);
    });
    sums[static_cast<std::size_t>(2 * C)] = static_cast<double>(M);
    sync->sum(sums.data(), 2 * C + 1);
    M = static_cast<std::int64_t>(std::llround(sums[static_cast<std::size_t>(2 * C)]));
    MOODNET_CHECK(M > 1, "batchnorm2d: training needs more than 1 value per channel over the replicas, got ", M);
    parallel_for(C, [&](std::int64_t c) {
      const auto i = static_cast<std::size_t>(c);
      finish(c, shift[i], sums[i], sums[i + static_cast<std::size_t>(C)]);
    });
  }
  // Pass 2, one task per (n, c) plane in memory order (like eval): streaming x -> y in order is
  // much faster than revisiting each channel's N strided planes after its reduction (1-thread CPU
  // time of the whole forward, C64 @48x48: 8.6 ms per channel, see the docs for the new figure).
  // scale/bias come from the saved (rounded) statistics, exactly as backward recomputes them.
  parallel_for(p.N * C, [&](std::int64_t nc) {
    const std::int64_t c = nc % C;
    T scale_t, bias_t;
    detail::norm_scale_bias(gamma[c], beta[c], save_mean[c], save_rstd[c], scale_t, bias_t);
    detail::affine_plane(x + nc * HW, y + nc * HW, HW, scale_t, bias_t, p.fuse_relu);
  });
  return M;
}

// The eval-mode map of channel c, y = x*scale + shift with scale = gamma/sqrt(running_var + eps)
// and shift = beta - running_mean*scale, computed in double and rounded once to T.
template <class T>
inline void batchnorm2d_eval_scale_shift(double eps, T gamma, T beta, T running_mean, T running_var, T& scale,
                                         T& shift) {
  const double s = static_cast<double>(gamma) / std::sqrt(static_cast<double>(running_var) + eps);
  scale = static_cast<T>(s);
  shift = static_cast<T>(static_cast<double>(beta) - static_cast<double>(running_mean) * s);
}

// Eval-mode forward with the running statistics (p.momentum unused).
//   x: [N,C,H,W]  gamma, beta, running_mean, running_var: [C]  ->  y: [N,C,H,W]
template <class T>
void batchnorm2d_forward_eval(const BatchNorm2dParams& p, const T* x, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, T* y) {
  p.validate();
  const std::int64_t HW = p.plane(), C = p.C;
  // One task per (n, c) plane: enough parallelism even for small C; no reduction involved.
  parallel_for(p.N * C, [&](std::int64_t nc) {
    const std::int64_t c = nc % C;
    T scale, shift;
    batchnorm2d_eval_scale_shift(p.eps, gamma[c], beta[c], running_mean[c], running_var[c], scale, shift);
    detail::affine_plane(x + nc * HW, y + nc * HW, HW, scale, shift, p.fuse_relu);
  });
}

// Training-mode backward (see the header comment for the math).
//   x, dy: [N,C,H,W]  gamma, save_mean, save_rstd: [C] (from batchnorm2d_forward_train)
//   -> dx: [N,C,H,W] (overwritten)   dgamma, dbeta: [C] (accumulated +=)
// With p.fuse_relu, dy is the gradient of the ReLU output; beta is needed to recompute the mask
// (it may be null otherwise).
// ws (optional; slot 0, 5*C values of T): with it, dx is written in a second pass over (n, c)
// planes in memory order, which streams much better than finishing each channel's N strided
// planes on its own; without it, each channel is finished by the task that reduced it. Both give
// bit-identical results (the same per-channel coefficients and per-element formula).
// sync, count: synchronised batchnorm (the header), count = what the forward with sync returned.
template <class T>
void batchnorm2d_backward(const BatchNorm2dParams& p, const T* x, const T* dy, const T* gamma,
                          const T* beta, const T* save_mean, const T* save_rstd, T* dx, T* dgamma,
                          T* dbeta, Workspace* ws = nullptr, BatchNormSync* sync = nullptr,
                          std::int64_t count = 0) {
  p.validate();
  MOODNET_CHECK(!p.fuse_relu || beta != nullptr, "batchnorm2d_backward: fused ReLU needs beta");
  const std::int64_t M = p.count(), HW = p.plane(), C = p.C;
  MOODNET_CHECK(sync ? count >= M : count == 0 || count == M, "batchnorm2d_backward: count ", count,
                " is not what the forward returned (", M, " values per channel here)");
  // The forward's scale/bias of channel c in T, for the fused-ReLU mask (bit-identical to the forward's).
  auto mask_affine = [&](std::int64_t c, T& scale_t, T& bias_t) {
    bias_t = T(0);
    detail::norm_scale_bias(gamma[c], p.fuse_relu ? beta[c] : T(0), save_mean[c], save_rstd[c], scale_t, bias_t);
  };
  // Channel c's sum(g) and sum(g*xhat) over this replica's values (g = dy, masked by the ReLU);
  // they are its dbeta and dgamma, accumulated here.
  auto local_sums = [&](std::int64_t c, double& s_dy, double& s_dyxhat) {
    T scale_t, bias_t;
    mask_affine(c, scale_t, bias_t);
    const double mean = static_cast<double>(save_mean[c]);
    double s_dyx = 0;
    s_dy = 0;
    for (std::int64_t n = 0; n < p.N; ++n) {
      const std::int64_t off = (n * C + c) * HW;
      detail::accumulate_dy_moments(dy + off, x + off, HW, mean, s_dy, s_dyx, p.fuse_relu, scale_t, bias_t);
    }
    s_dyxhat = s_dyx * static_cast<double>(save_rstd[c]);  // sum(dy * xhat)
    dgamma[c] += static_cast<T>(s_dyxhat);
    dbeta[c] += static_cast<T>(s_dy);
  };
  // The 5 coefficients of channel c's dx = k*g + cx*(x - mean) + c0 from the sums over `m` values:
  // coef = {k, cx, c0, scale, bias}.
  auto coefficients = [&](std::int64_t c, double s_dy, double s_dyxhat, std::int64_t m, T* coef) {
    const double rstd = static_cast<double>(save_rstd[c]);
    // dx = k*(dy - a - xhat*b) with k = gamma*rstd, a = sum(dy)/M, b = sum(dy*xhat)/M
    //    = k*dy + cx*(x - mean) + c0,  cx = -k*b*rstd,  c0 = -k*a
    const double k = static_cast<double>(gamma[c]) * rstd, a = s_dy / static_cast<double>(m),
                 b = s_dyxhat / static_cast<double>(m);
    coef[0] = static_cast<T>(k), coef[1] = static_cast<T>(-k * b * rstd), coef[2] = static_cast<T>(-k * a);
    mask_affine(c, coef[3], coef[4]);
  };
  auto reduce_channel = [&](std::int64_t c, T* coef) {
    double s_dy, s_dyxhat;
    local_sums(c, s_dy, s_dyxhat);
    coefficients(c, s_dy, s_dyxhat, M, coef);
  };
  auto write_plane = [&](std::int64_t n, std::int64_t c, const T* coef) {
    const std::int64_t off = (n * C + c) * HW;
    detail::norm_input_grad_plane(x + off, dy + off, dx + off, HW, coef[0], coef[1], coef[2], save_mean[c], coef[3],
                                  coef[4], p.fuse_relu);
  };
  std::vector<T> own_coefs;  // synchronised without a workspace
  if (ws) ws->reserve_slots(1);
  T* coefs = ws ? ws->get<T>(0, 5 * C) : nullptr;
  if (sync) {
    if (!coefs) own_coefs.resize(static_cast<std::size_t>(5 * C)), coefs = own_coefs.data();
    // [M_r*sum(g) (C), M_r*sum(g*xhat) (C)] summed over the replicas, then divided by M_r: the
    // global sums of the weighted gradient w_q*g_q in this replica's units (w_q = M_q/M).
    std::vector<double> sums(static_cast<std::size_t>(2 * C));
    parallel_for(C, [&](std::int64_t c) {
      const auto i = static_cast<std::size_t>(c);
      local_sums(c, sums[i], sums[i + static_cast<std::size_t>(C)]);
      sums[i] *= static_cast<double>(M), sums[i + static_cast<std::size_t>(C)] *= static_cast<double>(M);
    });
    sync->sum(sums.data(), 2 * C);
    parallel_for(C, [&](std::int64_t c) {
      const auto i = static_cast<std::size_t>(c);
      coefficients(c, sums[i] / static_cast<double>(M), sums[i + static_cast<std::size_t>(C)] / static_cast<double>(M),
                   count, coefs + 5 * c);
    });
  } else if (coefs) {
    parallel_for(C, [&](std::int64_t c) { reduce_channel(c, coefs + 5 * c); });
  } else {
    parallel_for(C, [&](std::int64_t c) {
      T coef[5];
      reduce_channel(c, coef);
      for (std::int64_t n = 0; n < p.N; ++n) write_plane(n, c, coef);
    });
    return;
  }
  parallel_for(p.N * C, [&](std::int64_t nc) { write_plane(nc / C, nc % C, coefs + 5 * (nc % C)); });
}

// Compiled once where the program asks for it (kernels/instantiation.hpp).
#define MOODNET_BATCHNORM2D_KERNELS(prefix, T) \
  prefix template std::int64_t batchnorm2d_forward_train<T>(const BatchNorm2dParams&, const T*, const T*, const T*, \
      T*, T*, T*, T*, T*, BatchNormSync*); \
  prefix template void batchnorm2d_forward_eval<T>(const BatchNorm2dParams&, const T*, const T*, const T*, const T*, \
      const T*, T*); \
  prefix template void batchnorm2d_backward<T>(const BatchNorm2dParams&, const T*, const T*, const T*, const T*, \
      const T*, const T*, T*, T*, T*, Workspace*, BatchNormSync*, std::int64_t);
MOODNET_KERNEL_INSTANTIATIONS(MOODNET_BATCHNORM2D_KERNELS)

}  // namespace moodnet::kernels
