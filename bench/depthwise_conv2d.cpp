// Depthwise 3x3 convolution on the real MobileNet-V1-48 shapes (batch 64, 2 threads), forward and
// backward (input + weight) timed separately. GFLOP/s counts 2 flops per MAC (backward = 2x the
// forward MACs); GB/s counts the bytes each pass must read and write once.
//   bench_depthwise_conv2d --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/depthwise_conv2d.hpp"
#include "moodnet/kernels/ref/depthwise_conv2d.hpp"
#include "shapes.hpp"

using namespace moodnet;
using kernels::DepthwiseConv2dParams;

namespace {

// $MOODNET_BENCH_DW_ALGO=rows|blocks forces a loop structure (default: automatic).
kernels::DepthwiseAlgo bench_algo() {
  const char* e = std::getenv("MOODNET_BENCH_DW_ALGO");
  if (!e) return kernels::DepthwiseAlgo::automatic;
  return std::string(e) == "rows" ? kernels::DepthwiseAlgo::rows : kernels::DepthwiseAlgo::channel_blocks;
}

DepthwiseConv2dParams params_of(const bench::LayerShape& s, std::int64_t N) {
  return {N, s.cin, s.h, s.w, s.k, s.k, s.stride, s.stride, s.k / 2, s.k / 2, bench_algo()};
}

double max_abs_diff(const Tensor<float>& a, const Tensor<float>& b) {
  double m = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) m = std::max(m, double(std::abs(a[i] - b[i])));
  return m;
}

// Checks all three kernels against ref:: on a 2-image slice of the shape before timing it.
void validate(const bench::LayerShape& s) {
  const auto p = params_of(s, 2);
  const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()}, wsh{p.C, 1, p.R, p.S};
  Tensor<float> x(xs), w(wsh), dy(ys), y(ys), y_ref(ys), dx(xs), dx_ref(xs), dw(wsh), dw_ref(wsh);
  fill_uniform(x.view(), 1, -1, 1);
  fill_uniform(w.view(), 2, -1, 1);
  fill_uniform(dy.view(), 3, -1, 1);
  Workspace ws;
  kernels::depthwise_conv2d_forward(p, x.data(), w.data(), static_cast<const float*>(nullptr), y.data(), ws);
  kernels::ref::depthwise_conv2d_forward(p, x.data(), w.data(), static_cast<const float*>(nullptr), y_ref.data());
  kernels::depthwise_conv2d_backward_input(p, dy.data(), w.data(), dx.data(), ws);
  kernels::ref::depthwise_conv2d_backward_input(p, dy.data(), w.data(), dx_ref.data());
  kernels::depthwise_conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), ws);
  kernels::ref::depthwise_conv2d_backward_weight(p, x.data(), dy.data(), dw_ref.data());
  if (max_abs_diff(y, y_ref) > 1e-4 || max_abs_diff(dx, dx_ref) > 1e-4 || max_abs_diff(dw, dw_ref) > 1e-2)
    throw std::runtime_error("depthwise kernels disagree with ref:: on " + s.name());
}

// 2 threads (the target machine), or $MOODNET_BENCH_THREADS when set (for a loaded machine).
int bench_threads() {
  const char* e = std::getenv("MOODNET_BENCH_THREADS");
  return e ? std::atoi(e) : 2;
}

enum class Pass { fwd, bwd_input, bwd_weight };

void run(benchmark::State& state, const bench::LayerShape& s, Pass pass) {
  set_num_threads(bench_threads());
  validate(s);
  const auto p = params_of(s, bench::kBatch);
  const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()}, wsh{p.C, 1, p.R, p.S};
  Tensor<float> x(xs), w(wsh), y(ys), dy(ys), dx(xs), dw(wsh);
  fill_uniform(x.view(), 1, -1, 1);
  fill_uniform(w.view(), 2, -1, 1);
  fill_uniform(dy.view(), 3, -1, 1);
  Workspace ws;
  for (auto _ : state) {
    if (pass == Pass::bwd_input)
      kernels::depthwise_conv2d_backward_input(p, dy.data(), w.data(), dx.data(), ws);
    else if (pass == Pass::bwd_weight)
      kernels::depthwise_conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), ws);
    else
      kernels::depthwise_conv2d_forward(p, x.data(), w.data(), static_cast<const float*>(nullptr), y.data(), ws);
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * s.macs_per_image() * bench::kBatch;
  // forward: x in, y out; backward input: dy in, dx out; backward weight: x and dy in.
  const double bytes = 4.0 * double(xs.numel() + ys.numel());
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

const int registered = [] {
  for (const auto& s : bench::layer_shapes(bench::LayerKind::depthwise)) {
    for (Pass pass : {Pass::fwd, Pass::bwd_input, Pass::bwd_weight})
      benchmark::RegisterBenchmark((std::string(pass == Pass::fwd         ? "fwd/"
                                                : pass == Pass::bwd_input ? "bwd_input/"
                                                                          : "bwd_weight/") +
                                    s.name() + " [" + s.used_by + "]")
                                       .c_str(),
                                   [s, pass](benchmark::State& st) { run(st, s, pass); })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
