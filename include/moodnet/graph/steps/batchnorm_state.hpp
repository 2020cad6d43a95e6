#pragma once
// BatchNormState<T>: views of one BatchNorm2d's parameters, gradients and running statistics, as a
// plan step (and a convolution that folds it) uses them. The module owns the storage.
#include <cstdint>

#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"

namespace moodnet::graph {

template <class T>
struct BatchNormState {
  TensorView<T> gamma, beta, dgamma, dbeta;   // [C]
  TensorView<T> running_mean, running_var;    // [C]
  std::int64_t* num_batches_tracked = nullptr;
  double eps = 1e-5, momentum = 0.1;
  // Synchronised batchnorm: the module's hook slot, read at every training forward, so a hook set
  // after a plan was compiled applies to it (null slot or null hook: this replica's batch alone).
  kernels::BatchNormSync* const* sync = nullptr;

  // The eval-mode map y = x*scale[c] + shift[c] from the running statistics.
  void eval_scale_shift(Tensor<T>& scale, Tensor<T>& shift) const {
    const std::int64_t C = gamma.numel();
    scale.resize({C});
    shift.resize({C});
    for (std::int64_t c = 0; c < C; ++c)
      kernels::batchnorm2d_eval_scale_shift(eps, gamma[c], beta[c], running_mean[c], running_var[c], scale.data()[c],
                                            shift.data()[c]);
  }
};

}  // namespace moodnet::graph
