// conv2d forward, backward-input and backward-weight on the real layer shapes, batch 64, 2 threads:
// the dense 3x3 and pointwise 1x1 layers of MobileNet-V1-48 and CustomNet-48 (bench/shapes.hpp),
// and the layers of the residual networks (../shared/reference/pytorch_models.py): the dense 3x3
// layers of ResNet-10-48 w32 and ResNet-18-48 w24, the grouped 3x3 layers of ResNeXt-48 8x4d (8
// groups of 4, 8, 16, 32 channels; PyTorch's per-layer key "conv C->C sS @HxW") and the 1x1
// stride-2 projection shortcuts ("pointwise1x1 C->K s2 @HxW"). Every 3x3 and projection layer runs
// with both algorithms (suffix /gemm, /direct; the label says "(automatic)" on the one conv2d picks
// for that pass); the 1x1 stride-1 layers run as conv2d picks (GEMM). Counter "flops" (printed as a
// rate, e.g. 312G/s) = 2 flops per multiply-accumulate (each of the three passes costs the same
// MACs). Before timing, every shape is checked once against the ref:: oracle on a reduced batch.
//
//   build/release/bench/bench_conv2d --benchmark_filter='fwd/dense'
//   build/release/bench/bench_conv2d --benchmark_filter='conv 256'        # one grouped layer, both algorithms
#include <benchmark/benchmark.h>

#include <algorithm>
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

std::string hw_of(int hw) { return " @" + std::to_string(hw) + "x" + std::to_string(hw); }
std::string io_of(int c, int k, int stride) { return std::to_string(c) + "->" + std::to_string(k) + " s" + std::to_string(stride); }

// ../shared/reference/pytorch_models.py. ResNet48(w, blocks): stem 3x3 1 -> w, then stage i at
// 48 >> i with c = w << i (the first block of stages 1-3 has stride 2 and a projection). ResNeXt48():
// bottleneck width 32 << i in 8 groups, stage i at 48 >> i, projections where a stage starts.
std::vector<ResidualLayer> residual_layers() {
  std::vector<ResidualLayer> v;
  auto add = [&](const std::string& key, const std::string& tag, const Conv2dParams& p) {
    for (auto& e : v)
      if (e.key == key) {
        e.used_by += ", " + tag;
        return;
      }
    v.push_back({key, tag, p});
  };
  for (const auto& [w, tag] : {std::pair{32, std::string("rn10w32")}, std::pair{24, std::string("rn18w24")}}) {
    add("dense3x3 " + io_of(1, w, 1) + hw_of(48), tag, conv(1, w, 48, 3, 1, 1));
    for (int i = 0; i < 4; ++i) {
      const int c = w << i, hw = 48 >> i;
      if (i > 0) add("dense3x3 " + io_of(c / 2, c, 2) + hw_of(hw * 2), tag, conv(c / 2, c, hw * 2, 3, 2, 1));
      add("dense3x3 " + io_of(c, c, 1) + hw_of(hw), tag, conv(c, c, hw, 3, 1, 1));
    }
  }
  for (int i = 0; i < 4; ++i) {
    const int width = 32 << i, hw = 48 >> i;
    if (i > 0) add("conv " + io_of(width, width, 2) + hw_of(hw * 2), "rx8x4", conv(width, width, hw * 2, 3, 2, 8));
    add("conv " + io_of(width, width, 1) + hw_of(hw), "rx8x4", conv(width, width, hw, 3, 1, 8));
  }
  // Projection shortcuts with stride 2: ResNet-10-48 w32, ResNet-18-48 w24, ResNeXt-48 (64 << i).
  for (const auto& [w, tag] : {std::pair{32, std::string("rn10w32")}, std::pair{24, std::string("rn18w24")},
                               std::pair{64, std::string("rx8x4")}})
    for (int i = 1; i < 4; ++i)
      add("pointwise1x1 " + io_of(w << (i - 1), w << i, 2) + hw_of(48 >> (i - 1)), tag,
          conv(w << (i - 1), w << i, 48 >> (i - 1), 1, 2, 1));
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
  using moodnet::kernels::Conv2dAlgo;
  using moodnet::kernels::Conv2dPass;
  const Conv2dPass kernel_pass[] = {Conv2dPass::forward, Conv2dPass::backward_input, Conv2dPass::backward_weight};
  // One layer with the automatic choice (both = false) or with each algorithm (suffixes /gemm, /direct).
  auto add = [&](const std::string& name, const Conv2dParams& p, const std::string& used_by, bool both) {
    validate(p, name);
    for (Conv2dAlgo algo : both ? std::vector{Conv2dAlgo::gemm, Conv2dAlgo::direct} : std::vector{Conv2dAlgo::automatic}) {
      Conv2dParams q = p;
      q.algo = algo;
      const std::string suffix = algo == Conv2dAlgo::gemm ? "/gemm" : algo == Conv2dAlgo::direct ? "/direct" : "";
      for (int i = 0; i < 3; ++i) {
        const bool picked = moodnet::kernels::conv2d_use_direct(p, kernel_pass[i]) == (algo == Conv2dAlgo::direct);
        const std::string label = used_by + (both && picked ? " (automatic)" : "");
        benchmark::RegisterBenchmark((std::string("conv2d_") + passes[i].first + "/" + name + suffix).c_str(), run, q,
                                     passes[i].second, label)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  };
  std::vector<std::string> seen;
  for (LayerKind kind : {LayerKind::dense, LayerKind::pointwise})
    for (const LayerShape& s : moodnet::bench::layer_shapes(kind)) {
      add(s.name(), params_of(s, moodnet::bench::kBatch), s.used_by, kind == LayerKind::dense);
      seen.push_back(s.name());
    }
  for (const ResidualLayer& l : residual_layers())
    if (std::find(seen.begin(), seen.end(), l.key) == seen.end()) add(l.key, l.p, l.used_by, true);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
