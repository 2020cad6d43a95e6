// Data parallelism over MPI (run by ctest under `mpirun -np 2`): rank 0's weights reach every rank, and R ranks on shards of a global batch reach the weights of one
// process on the whole batch, the same bits on every rank.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/core/hash.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/distributed/data_parallel.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "shard_training.hpp"

using namespace moodnet;
using namespace moodnet::distributed;

namespace {

// No batchnorm: per-rank batch statistics would make the shards differ from the whole batch.
Model<double> small_net(std::uint64_t seed) {
  auto net = std::make_unique<Sequential<double>>();
  net->emplace<Conv2d<double>>(2, 4, 3, 1, 1);
  net->emplace<Activation<double>>(ActivationKind::relu);
  net->emplace<Conv2d<double>>(4, 6, 3, 2, 1);
  net->emplace<Activation<double>>(ActivationKind::relu);
  net->emplace<GlobalAvgPool<double>>();
  net->emplace<Flatten<double>>();
  net->emplace<Linear<double>>(6, 3);
  return Model<double>(std::move(net), Shape{2, 7, 7}, seed);
}

std::uint64_t hash_of(TensorView<const double> v) {
  return fnv1a_bytes(v.data(), static_cast<std::size_t>(v.numel()) * sizeof(double));
}

}  // namespace

TEST_CASE("Ranks on shards of a global batch reach the weights of one process on the whole batch", "[distributed]") {
  const MpiSession& mpi = testing::session();
  REQUIRE(mpi.size() >= 2);  // ctest runs this file under mpirun -np 2
  DataParallel dp(mpi, 7);   // a tiny bucket: several pieces per reduction
  const std::int64_t global = 11;  // odd: the shards differ in size

  Model<double> distributed = small_net(5), whole = small_net(5);
  // Another rank's initial weights differ until rank 0's are broadcast.
  if (mpi.rank() != 0) fill_uniform(distributed.parameter_values(), 99 + mpi.rank(), -1, 1);
  dp.broadcast_parameters(distributed.arena(), {});
  REQUIRE(hash_of(distributed.parameter_values()) == hash_of(whole.parameter_values()));

  testing::train_sharded_and_whole(dp, distributed, whole, global, 1000, -1, 1);
  // Within reassociation of the per-item gradient sums (two partial sums instead of one): relative
  // 1e-12 in double after 4 steps.
  const auto a = distributed.parameter_values(), b = whole.parameter_values();
  double worst = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]) / (1e-6 + std::abs(b[i])));
  CHECK(worst < 1e-12);
  bool moved = false;
  Model<double> fresh = small_net(5);
  const auto initial = fresh.parameter_values();
  for (std::int64_t i = 0; i < a.numel(); ++i) moved |= a[i] != initial[i];
  CHECK(moved);
  // And every rank holds the same bits.
  std::string h = std::to_string(hash_of(a));
  CHECK_NOTHROW(dp.check_same("weights", h));
}

TEST_CASE("Flags agree across ranks: any(), sum() and check_same() name the rank that differs", "[distributed]") {
  const MpiSession& mpi = testing::session();
  DataParallel dp(mpi);
  CHECK(dp.any(mpi.rank() == mpi.size() - 1));
  CHECK_FALSE(dp.any(false));
  double v[2] = {1.0, static_cast<double>(mpi.rank())};
  dp.sum(v, 2);
  CHECK(v[0] == mpi.size());
  CHECK(v[1] == mpi.size() * (mpi.size() - 1) / 2.0);
  CHECK_NOTHROW(dp.check_same("flags", "--lr 0.05"));
  // Every rank throws, so no rank waits for another in a later collective.
  CHECK_THROWS_WITH(dp.check_same("flags", mpi.rank() == 1 ? "--lr 0.1" : "--lr 0.05"),
                    Catch::Contains("flags of rank 1 do not match rank 0's"));
}
