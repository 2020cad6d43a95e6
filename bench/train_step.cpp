// Whole-network benchmark with the definitions of ../shared/reference/bench_pytorch.py: batch 64,
// float32, one training step = forward + cross-entropy + backward + SGD(momentum 0.9) update, and
// one inference pass (eval mode), for MobileNetV1-48 (alpha 1, 0.5) and CustomNet-48 (w 64, 32).
// Counter `images_per_s` per benchmark; the reported time is the median over repetitions when run
// with --benchmark_repetitions (bench/compare_pytorch.py does).
//
// Threads: MOODNET_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/registry.hpp"
#include "moodnet/optim/optimizer.hpp"

namespace {

using namespace moodnet;

constexpr std::int64_t kBatch = 64;

int bench_threads() {
  const char* env = std::getenv("MOODNET_BENCH_THREADS");
  return env ? std::atoi(env) : 2;
}

// The registered model `net` with size argument `key` = `value` (models/registry.hpp), seed 0.
Model<float> build(const std::string& net, const std::string& key, double value) {
  ModelSpec spec;
  spec.size = {{key, value}};
  return build_model<float>(net, spec);
}

struct Inputs {
  Tensor<float> x{Shape{kBatch, 1, 48, 48}};
  std::vector<std::int32_t> y;
  Inputs() {
    fill_normal(x.view(), 1, 0.0, 1.0);
    Rng r(2);
    for (std::int64_t i = 0; i < kBatch; ++i) y.push_back(static_cast<std::int32_t>(r.uniform_int(7)));
  }
};

void train_step(benchmark::State& state, const std::string& net, const std::string& key, double value) {
  set_num_threads(bench_threads());
  Model<float> model = build(net, key, value);
  OptimizerConfig oc;
  oc.kind = OptimizerKind::sgd, oc.lr = 0.01, oc.momentum = 0.9, oc.nesterov = false, oc.weight_decay = 0;
  oc.decay_norm_and_bias = true;
  Optimizer<float> opt(model, oc);
  CrossEntropyLoss<float> loss;
  const Inputs in;
  model.train();
  std::uint64_t step = 0;
  for (auto _ : state) {
    model.set_step(step++);
    model.zero_grad();
    const double l = loss.forward_backward(model.forward(in.x), in.y.data());
    model.backward(loss.gradient());
    opt.step();
    benchmark::DoNotOptimize(l);
  }
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = num_threads();
}

void inference(benchmark::State& state, const std::string& net, const std::string& key, double value) {
  set_num_threads(bench_threads());
  Model<float> model = build(net, key, value);
  const Inputs in;
  model.eval();
  for (auto _ : state) {
    const TensorView<const float> logits = model.forward(in.x);
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = num_threads();
}

// Names follow bench_pytorch.py's config tags: mobilenet_alpha1, customnet_w32, ...
#define MOODNET_NET_BENCH(tag, net, key, value)                                                            \
  BENCHMARK_CAPTURE(train_step, tag, net, key, value)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5); \
  BENCHMARK_CAPTURE(inference, tag, net, key, value)->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5)

MOODNET_NET_BENCH(mobilenet_alpha1, "mobilenet", "alpha", 1.0);
MOODNET_NET_BENCH(mobilenet_alpha0.5, "mobilenet", "alpha", 0.5);
MOODNET_NET_BENCH(customnet_w64, "customnet", "w", 64);
MOODNET_NET_BENCH(customnet_w32, "customnet", "w", 32);

}  // namespace

BENCHMARK_MAIN();
