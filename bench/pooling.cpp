// Max pooling 2x2 s2 (CustomNet) and global average pooling (both networks) on the real shapes,
// batch 64, 2 threads ($MOODNET_BENCH_THREADS overrides), forward and backward timed separately.
// GB/s counts the bytes each pass must read and write once.
//   bench_pooling --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/pooling.hpp"
#include "moodnet/kernels/ref/pooling.hpp"
#include "shapes.hpp"

using namespace moodnet;

namespace {

int bench_threads() {
  const char* e = std::getenv("MOODNET_BENCH_THREADS");
  return e ? std::atoi(e) : 2;
}

template <class A, class B>
void require_equal(const A& a, const B& b, const std::string& what) {
  for (std::int64_t i = 0; i < a.numel(); ++i)
    if (a[i] != b[i]) throw std::runtime_error(what + " disagrees with ref:: at " + std::to_string(i));
}

void max_pool(benchmark::State& state, const bench::LayerShape& s, bool backward) {
  set_num_threads(bench_threads());
  const kernels::Pool2dParams p{bench::kBatch, s.cin, s.h, s.w, 2, 2, 2, 2, 0, 0};
  const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()};
  Tensor<float> x(xs), y(ys), dy(ys), dx(xs), y_ref(ys), dx_ref(xs);
  Tensor<std::int32_t> a(ys), a_ref(ys);
  fill_uniform(x.view(), 1, -1, 1);
  fill_uniform(dy.view(), 2, -1, 1);
  kernels::max_pool2d_forward(p, x.data(), y.data(), a.data());
  kernels::ref::max_pool2d_forward(p, x.data(), y_ref.data(), a_ref.data());
  kernels::max_pool2d_backward(p, dy.data(), a.data(), dx.data());
  kernels::ref::max_pool2d_backward(p, dy.data(), a_ref.data(), dx_ref.data());
  require_equal(y, y_ref, s.name());
  require_equal(dx, dx_ref, s.name());
  for (auto _ : state) {
    if (backward)
      kernels::max_pool2d_backward(p, dy.data(), a.data(), dx.data());
    else
      kernels::max_pool2d_forward(p, x.data(), y.data(), a.data());
    benchmark::ClobberMemory();
  }
  // forward: x in, y and argmax out; backward: dy and argmax in, dx out.
  const double bytes = 4.0 * double(xs.numel() + 2 * ys.numel());
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void global_avg_pool(benchmark::State& state, const bench::LayerShape& s, bool backward) {
  set_num_threads(bench_threads());
  const kernels::GlobalPoolParams p{bench::kBatch, s.cin, s.h, s.w};
  const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C};
  Tensor<float> x(xs), y(ys), dy(ys), dx(xs);
  fill_uniform(x.view(), 1, -1, 1);
  fill_uniform(dy.view(), 2, -1, 1);
  for (auto _ : state) {
    if (backward)
      kernels::global_avg_pool2d_backward(p, dy.data(), dx.data());
    else
      kernels::global_avg_pool2d_forward(p, x.data(), y.data());
    benchmark::ClobberMemory();
  }
  const double bytes = 4.0 * double(xs.numel() + ys.numel());
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const int registered = [] {
  for (auto kind : {bench::LayerKind::maxpool, bench::LayerKind::gap})
    for (const auto& s : bench::layer_shapes(kind))
      for (bool bwd : {false, true}) {
        const std::string name = std::string(bwd ? "bwd/" : "fwd/") + s.name() + " [" + s.used_by + "]";
        auto* b = kind == bench::LayerKind::maxpool
                      ? benchmark::RegisterBenchmark(name.c_str(), [s, bwd](benchmark::State& st) { max_pool(st, s, bwd); })
                      : benchmark::RegisterBenchmark(name.c_str(),
                                                     [s, bwd](benchmark::State& st) { global_avg_pool(st, s, bwd); });
        b->UseRealTime()->Unit(benchmark::kMicrosecond);
      }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
