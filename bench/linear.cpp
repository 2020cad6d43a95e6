// linear forward, backward-input and backward-weight on the real fully connected shapes of
// MobileNet-V1-48 and CustomNet-48 (bench/shapes.hpp), batch 64, 2 threads; GFLOP/s counts 2 flops
// per multiply-accumulate. Every shape is checked once against the ref:: oracle before timing.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "moodnet/core/rng.hpp"
#include "moodnet/kernels/linear.hpp"
#include "moodnet/kernels/ref/linear.hpp"
#include "shapes.hpp"

namespace {

using moodnet::kernels::LinearParams;
using moodnet::Tensor;
using moodnet::bench::LayerKind;
using moodnet::bench::LayerShape;

void validate(const LinearParams& p, const std::string& name) {
  Tensor<float> x(p.input_shape()), w(p.weight_shape()), b({p.out}), dy(p.output_shape());
  moodnet::fill_uniform(x.view(), 1, -1, 1);
  moodnet::fill_uniform(w.view(), 2, -1, 1);
  moodnet::fill_uniform(b.view(), 3, -1, 1);
  moodnet::fill_uniform(dy.view(), 4, -1, 1);
  Tensor<float> y(p.output_shape()), dx(p.input_shape()), dw(p.weight_shape());
  Tensor<float> yr(p.output_shape()), dxr(p.input_shape()), dwr(p.weight_shape());
  moodnet::kernels::linear_forward(p, x.data(), w.data(), b.data(), y.data());
  moodnet::kernels::linear_backward_input(p, dy.data(), w.data(), dx.data());
  moodnet::kernels::linear_backward_weight(p, x.data(), dy.data(), dw.data());
  moodnet::kernels::ref::linear_forward(p.N, p.in, p.out, x.data(), w.data(), b.data(), yr.data());
  moodnet::kernels::ref::linear_backward_input(p.N, p.in, p.out, dy.data(), w.data(), dxr.data());
  moodnet::kernels::ref::linear_backward_weight(p.N, p.in, p.out, x.data(), dy.data(), dwr.data());
  auto err = [](const Tensor<float>& a, const Tensor<float>& r) {
    double m = 0;
    for (std::int64_t i = 0; i < a.numel(); ++i)
      m = std::max(m, std::abs(double(a[i]) - r[i]) / std::max(std::abs(double(r[i])), 1.0));
    return m;
  };
  const double e = std::max({err(y, yr), err(dx, dxr), err(dw, dwr)});
  if (!(e <= 1e-3)) {
    std::fprintf(stderr, "linear %s disagrees with the oracle: max rel error %g\n", name.c_str(), e);
    std::exit(1);
  }
}

enum class Pass { fwd, bwd_input, bwd_weight };

void run(benchmark::State& state, LinearParams p, Pass pass, std::string used_by) {
  Tensor<float> x(p.input_shape()), w(p.weight_shape()), b({p.out}), y(p.output_shape());
  moodnet::fill_uniform(x.view(), 1, -1, 1);
  moodnet::fill_uniform(w.view(), 2, -0.1, 0.1);
  moodnet::fill_uniform(y.view(), 3, -1, 1);  // doubles as dy
  Tensor<float> dx(p.input_shape()), dw(p.weight_shape());
  for (auto _ : state) {
    switch (pass) {
      case Pass::fwd: moodnet::kernels::linear_forward(p, x.data(), w.data(), b.data(), y.data()); break;
      case Pass::bwd_input: moodnet::kernels::linear_backward_input(p, y.data(), w.data(), dx.data()); break;
      case Pass::bwd_weight: moodnet::kernels::linear_backward_weight(p, x.data(), y.data(), dw.data()); break;
    }
    benchmark::ClobberMemory();
  }
  state.counters["flops"] =
      benchmark::Counter(2.0 * p.macs() * double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetLabel(used_by);
}

}  // namespace

int main(int argc, char** argv) {
  // 2 threads (the machine's cores) unless MOODNET_BENCH_THREADS says otherwise.
  const char* threads = std::getenv("MOODNET_BENCH_THREADS");
  moodnet::set_num_threads(threads ? std::atoi(threads) : 2);
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("moodnet threads", std::to_string(moodnet::num_threads()));
  for (const LayerShape& s : moodnet::bench::layer_shapes(LayerKind::linear)) {
    const LinearParams p{moodnet::bench::kBatch, s.cin, s.cout};
    validate({4, s.cin, s.cout}, s.name());
    const std::pair<const char*, Pass> passes[] = {
        {"fwd", Pass::fwd}, {"bwd_input", Pass::bwd_input}, {"bwd_weight", Pass::bwd_weight}};
    for (const auto& [tag, pass] : passes)
      benchmark::RegisterBenchmark((std::string("linear_") + tag + "/" + s.name()).c_str(), run, p, pass, s.used_by)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
