// Dropout (training mode) forward — mask drawn + applied — and backward on the real shapes,
// batch 64, 2 threads ($MOODNET_BENCH_THREADS overrides). GB/s counts bytes read + written once.
//   bench_dropout --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/dropout.hpp"
#include "moodnet/kernels/ref/dropout.hpp"
#include "shapes.hpp"

using namespace moodnet;

namespace {

int bench_threads() {
  const char* e = std::getenv("MOODNET_BENCH_THREADS");
  return e ? std::atoi(e) : 2;
}

void dropout(benchmark::State& state, const bench::LayerShape& s, bool backward) {
  set_num_threads(bench_threads());
  const std::int64_t n = std::int64_t(bench::kBatch) * s.cin * (s.h ? s.h * s.w : 1);
  kernels::DropoutParams p{n, s.p, true, 42};
  Tensor<float> x({n}), y({n}), dy({n}), dx({n}), y_ref({n});
  Tensor<std::uint8_t> m({n}), m_ref({n});
  fill_uniform(x.view(), 1, -1, 1);
  fill_uniform(dy.view(), 2, -1, 1);
  kernels::dropout_forward(p, x.data(), y.data(), m.data());
  kernels::ref::dropout_forward(p, x.data(), y_ref.data(), m_ref.data());
  for (std::int64_t i = 0; i < n; ++i)
    if (m[i] != m_ref[i] || y[i] != y_ref[i]) throw std::runtime_error("dropout disagrees with ref:: on " + s.name());
  for (auto _ : state) {
    if (backward) {
      kernels::dropout_backward(p, dy.data(), m.data(), dx.data());
    } else {
      ++p.seed;  // a new mask every step, as in training
      kernels::dropout_forward(p, x.data(), y.data(), m.data());
    }
    benchmark::ClobberMemory();
  }
  const double bytes = double(n) * (4 + 4 + 1);  // one float in, one float out, the uint8 mask
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const int registered = [] {
  for (const auto& s : bench::layer_shapes(bench::LayerKind::dropout))
    for (bool bwd : {false, true})
      benchmark::RegisterBenchmark((std::string(bwd ? "bwd/" : "fwd/") + s.name() + " [" + s.used_by + "]").c_str(),
                                   [s, bwd](benchmark::State& st) { dropout(st, s, bwd); })
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
