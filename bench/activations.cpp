// ReLU forward and backward on the real activation shapes (batch 64, 2 threads;
// $MOODNET_BENCH_THREADS overrides). GB/s counts bytes read + written once.
//   bench_activations --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/activations.hpp"
#include "moodnet/kernels/ref/activations.hpp"
#include "shapes.hpp"

using namespace moodnet;

namespace {

int bench_threads() {
  const char* e = std::getenv("MOODNET_BENCH_THREADS");
  return e ? std::atoi(e) : 2;
}

void relu(benchmark::State& state, const bench::LayerShape& s, bool backward) {
  set_num_threads(bench_threads());
  const std::int64_t n = std::int64_t(bench::kBatch) * s.cin * (s.h ? s.h * s.w : 1);
  const kernels::ActivationParams p{n};
  Tensor<float> x({n}), y({n}), dy({n}), dx({n}), y_ref({n}), dx_ref({n});
  fill_uniform(x.view(), 1, -1, 1);
  fill_uniform(dy.view(), 2, -1, 1);
  kernels::relu_forward(p, x.data(), y.data());
  kernels::ref::relu_forward(p, x.data(), y_ref.data());
  kernels::relu_backward(p, y.data(), dy.data(), dx.data());
  kernels::ref::relu_backward(p, y_ref.data(), dy.data(), dx_ref.data());
  for (std::int64_t i = 0; i < n; ++i)
    if (y[i] != y_ref[i] || dx[i] != dx_ref[i]) throw std::runtime_error("relu disagrees with ref:: on " + s.name());
  for (auto _ : state) {
    if (backward)
      kernels::relu_backward(p, y.data(), dy.data(), dx.data());
    else
      kernels::relu_forward(p, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = 4.0 * double(n) * (backward ? 3 : 2);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const int registered = [] {
  for (const auto& s : bench::layer_shapes(bench::LayerKind::relu))
    for (bool bwd : {false, true})
      benchmark::RegisterBenchmark((std::string(bwd ? "bwd/" : "fwd/") + s.name() + " [" + s.used_by + "]").c_str(),
                                   [s, bwd](benchmark::State& st) { relu(st, s, bwd); })
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
