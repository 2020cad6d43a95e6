// Gradient averaging overlapped with the backward pass (distributed/overlapped_gradients.hpp), run by
// ctest under `mpirun -np 2`: for bucket sizes from one element to the whole arena, a residual
// network (projection shortcut, grouped convolution, batchnorm, groupnorm, dropout) trained on each
// rank's shard with the overlapped average holds, after every step, the same bits as with
// DataParallel::average_gradients (on 2 ranks each element's sum is a + b either way), and buckets
// start while the pass still has parameter gradients to compute.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "../support/nets.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/distributed/data_parallel.hpp"
#include "moodnet/distributed/overlapped_gradients.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "shard_training.hpp"

using namespace moodnet;
using namespace moodnet::distributed;

TEST_CASE("Overlapped gradient averaging gives the blocking average's bits, for any bucket size", "[distributed]") {
  const MpiSession& mpi = testing::session();
  REQUIRE(mpi.size() == 2);
  const std::int64_t global = 9;  // shards of 5 and 4
  const Shard mine = shard_of(global, mpi.rank(), mpi.size());
  for (std::int64_t bucket : {std::int64_t(1), std::int64_t(7), std::int64_t(300), std::int64_t(1) << 30}) {
    INFO("bucket of " << bucket << " elements");
    DataParallel blocking(mpi, bucket);
    OverlappedGradientAverage<float> overlapped(mpi, bucket);
    Model<float> a(test::small_resnet<float>(), Shape{1, 12, 12}, 3), b(test::small_resnet<float>(), Shape{1, 12, 12}, 3);
    OptimizerConfig oc;
    oc.name = "sgd", oc.lr = 0.1, oc.momentum = 0.9, oc.weight_decay = 1e-3;
    Optimizer<float> opt_a(a.arena(), oc), opt_b(b.arena(), oc);
    CrossEntropyLoss<float> loss_a(0.1), loss_b(0.1);
    a.train(), b.train();
    for (int step = 0; step < 3; ++step) {
      Tensor<float> x(a.batch_shape(global));
      fill_uniform(x.view(), 40 + static_cast<std::uint64_t>(step), -1, 1);
      std::vector<std::int32_t> labels;
      for (std::int64_t i = 0; i < global; ++i) labels.push_back(static_cast<std::int32_t>((i * 3 + step) % 7));
      const TensorView<const float> shard = x.view().batch(mine.begin, mine.size());

      a.set_step(static_cast<std::uint64_t>(step), mine.begin), b.set_step(static_cast<std::uint64_t>(step), mine.begin);
      a.zero_grad(), b.zero_grad();
      loss_a.forward_backward(a.forward(shard), labels.data() + mine.begin);
      a.backward(loss_a.gradient());
      blocking.average_gradients(a.parameter_grads(), mine.size(), global);

      loss_b.forward_backward(b.forward(shard), labels.data() + mine.begin);
      overlapped.begin(b.parameter_grads(), mine.size(), global);
      b.backward(loss_b.gradient(), &overlapped);
      overlapped.finish();

      const TensorView<const float> ga = a.parameter_grads(), gb = b.parameter_grads();
      std::int64_t differ = 0;
      for (std::int64_t i = 0; i < ga.numel(); ++i) differ += ga[i] != gb[i];
      CHECK(differ == 0);
      const std::int64_t buckets = (ga.numel() + bucket - 1) / bucket;
      CHECK(overlapped.buckets() == buckets);
      if (buckets == 1) {
        CHECK(overlapped.overlapped() == 0);  // the one bucket needs the first layer's gradients too
      } else {
        CHECK(overlapped.overlapped() > 0);
        CHECK(overlapped.overlapped() < buckets);  // the first convolution's bucket waits for the last step
      }
      opt_a.step(), opt_b.step();
    }
    const TensorView<const float> wa = a.parameter_values(), wb = b.parameter_values();
    std::int64_t differ = 0;
    for (std::int64_t i = 0; i < wa.numel(); ++i) differ += wa[i] != wb[i];
    CHECK(differ == 0);
    CHECK(overlapped.seconds() > 0);
  }
}

TEST_CASE("Overlapped averaging refuses a second begin before finish and a bad share of the batch", "[distributed]") {
  const MpiSession& mpi = testing::session();
  OverlappedGradientAverage<float> overlapped(mpi, 16);
  Tensor<float> g({40});
  CHECK_THROWS_WITH(overlapped.begin(g.view(), 5, 4), Catch::Contains("local 5 of global 4 items"));
  CHECK_THROWS_WITH(OverlappedGradientAverage<float>(mpi, 0), Catch::Contains("bucket size must be >= 1, got 0"));
  overlapped.begin(g.view(), 2, 4);
  CHECK_THROWS_WITH(overlapped.begin(g.view(), 2, 4), Catch::Contains("begin() again before the last pass's finish()"));
  overlapped.finish();  // no pass: every bucket started at the end, in the same order on every rank
  for (std::int64_t i = 0; i < g.numel(); ++i) REQUIRE(g[i] == 0.0f);
  CHECK(overlapped.overlapped() == 0);
}
