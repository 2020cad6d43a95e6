#pragma once
// Optimizer updates as flat loops over (a contiguous range of) the parameter arena, with the
// semantics of torch.optim (SGD, Adam, AdamW; amsgrad=False, maximize=False), plus gradient
// clipping helpers.
//
// Layout: param, grad and every state buffer are flat arrays of n elements at the same arena
// positions. The caller calls once per contiguous range with that range's weight decay (0 for
// norm parameters and biases). The step counter `step` (t = 1, 2, ...) lives in the params struct:
// the optimizer object advances it ONCE per optimizer step, not per tensor or range.
//
// Every update is element-wise, so splitting [0, n) across threads cannot change a result: they
// are bit-identical for any thread count. Arithmetic is in T (like PyTorch's float path); the
// per-step scalars (bias corrections, step sizes) are computed in double and rounded once.
#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/activations.hpp"  // detail::eltwise_for: serial below 32K elements, else parallel chunks
#include "moodnet/kernels/norm_detail.hpp"
#include "moodnet/kernels/instantiation.hpp"

namespace moodnet::kernels {

// torch.optim.SGD(lr, momentum, dampening=0, weight_decay, nesterov):
//   g = grad + wd*p                                      (L2 decay added to the gradient)
//   if momentum != 0:  buf = g on the first step (step == 1), else buf = momentum*buf + g
//                      g = g + momentum*buf  if nesterov,  else g = buf
//   p -= lr*g
struct SgdParams {
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  std::int64_t step = 1;  // 1 on the first step: initialises the momentum buffer as in PyTorch

  void validate() const {
    MOODNET_CHECK(lr >= 0 && std::isfinite(lr), "sgd: lr=", lr, " must be >= 0");
    MOODNET_CHECK(momentum >= 0 && momentum < 1, "sgd: momentum=", momentum, " must be in [0, 1)");
    MOODNET_CHECK(weight_decay >= 0, "sgd: weight_decay=", weight_decay, " must be >= 0");
    MOODNET_CHECK(!nesterov || momentum > 0, "sgd: nesterov needs momentum > 0, got momentum=", momentum);
    MOODNET_CHECK(step >= 1, "sgd: step=", step, " must be >= 1");
  }
};

// grad: [n]  ->  param: [n] (updated)  momentum_buf: [n] (updated; may be null when momentum == 0)
template <class T>
void sgd_update(const SgdParams& p, const T* grad, T* param, T* momentum_buf, std::int64_t n) {
  p.validate();
  MOODNET_CHECK(p.momentum == 0 || momentum_buf != nullptr, "sgd: momentum=", p.momentum, " needs a momentum buffer");
  const T lr = static_cast<T>(p.lr), mu = static_cast<T>(p.momentum), wd = static_cast<T>(p.weight_decay);
  const bool first = p.step == 1, nesterov = p.nesterov, use_mom = p.momentum != 0;
  detail::eltwise_for(n, [=](std::int64_t b, std::int64_t e) {
    if (!use_mom) {
      for (std::int64_t i = b; i < e; ++i) param[i] -= lr * (grad[i] + wd * param[i]);
      return;
    }
    for (std::int64_t i = b; i < e; ++i) {
      T g = grad[i] + wd * param[i];
      const T buf = first ? g : mu * momentum_buf[i] + g;
      momentum_buf[i] = buf;
      g = nesterov ? g + mu * buf : buf;
      param[i] -= lr * g;
    }
  });
}

// torch.optim.Adam(lr, betas=(beta1, beta2), eps, weight_decay)  and  torch.optim.AdamW (same
// fields; weight decay decoupled):
//   Adam:   g = grad + wd*p                             (L2 decay added to the gradient)
//   AdamW:  p = p*(1 - lr*wd);  g = grad                (decoupled decay, applied first)
//   m = beta1*m + (1-beta1)*g          v = beta2*v + (1-beta2)*g^2
//   mhat = m/(1-beta1^t)               vhat = v/(1-beta2^t)          (t = step, from 1)
//   p -= lr * mhat / (sqrt(vhat) + eps)
// computed, like PyTorch, as  p -= (lr/bc1) * m / (sqrt(v)/sqrt(bc2) + eps).
struct AdamParams {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  std::int64_t step = 1;  // t >= 1: the number of optimizer steps taken including this one

  void validate() const {
    MOODNET_CHECK(lr >= 0 && std::isfinite(lr), "adam: lr=", lr, " must be >= 0");
    MOODNET_CHECK(beta1 >= 0 && beta1 < 1, "adam: beta1=", beta1, " must be in [0, 1)");
    MOODNET_CHECK(beta2 >= 0 && beta2 < 1, "adam: beta2=", beta2, " must be in [0, 1)");
    MOODNET_CHECK(eps >= 0, "adam: eps=", eps, " must be >= 0");
    MOODNET_CHECK(weight_decay >= 0, "adam: weight_decay=", weight_decay, " must be >= 0");
    MOODNET_CHECK(step >= 1, "adam: step=", step, " must be >= 1");
  }
};

namespace detail {
template <class T>
inline void adam_like_update(const AdamParams& p, bool decoupled, const T* grad, T* param, T* m, T* v,
                             std::int64_t n) {
  p.validate();
  const double t = static_cast<double>(p.step);
  const double bc1 = 1 - std::pow(p.beta1, t), bc2 = 1 - std::pow(p.beta2, t);
  const T b2 = static_cast<T>(p.beta2);
  const T one_b1 = static_cast<T>(1 - p.beta1), one_b2 = static_cast<T>(1 - p.beta2);
  const T step_size = static_cast<T>(p.lr / bc1), sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
  const T eps = static_cast<T>(p.eps);
  const T l2 = decoupled ? T(0) : static_cast<T>(p.weight_decay);
  const T keep = decoupled ? static_cast<T>(1 - p.lr * p.weight_decay) : T(1);
  // Blocks of kBlock elements (L1-resident): the element-wise part, then sqrt(v) through Eigen's
  // packet math (a plain std::sqrt loop stays scalar under GCC's default -fmath-errno), then the
  // parameter step. Results do not depend on the blocking: every element is independent.
  constexpr std::int64_t kBlock = 512;
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  // Scalars captured by value: by reference, every store to a T array could alias them.
  eltwise_for(n, [=](std::int64_t b, std::int64_t e) {
    alignas(64) T root[kBlock];
    for (std::int64_t b0 = b; b0 < e; b0 += kBlock) {
      const std::int64_t len = std::min(kBlock, e - b0);
      T* pp = param + b0;
      T* mm = m + b0;
      T* vv = v + b0;
      const T* gg = grad + b0;
      for (std::int64_t i = 0; i < len; ++i) {
        const T pi = pp[i] * keep;
        const T g = gg[i] + l2 * pi;
        mm[i] = mm[i] + one_b1 * (g - mm[i]);  // PyTorch's lerp(m, g, 1-beta1)
        vv[i] = b2 * vv[i] + one_b2 * g * g;
        pp[i] = pi;
      }
      Eigen::Map<Array>(root, len) = Eigen::Map<const Array>(vv, len).sqrt();
      for (std::int64_t i = 0; i < len; ++i) pp[i] -= step_size * mm[i] / (root[i] / sqrt_bc2 + eps);
    }
  });
}
}  // namespace detail

// Adam with L2 weight decay.  grad: [n]  ->  param, m, v: [n] (updated; m, v start at 0)
template <class T>
void adam_update(const AdamParams& p, const T* grad, T* param, T* m, T* v, std::int64_t n) {
  detail::adam_like_update(p, false, grad, param, m, v, n);
}

// AdamW (decoupled weight decay).  grad: [n]  ->  param, m, v: [n] (updated; m, v start at 0)
template <class T>
void adamw_update(const AdamParams& p, const T* grad, T* param, T* m, T* v, std::int64_t n) {
  detail::adam_like_update(p, true, grad, param, m, v, n);
}

// Gradient clipping, deterministic: the buffer is cut into fixed chunks of kNormChunk elements
// (boundaries independent of the thread count), each chunk's sum of squares is accumulated in
// double (8 lanes, fixed order), and the chunk sums are added in chunk order.
inline constexpr std::int64_t kNormChunk = 1 << 14;

// sqrt(sum x^2) over x: [n].  ws: scratch, slot 0 holds ceil(n / kNormChunk) doubles.
template <class T>
inline double global_l2_norm(const T* x, std::int64_t n, Workspace& ws) {
  MOODNET_CHECK(n >= 0, "global_l2_norm: n=", n, " must be >= 0");
  const std::int64_t chunks = (n + kNormChunk - 1) / kNormChunk;
  ws.reserve_slots(1);
  double* part = ws.get<double>(0, chunks);
  auto chunk_sum = [&](std::int64_t c) {
    const std::int64_t b = c * kNormChunk;
    part[c] = detail::sum_of_squares(x + b, std::min(kNormChunk, n - b));
  };
  if (chunks > 1)
    parallel_for(chunks, chunk_sum);
  else if (chunks == 1)
    chunk_sum(0);
  double s = 0;
  for (std::int64_t c = 0; c < chunks; ++c) s += part[c];
  return std::sqrt(s);
}

// x *= s over x: [n].
template <class T>
inline void scale_in_place(T* x, std::int64_t n, double s) {
  const T st = static_cast<T>(s);
  detail::eltwise_for(n, [=](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) x[i] *= st;
  });
}

// torch.nn.utils.clip_grad_norm_(max_norm, norm_type=2) on one buffer: when the global norm exceeds
// max_norm, scales by max_norm / (norm + 1e-6). Returns the norm before clipping.
template <class T>
double clip_grad_norm(T* grad, std::int64_t n, double max_norm, Workspace& ws) {
  MOODNET_CHECK(max_norm > 0, "clip_grad_norm: max_norm=", max_norm, " must be > 0");
  const double norm = global_l2_norm(grad, n, ws);
  const double coef = max_norm / (norm + 1e-6);
  if (coef < 1) scale_in_place(grad, n, coef);
  return norm;
}

// Compiled once where the program asks for it (kernels/instantiation.hpp).
#define MOODNET_OPTIMIZER_UPDATE_KERNELS(prefix, T) \
  prefix template void sgd_update<T>(const SgdParams&, const T*, T*, T*, std::int64_t); \
  prefix template void adam_update<T>(const AdamParams&, const T*, T*, T*, T*, std::int64_t); \
  prefix template void adamw_update<T>(const AdamParams&, const T*, T*, T*, T*, std::int64_t); \
  prefix template double clip_grad_norm<T>(T*, std::int64_t, double, Workspace&);
MOODNET_KERNEL_INSTANTIATIONS(MOODNET_OPTIMIZER_UPDATE_KERNELS)

}  // namespace moodnet::kernels
