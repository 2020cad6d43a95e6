// Synchronised batchnorm over MPI (ctest: mpiexec -np 2): ranks on shards of a global batch,
// their BatchNorm2d statistics and backward sums reduced by MpiBatchNormSync, compute what one
// process computes on the whole batch: the kernels directly (plain and fused ReLU, with and
// without a workspace), and a small network trained a few SGD steps (double and float).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/core/hash.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/distributed/sync_batchnorm.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "shard_training.hpp"

using namespace moodnet;
using namespace moodnet::distributed;

namespace {

// max_i |a_i - b_i| / (1 + |b_i|): relative for large values, absolute near zero.
template <class T>
double sync_bn_worst(const T* a, const T* b, std::int64_t n) {
  Catch::StringMaker<double>::precision = 20;  // messages (and -s) show gaps of 1e-16, not 0.0
  double worst = 0;
  for (std::int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])) /
                                (1 + std::abs(static_cast<double>(b[i]))));
  return worst;
}

// conv BN ReLU (fused into one step by the plan's passes) conv BN (not fused: a pool follows)
// pool, linear: both BatchNorm2d paths of the plan, with the statistics over 11 items x 7x7 / 4x4.
template <class T>
Model<T> sync_bn_net(std::uint64_t seed) {
  auto net = std::make_unique<Sequential<T>>();
  net->template emplace<Conv2d<T>>(2, 4, 3, 1, 1);
  net->template emplace<BatchNorm2d<T>>(4);
  net->template emplace<Activation<T>>(ActivationKind::relu);
  net->template emplace<Conv2d<T>>(4, 6, 3, 2, 1);
  net->template emplace<BatchNorm2d<T>>(6);
  net->template emplace<GlobalAvgPool<T>>();
  net->template emplace<Flatten<T>>();
  net->template emplace<Linear<T>>(6, 3);
  return Model<T>(std::move(net), Shape{2, 7, 7}, seed);
}

// The worst difference of weights and batchnorm buffers between (a) 2 ranks on shards of a global
// batch of 11, synchronised or not, and (b) one process on the whole batch, after 4 SGD steps
// (shard_training.hpp).
template <class T>
double sync_bn_training_gap(bool synchronised) {
  const MpiSession& mpi = testing::session();
  DataParallel dp(mpi, 5);  // tiny buckets: several pieces per reduction
  MpiBatchNormSync sync(dp);
  const std::int64_t global = 11;  // odd: the shards differ in size (6 and 5)
  Model<T> ranks = sync_bn_net<T>(3), whole = sync_bn_net<T>(3);
  REQUIRE(set_batchnorm_sync(ranks.network(), synchronised ? &sync : nullptr) == 2);
  std::vector<BufferRef<T>> buffers;
  for (auto& b : ranks.named_buffers()) buffers.push_back(b.buffer);
  dp.broadcast_parameters(ranks.arena(), buffers);
  testing::train_sharded_and_whole(dp, ranks, whole, global, 2000, -1, 3);  // mean 1: not N(0, 1) statistics
  // Every rank holds the same weights (the optimizer steps are the same everywhere).
  CHECK_NOTHROW(dp.check_same("weights",
                              hex16(fnv1a_bytes(ranks.parameter_values().data(),
                                                static_cast<std::size_t>(ranks.num_parameters()) * sizeof(T)))));
  double worst = sync_bn_worst(ranks.parameter_values().data(), whole.parameter_values().data(), ranks.num_parameters());
  const auto rb = ranks.named_buffers(), wb = whole.named_buffers();
  for (std::size_t i = 0; i < rb.size(); ++i) {
    if (rb[i].buffer.counter) {
      CHECK(*rb[i].buffer.counter == *wb[i].buffer.counter);
      continue;
    }
    worst = std::max(worst, sync_bn_worst(rb[i].buffer.values.data(), wb[i].buffer.values.data(),
                                          rb[i].buffer.values.numel()));
  }
  return worst;
}

}  // namespace

TEST_CASE("Synchronised batchnorm kernels on shards compute the whole batch's forward and backward",
          "[distributed]") {
  const MpiSession& mpi = testing::session();
  REQUIRE(mpi.size() >= 2);
  DataParallel dp(mpi);
  MpiBatchNormSync sync(dp);
  namespace kn = moodnet::kernels;
  for (const bool fused : {false, true})
    for (const bool with_ws : {false, true}) {
      CAPTURE(fused, with_ws);
      kn::BatchNorm2dParams whole_p;
      whole_p.N = 7, whole_p.C = 3, whole_p.H = 5, whole_p.W = 3, whole_p.fuse_relu = fused;
      const std::int64_t C = whole_p.C, item = C * whole_p.H * whole_p.W;
      const Shard mine = dp.shard(whole_p.N);  // 4 and 3 items
      kn::BatchNorm2dParams p = whole_p;
      p.N = mine.size();
      // The same data on every rank; each rank also computes the whole batch on its own.
      Tensor<double> x({whole_p.N, C, whole_p.H, whole_p.W}), dy(x.shape()), gamma({C}), beta({C});
      fill_uniform(x.view(), 11, -2, 5), fill_uniform(dy.view(), 12, -1, 1);
      fill_uniform(gamma.view(), 13, 0.5, 1.5), fill_uniform(beta.view(), 14, -0.5, 0.5);
      Tensor<double> y_w(x.shape()), dx_w(x.shape()), mean_w({C}), rstd_w({C}), rm_w({C}), rv_w({C}), dg_w({C}),
          db_w({C});
      fill_uniform(rm_w.view(), 15, 0, 2), fill_uniform(rv_w.view(), 16, 0.5, 2);
      Tensor<double> rm(rm_w), rv(rv_w);  // the same running statistics everywhere (the shift)
      CHECK(kn::batchnorm2d_forward_train(whole_p, x.data(), gamma.data(), beta.data(), y_w.data(), mean_w.data(),
                                          rstd_w.data(), rm_w.data(), rv_w.data()) == whole_p.count());
      kn::batchnorm2d_backward(whole_p, x.data(), dy.data(), gamma.data(), beta.data(), mean_w.data(), rstd_w.data(),
                               dx_w.data(), dg_w.data(), db_w.data());

      // This rank's shard; its dy is the gradient of its own mean loss: whole-batch dy * N / N_r.
      const double up = static_cast<double>(whole_p.N) / static_cast<double>(p.N);
      Tensor<double> dy_r({p.N, C, p.H, p.W});
      for (std::int64_t i = 0; i < dy_r.numel(); ++i) dy_r[i] = dy[mine.begin * item + i] * up;
      Tensor<double> y(dy_r.shape()), dx(dy_r.shape()), mean({C}), rstd({C}), dg({C}), db({C});
      Workspace ws;
      const std::int64_t count = kn::batchnorm2d_forward_train(p, x.data() + mine.begin * item, gamma.data(),
                                                               beta.data(), y.data(), mean.data(), rstd.data(),
                                                               rm.data(), rv.data(), &sync);
      CHECK(count == whole_p.count());
      kn::batchnorm2d_backward(p, x.data() + mine.begin * item, dy_r.data(), gamma.data(), beta.data(), mean.data(),
                               rstd.data(), dx.data(), dg.data(), db.data(), with_ws ? &ws : nullptr, &sync, count);
      // Forward: the statistics and running statistics of the whole batch, and its output rows.
      CHECK(sync_bn_worst(mean.data(), mean_w.data(), C) < 1e-13);
      CHECK(sync_bn_worst(rstd.data(), rstd_w.data(), C) < 1e-13);
      CHECK(sync_bn_worst(rm.data(), rm_w.data(), C) < 1e-13);
      CHECK(sync_bn_worst(rv.data(), rv_w.data(), C) < 1e-13);
      CHECK(sync_bn_worst(y.data(), y_w.data() + mine.begin * item, y.numel()) < 1e-13);
      // Backward, in this rank's units: dx = whole-batch dx * N / N_r; dgamma and dbeta are this
      // rank's own sums, which the gradient averaging (weights N_r / N) adds up to the whole batch's.
      for (std::int64_t i = 0; i < dx.numel(); ++i) dx[i] /= up;
      CHECK(sync_bn_worst(dx.data(), dx_w.data() + mine.begin * item, dx.numel()) < 1e-12);
      for (std::int64_t c = 0; c < C; ++c) dg[c] /= up, db[c] /= up;
      dp.sum(dg.data(), C), dp.sum(db.data(), C);
      CHECK(sync_bn_worst(dg.data(), dg_w.data(), C) < 1e-12);
      CHECK(sync_bn_worst(db.data(), db_w.data(), C) < 1e-12);
    }
}

TEST_CASE("Synchronised batchnorm: 2 ranks on shards train a network to one process's weights", "[distributed]") {
  REQUIRE(testing::session().size() >= 2);
  // Double: only the order of the sums differs (two partial sums added instead of one running
  // sum, the forward's shift the running mean instead of the first value): relative 1e-12.
  CHECK(sync_bn_training_gap<double>(true) < 1e-12);
  // Without synchronisation each rank normalises with its own shard's statistics: far apart.
  CHECK(sync_bn_training_gap<double>(false) > 1e-4);
  // Float: the statistics are computed in double and rounded to float once, the same on both
  // paths up to that rounding; the per-element float arithmetic then differs by a few ulps,
  // which 4 steps of momentum SGD carry into the weights: below 1e-5 of (1 + |w|).
  CHECK(sync_bn_training_gap<float>(true) < 1e-5);
}
