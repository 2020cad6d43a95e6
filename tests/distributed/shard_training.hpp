#pragma once
// What the distributed tests share: the MPI session, and their training run, two ways on every
// rank: `ranks` on this rank's shard of every global batch (its gradients averaged over the ranks),
// `whole` on the whole batch in this process. SGD with momentum, Nesterov and weight decay, 4 steps,
// a fresh global batch each step (inputs uniform in [lo, hi), 3 classes), the same on every rank.
#include <cstdint>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/distributed/data_parallel.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/optim/optimizer.hpp"

namespace moodnet::distributed::testing {

inline const MpiSession& session() {
  static int argc = 0;
  static char** argv = nullptr;
  static MpiSession s(argc, argv);  // MPI is already initialised by mpi_main.cpp: this only reads rank/size
  return s;
}

template <class T>
void train_sharded_and_whole(const DataParallel& dp, Model<T>& ranks, Model<T>& whole, std::int64_t global,
                             std::uint64_t data_seed, double lo, double hi) {
  OptimizerConfig oc;
  oc.name = "sgd", oc.lr = 0.1, oc.momentum = 0.9, oc.nesterov = true, oc.weight_decay = 1e-3;
  Optimizer<T> opt_r(ranks.arena(), oc), opt_w(whole.arena(), oc);
  CrossEntropyLoss<T> loss_r(0.1), loss_w(0.1);
  ranks.train(), whole.train();
  const Shard mine = dp.shard(global);
  for (int step = 0; step < 4; ++step) {
    Tensor<T> x(ranks.batch_shape(global));
    fill_uniform(x.view(), data_seed + static_cast<std::uint64_t>(step), lo, hi);
    std::vector<std::int32_t> labels;
    for (std::int64_t i = 0; i < global; ++i) labels.push_back(static_cast<std::int32_t>((i * 7 + step) % 3));

    ranks.zero_grad();
    loss_r.forward_backward(ranks.forward(x.view().batch(mine.begin, mine.size())), labels.data() + mine.begin);
    ranks.backward(loss_r.gradient());
    dp.average_gradients(ranks.parameter_grads(), mine.size(), global);
    opt_r.step();

    whole.zero_grad();
    loss_w.forward_backward(whole.forward(x.view()), labels.data());
    whole.backward(loss_w.gradient());
    opt_w.step();
  }
}

}  // namespace moodnet::distributed::testing
