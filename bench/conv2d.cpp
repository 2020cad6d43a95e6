// conv2d forward, backward-input and backward-weight on the real dense 3x3 and pointwise 1x1 layer
// shapes of MobileNet-V1-48 and CustomNet-48 (bench/shapes.hpp), and on the residual networks'
// layers that no other network has: the grouped 3x3 convolutions of ResNeXt-48 8x4d (8 groups of 4,
// 8, 16, 32 channels; PyTorch's per-layer key "conv C->C sS @HxW") and the 1x1 stride-2 projection
// shortcuts of ResNet-48 and ResNeXt-48 ("pointwise1x1 C->K s2 @HxW"). The residual shapes run with
// both algorithms (suffix /gemm, /direct; the automatic choice is whichever conv2d_use_direct picks).
// Batch 64, 2 threads. Counter "flops" (printed as a rate, e.g. 312G/s) = 2 flops per multiply-
// accumulate (each of the three passes costs the same MACs). Before timing, every shape is checked
// once against the ref:: oracle on a reduced batch.
//
//   build/release/bench/bench_conv2d --benchmark_filter='fwd/dense'
//   build/release/bench/bench_conv2d --benchmark_filter='conv 256'        # one grouped layer, both algorithms
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/ref/conv2d.hpp"
#include "shapes.hpp"

namespace {

using moodnet::kernels::Conv2dParams;
using moodnet::Tensor;
using moodnet::bench::LayerKind;
using moodnet::bench::LayerShape;

Conv2dParams params_of(const LayerShape& s, std::int64_t batch) {
  Conv2dParams p;
  p.N = batch, p.C = s.cin, p.H = s.h, p.W = s.w, p.K = s.cout, p.R = p.S = s.k;
  p.stride_h = p.stride_w = s.stride, p.pad_h = p.pad_w = s.k / 2;
  return p;
}

// Max |a - b| / max(|b|, 1) over the elements.
double max_rel(const float* a, const double* b, std::int64_t n) {
  double m = 0;
  for (std::int64_t i = 0; i < n; ++i) m = std::max(m, std::abs(double(a[i]) - b[i]) / std::max(std::abs(b[i]), 1.0));
  return m;
}

// A layer of the residual networks: PyTorch's key, the parameters at batch 64, who uses it.
struct ResidualLayer {
  std::string key, used_by;
  Conv2dParams p;
};

Conv2dParams conv(std::int64_t c, std::int64_t k, std::int64_t hw, std::int64_t r, std::int64_t stride,
                  std::int64_t groups) {
  Conv2dParams p;
  p.N = moodnet::bench::kBatch, p.C = c, p.H = p.W = hw, p.K = k, p.R = p.S = r;
  p.stride_h = p.stride_w = stride, p.pad_h = p.pad_w = r / 2, p.groups = groups;
  return p;
}

// ../shared/reference/pytorch_models.py: ResNeXt48() bottleneck width 32 * 2^i in 8 groups, stage i
// at 48 >> i (the first block of stages 1-3 has stride 2); projections where a stage starts.
std::vector<ResidualLayer> residual_layers() {
  std::vector<ResidualLayer> v;
  int hw = 48;
  for (int i = 0; i < 4; ++i) {
    const int width = 32 << i, in_hw = i == 0 ? 48 : hw * 2;
    if (i > 0)
      v.push_back({"conv " + std::to_string(width) + "->" + std::to_string(width) + " s2 @" + std::to_string(in_hw) +
                       "x" + std::to_string(in_hw),
                   "rx8x4", conv(width, width, in_hw, 3, 2, 8)});
    v.push_back({"conv " + std::to_string(width) + "->" + std::to_string(width) + " s1 @" + std::to_string(hw) + "x" +
                     std::to_string(hw),
                 "rx8x4", conv(width, width, hw, 3, 1, 8)});
    hw /= 2;
  }
  // Projection shortcuts with stride 2: ResNet-10-48 w32, ResNet-18-48 w24, ResNeXt-48 (64 << i).
  const std::pair<std::vector<int>, std::string> nets[] = {
      {{32, 64, 128, 256}, "rn10w32"}, {{24, 48, 96, 192}, "rn18w24"}, {{64, 128, 256, 512}, "rx8x4"}};
  for (const auto& [widths, tag] : nets)
    for (int i = 1; i < 4; ++i) {
      const int in_hw = 48 >> (i - 1);
      v.push_back({"pointwise1x1 " + std::to_string(widths[i - 1]) + "->" + std::to_string(widths[i]) + " s2 @" +
                       std::to_string(in_hw) + "x" + std::to_string(in_hw),
                   tag, conv(widths[i - 1], widths[i], in_hw, 1, 2, 1)});
    }
  return v;
}

// Forward, backward-input and backward-weight against the oracle on 2 images; exits on a mismatch.
void validate(Conv2dParams p, const std::string& name) {
  p.N = 2;
  Tensor<float> x(p.input_shape()), w(p.weight_shape()), b({p.K}), dy(p.output_shape());
  moodnet::fill_uniform(x.view(), 1, -1, 1);
  moodnet::fill_uniform(w.view(), 2, -1, 1);
  moodnet::fill_uniform(b.view(), 3, -1, 1);
  moodnet::fill_uniform(dy.view(), 4, -1, 1);
  Tensor<float> y(p.output_shape()), dx(p.input_shape()), dw(p.weight_shape());
  moodnet::Workspace ws;
  moodnet::kernels::conv2d_forward(p, x.data(), w.data(), b.data(), y.data(), ws);
  moodnet::kernels::conv2d_backward_input(p, dy.data(), w.data(), dx.data(), ws);
  moodnet::kernels::conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), ws);
  auto to_d = [](const Tensor<float>& t) {
    Tensor<double> d(t.shape());
    for (std::int64_t i = 0; i < t.numel(); ++i) d[i] = t[i];
    return d;
  };
  const auto xd = to_d(x), wd = to_d(w), bd = to_d(b), dyd = to_d(dy);
  Tensor<double> yr(p.output_shape()), dxr(p.input_shape()), dwr(p.weight_shape());
  moodnet::kernels::ref::conv2d_forward(p, xd.data(), wd.data(), bd.data(), yr.data());
  moodnet::kernels::ref::conv2d_backward_input(p, dyd.data(), wd.data(), dxr.data());
  moodnet::kernels::ref::conv2d_backward_weight(p, xd.data(), dyd.data(), dwr.data());
  const double e[3] = {max_rel(y.data(), yr.data(), y.numel()), max_rel(dx.data(), dxr.data(), dx.numel()),
                       max_rel(dw.data(), dwr.data(), dw.numel())};
  for (double v : e)
    if (!(v <= 1e-3)) {
      std::fprintf(stderr, "conv2d %s disagrees with the oracle: max rel error fwd %g, bwd-input %g, bwd-weight %g\n",
                   name.c_str(), e[0], e[1], e[2]);
      std::exit(1);
    }
}

enum class Pass { fwd, bwd_input, bwd_weight };

void run(benchmark::State& state, Conv2dParams p, Pass pass, std::string used_by) {
  Tensor<float> x(p.input_shape()), w(p.weight_shape()), b({p.K}), y(p.output_shape());
  moodnet::fill_uniform(x.view(), 1, -1, 1);
  moodnet::fill_uniform(w.view(), 2, -0.1, 0.1);
  moodnet::fill_uniform(y.view(), 3, -1, 1);  // doubles as dy
  Tensor<float> dx(p.input_shape()), dw(p.weight_shape());
  moodnet::Workspace ws;
  for (auto _ : state) {
    switch (pass) {
      case Pass::fwd: moodnet::kernels::conv2d_forward(p, x.data(), w.data(), b.data(), y.data(), ws); break;
      case Pass::bwd_input: moodnet::kernels::conv2d_backward_input(p, y.data(), w.data(), dx.data(), ws); break;
      case Pass::bwd_weight: moodnet::kernels::conv2d_backward_weight(p, x.data(), y.data(), dw.data(), ws); break;
    }
    benchmark::ClobberMemory();
  }
  state.counters["flops"] = benchmark::Counter(2.0 * p.macs() * double(state.iterations()),
                                                 benchmark::Counter::kIsRate);
  state.SetLabel(used_by);
}

}  // namespace

int main(int argc, char** argv) {
  // 2 threads (the machine's cores) unless MOODNET_BENCH_THREADS says otherwise.
  const char* threads = std::getenv("MOODNET_BENCH_THREADS");
  moodnet::set_num_threads(threads ? std::atoi(threads) : 2);
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("moodnet threads", std::to_string(moodnet::num_threads()));
  const std::pair<const char*, Pass> passes[] = {
      {"fwd", Pass::fwd}, {"bwd_input", Pass::bwd_input}, {"bwd_weight", Pass::bwd_weight}};
  auto add = [&](const std::string& name, const Conv2dParams& p, const std::string& used_by) {
    validate(p, name);
    for (const auto& [tag, pass] : passes)
      benchmark::RegisterBenchmark((std::string("conv2d_") + tag + "/" + name).c_str(), run, p, pass, used_by)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  };
  for (LayerKind kind : {LayerKind::dense, LayerKind::pointwise})
    for (const LayerShape& s : moodnet::bench::layer_shapes(kind)) add(s.name(), params_of(s, moodnet::bench::kBatch), s.used_by);
  for (const ResidualLayer& l : residual_layers())
    for (auto [algo, suffix] : {std::pair{moodnet::kernels::Conv2dAlgo::gemm, "/gemm"},
                                std::pair{moodnet::kernels::Conv2dAlgo::direct, "/direct"}}) {
      Conv2dParams p = l.p;
      p.algo = algo;
      add(l.key + suffix, p, l.used_by + (moodnet::kernels::conv2d_use_direct(l.p) == (algo == moodnet::kernels::Conv2dAlgo::direct) ? " (automatic)" : ""));
    }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
