// Whole-network benchmark with the definitions of ../shared/reference/bench_pytorch.py: batch 64,
// float32, one training step = forward + cross-entropy + backward + SGD(momentum 0.9) update, and
// one inference pass (eval mode), for MobileNetV1-48 (alpha 1, 0.5), CustomNet-48 (w 64, 32), ResNet-48
// (ResNet-10-48 w 32, ResNet-18-48 w 24) and ResNeXt-48 8x4d (w 64, 2 blocks).
// Counter `images_per_s` per benchmark; the reported time is the median over repetitions when run
// with --benchmark_repetitions (bench/compare_pytorch.py does).
//
// Threads: MOODNET_BENCH_THREADS (default 2). MOODNET_BENCH_WINOGRAD=measured: the dense 3x3
// layers run Winograd where it measured faster (graph/conv_algorithm.hpp; one table for the whole
// process, so each shape is measured once, before the first untimed step). MOODNET_BENCH_PRECISION=bf16:
// the convolutions' matrix products in bf16 on AMX (kernels/matmul_precision.hpp; not with Winograd).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/kernels/matmul_precision.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/registry.hpp"
#include "moodnet/optim/optimizer.hpp"

namespace {

using namespace moodnet;

constexpr std::int64_t kBatch = 64;
constexpr int kUntimedSteps = 2;  // per Model, before the timed iterations

int bench_threads() {
  const char* env = std::getenv("MOODNET_BENCH_THREADS");
  return env ? std::atoi(env) : 2;
}

// The registered model `net` with these size arguments (models/registry.hpp; the others take their
// defaults), seed 0.
// MOODNET_BENCH_WINOGRAD=measured: the process's one table (null when off).
const std::shared_ptr<graph::ConvAlgorithmTable>& winograd_table() {
  static const auto table = [] {
    const char* env = std::getenv("MOODNET_BENCH_WINOGRAD");
    if (!env || std::string(env) == "off") return std::shared_ptr<graph::ConvAlgorithmTable>();
    if (std::string(env) != "measured") fail("MOODNET_BENCH_WINOGRAD must be off or measured, got '", env, "'");
    return std::make_shared<graph::ConvAlgorithmTable>(graph::ConvAlgorithmTable::Policy::measured);
  }();
  return table;
}

Model<float> build(const std::string& net, const SizeArgs& size) {
  ModelSpec spec;
  spec.size = size;
  Model<float> m = build_model<float>(net, spec);
  m.set_conv_algorithms(winograd_table());
  return m;
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

void train_step(benchmark::State& state, const std::string& net, const SizeArgs& size) {
  set_num_threads(bench_threads());
  Model<float> model = build(net, size);
  OptimizerConfig oc;
  oc.name = "sgd", oc.lr = 0.01, oc.momentum = 0.9, oc.nesterov = false, oc.weight_decay = 0;
  oc.decay_norm_and_bias = true;
  Optimizer<float> opt(model.arena(), oc);
  CrossEntropyLoss<float> loss;
  const Inputs in;
  model.train();
  std::uint64_t step = 0;
  auto one_step = [&] {
    model.set_step(step++);
    model.zero_grad();
    const double l = loss.forward_backward(model.forward(in.x), in.y.data());
    model.backward(loss.gradient());
    opt.step();
    benchmark::DoNotOptimize(l);
  };
  // Untimed steps first: Google Benchmark's warm-up runs this function on another Model, so without
  // them a measurement of one iteration (the slow networks) timed the plan's compilation and the
  // first touch of its activation arena (ResNeXt-48: 900 MiB, 0.4 s of page faults), not a step.
  for (int i = 0; i < kUntimedSteps; ++i) one_step();
  for (auto _ : state) one_step();
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = num_threads();
}

void inference(benchmark::State& state, const std::string& net, const SizeArgs& size) {
  set_num_threads(bench_threads());
  Model<float> model = build(net, size);
  const Inputs in;
  model.eval();
  for (int i = 0; i < kUntimedSteps; ++i) benchmark::DoNotOptimize(model.forward(in.x).data());  // as train_step
  for (auto _ : state) {
    const TensorView<const float> logits = model.forward(in.x);
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(kBatch), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["threads"] = num_threads();
}

// Names follow bench_pytorch.py's config tags (name + "_" + key value pairs in the order given):
// mobilenet_alpha1, customnet_w32, resnet_w32_blocks1, ... The size arguments follow the name.
#define MOODNET_NET_BENCH(tag, net, ...)                                                                         \
  BENCHMARK_CAPTURE(train_step, tag, net, SizeArgs{__VA_ARGS__})->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5); \
  BENCHMARK_CAPTURE(inference, tag, net, SizeArgs{__VA_ARGS__})->Unit(benchmark::kMillisecond)->UseRealTime()->MinWarmUpTime(0.5)

MOODNET_NET_BENCH(mobilenet_alpha1, "mobilenet", {"alpha", 1.0});
MOODNET_NET_BENCH(mobilenet_alpha0.5, "mobilenet", {"alpha", 0.5});
MOODNET_NET_BENCH(customnet_w64, "customnet", {"w", 64});
MOODNET_NET_BENCH(customnet_w32, "customnet", {"w", 32});
// The residual networks (issue 14): ResNet-10-48 w32, ResNet-18-48 w24, ResNeXt-48 8x4d.
MOODNET_NET_BENCH(resnet_w32_blocks1, "resnet", {"w", 32}, {"blocks", 1});
MOODNET_NET_BENCH(resnet_w24_blocks2, "resnet", {"w", 24}, {"blocks", 2});
MOODNET_NET_BENCH(resnext_cardinality8_group_width4_w64_blocks2, "resnext", {"cardinality", 8}, {"group_width", 4},
                  {"w", 64}, {"blocks", 2});

}  // namespace

// Google Benchmark's main, then what MOODNET_BENCH_WINOGRAD=measured measured (stderr: the
// benchmark's own output stays machine-readable).
int main(int argc, char** argv) try {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const char* precision = std::getenv("MOODNET_BENCH_PRECISION");
  const kernels::MatmulPrecision p = kernels::parse_matmul_precision(precision ? precision : "fp32");
  if (p != kernels::MatmulPrecision::fp32 && winograd_table())
    fail("MOODNET_BENCH_PRECISION=bf16 runs the 3x3 layers on AMX, not Winograd: unset MOODNET_BENCH_WINOGRAD");
  kernels::set_matmul_precision(p);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (const auto& table = winograd_table())
    for (const auto& m : table->measurements()) std::fprintf(stderr, "%s\n", graph::format_conv_measurement(m).c_str());
  return 0;
} catch (const moodnet::Error& e) {
  std::fprintf(stderr, "train_step: %s\n", e.what());
  return 2;
}
