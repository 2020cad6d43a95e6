// The trainer over MPI (run by ctest under `mpirun -np 2`): 2 ranks on shards of every global batch
// reach the weights one process reaches on the whole batch, for a registered network with dropout
// (CustomNet: Dropout(0.25) after every stage, Dropout(0.5) in the head) and synchronised batchnorm.
// That needs each item's dropout mask drawn at its position in the global batch (the loader's
// Batch::first_item, Model::set_step), which a model-level case checks first.
#include <catch2/catch.hpp>

#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "moodnet/core/shard.hpp"
#include "moodnet/distributed/mpi_training_group.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/models/model.hpp"
#include "../train/tiny_run.hpp"
#include "shard_training.hpp"

using namespace moodnet;
using namespace moodnet::distributed;

TEST_CASE("A model's dropout on a shard with its first item gives the whole batch's rows", "[distributed]") {
  const auto make = [] {
    auto net = std::make_unique<Sequential<double>>();
    net->emplace<Dropout<double>>(0.3);
    return Model<double>(std::move(net), Shape{3, 5, 7}, 11);
  };
  Model<double> whole_model = make(), shard_model = make();
  whole_model.train(), shard_model.train();
  const std::int64_t batch = 11, item = 3 * 5 * 7;
  Tensor<double> x({batch, 3, 5, 7});
  fill_uniform(x.view(), 12, 0.5, 1.5);  // no zeros: a dropped element is one the mask dropped
  std::int64_t differ = 0, unshifted_differ = 0;
  for (std::uint64_t step : {0u, 1u, 9u}) {
    whole_model.set_step(step);
    const TensorView<const double> y = whole_model.forward(x.view());
    for (int ranks : {2, 3}) {
      for (int r = 0; r < ranks; ++r) {
        const Shard s = shard_of(batch, r, ranks);
        for (bool with_first_item : {true, false}) {
          shard_model.set_step(step, with_first_item ? s.begin : 0);
          const TensorView<const double> ys = shard_model.forward(x.view().batch(s.begin, s.size()));
          for (std::int64_t i = 0; i < s.size() * item; ++i)
            (with_first_item ? differ : unshifted_differ) += ys[i] != y[s.begin * item + i];
        }
      }
    }
  }
  CHECK(differ == 0);  // the same bits
  // At the rank's own positions (the masks before first_item) a later shard's elements differ from
  // the whole batch's with probability 2 p (1 - p) = 42%: about 1,600 of its 3,780.
  CHECK(unshifted_differ > 1000);
}

namespace {

// The largest |a - b| / (1 + |b|) over the parameters and batchnorm buffers of two models.
double weights_gap(Model<float>& a, Model<float>& b) {
  double worst = 0;
  const auto gap = [&](TensorView<const float> x, TensorView<const float> y) {
    REQUIRE(x.numel() == y.numel());
    for (std::int64_t i = 0; i < x.numel(); ++i)
      worst = std::max(worst, std::abs(double(x[i]) - double(y[i])) / (1 + std::abs(double(y[i]))));
  };
  gap(a.parameter_values(), b.parameter_values());
  auto ba = a.named_buffers(), bb = b.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t k = 0; k < ba.size(); ++k)
    if (!ba[k].buffer.counter) gap(ba[k].buffer.values, bb[k].buffer.values);
  return worst;
}

// One data folder for both ranks (the ranks compare their settings, the data's path included):
// rank 0's, its name broadcast. `dir` holds it on rank 0 (removed with it).
std::filesystem::path shared_tiny_data(const MpiSession& mpi, std::optional<test::TempDir>& dir, const char* name) {
  char path[4096] = {};
  if (mpi.rank() == 0) {
    dir.emplace(name);
    test::write_tiny_run_data(*dir / "data");
    dir->path.string().copy(path, sizeof path - 1);
  }
  REQUIRE(MPI_Bcast(path, static_cast<int>(sizeof path), MPI_CHAR, 0, MPI_COMM_WORLD) == MPI_SUCCESS);  // data written
  return path;
}

// CustomNet w 8 on 20 images of 16x16, global batches of 7 (shards of 4 and 3; the epoch's last
// batch 6: 3 and 3), 5 steps over two epochs, augmentation and dropout on, one thread per rank.
train::TrainConfig five_steps_of_7(const std::filesystem::path& root, const char* out) {
  train::TrainConfig c = test::tiny_run_config(root / "data", root / out);
  c.batch_size = 7;
  c.max_steps = 5;
  return c;
}

// `gap()` on rank 0, its value on every rank: -1 when it threw there (rank 0 then rethrows), so
// that neither rank waits forever for the other.
template <class Gap>
double rank0_gap(const MpiSession& mpi, Gap&& gap) {
  double worst = -1;
  if (mpi.rank() == 0) try {
    worst = gap();
  } catch (...) {
    worst = -1;
    MPI_Bcast(&worst, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    throw;
  }
  REQUIRE(MPI_Bcast(&worst, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD) == MPI_SUCCESS);
  return worst;
}

}  // namespace

TEST_CASE("2 trainer ranks on half batches reach the weights of 1 process on the whole batch (dropout, sync-bn)",
          "[distributed]") {
  const MpiSession& mpi = testing::session();
  REQUIRE(mpi.size() == 2);
  std::optional<test::TempDir> dir;
  const std::filesystem::path root = shared_tiny_data(mpi, dir, "trainer-equivalence");

  train::TrainConfig c = five_steps_of_7(root, "ranks");
  c.sync_bn = true;
  std::ostringstream log;
  MpiTrainingGroup group(mpi);
  const train::TrainResult ranks = train::Trainer(c, log, &group).run();
  CHECK(ranks.stopped_early);

  const double worst = rank0_gap(mpi, [&] {
    train::TrainConfig w = c;
    w.out = (root / "whole").string();
    w.sync_bn = false;  // one process: the whole batch's statistics anyway
    std::ostringstream whole_log;
    const train::TrainResult whole = train::Trainer(w, whole_log).run();
    CHECK(whole.stopped_early);
    INFO(log.str() << whole_log.str());
    const std::string ranks_weights = (root / "ranks" / "last.safetensors").string();
    Model<float> a = io::load_model<float>(ranks_weights);
    Model<float> b = io::load_model<float>((root / "whole" / "last.safetensors").string());
    // The trainer's start (its model's seed is the run's): 5 steps move the weights far past the tolerance.
    Model<float> initial = io::make_model<float>(io::read_weights_metadata(ranks_weights), c.seed);
    CHECK(weights_gap(a, initial) > 1e-3);
    return weights_gap(a, b);
  });
  // The float gradient sum reassociated (each rank sums its shard, the allreduce adds the two
  // weighted partial sums) and synchronised batchnorm's statistics reduced in double with a shift:
  // ulps per step, which 5 steps of SGD with momentum carry into the weights.
  INFO("largest |w_ranks - w_whole| / (1 + |w_whole|) = " << worst);
  CHECK(worst >= 0);
  CHECK(worst < 1e-5);
}

TEST_CASE("2 trainer ranks with --overlap-allreduce write the blocking average's weights, bit for bit", "[distributed]") {
  const MpiSession& mpi = testing::session();
  REQUIRE(mpi.size() == 2);
  std::optional<test::TempDir> dir;
  const std::filesystem::path root = shared_tiny_data(mpi, dir, "trainer-overlap");
  train::TrainConfig c = five_steps_of_7(root, "blocking");
  std::ostringstream log;
  MpiTrainingGroup group(mpi);
  CHECK(train::Trainer(c, log, &group).run().stopped_early);
  c.out = (root / "overlapped").string();
  c.overlap_allreduce = true;
  CHECK(train::Trainer(c, log, &group).run().stopped_early);
  INFO(log.str());
  if (mpi.rank() == 0) CHECK(log.str().find("overlapped with the backward pass") != std::string::npos);  // rank 0 logs
  const double worst = rank0_gap(mpi, [&] {
    Model<float> a = io::load_model<float>((root / "blocking" / "last.safetensors").string());
    Model<float> b = io::load_model<float>((root / "overlapped" / "last.safetensors").string());
    return weights_gap(a, b);
  });
  CHECK(worst == 0);  // each element's sum is a + b either way on 2 ranks
}
