// Winograd F(2x2, 3x3) and F(4x4, 3x3) (kernels/winograd.hpp) against conv2d's own choice
// (kernels/conv2d.hpp, Conv2dAlgo::automatic) on every dense 3x3 stride-1 layer of the benchmark
// networks at batch 64, 2 threads: MobileNet-V1-48's and CustomNet-48's from bench/shapes.hpp, and
// ResNet-10-48 w32's and ResNet-18-48 w24's c->c layers at 48 >> i (../shared/reference/pytorch_models.py).
// Each layer runs forward, backward-input and backward-weight with the three kernels (suffixes
// /conv2d, /winograd_f2, /winograd_f4). Counter "flops" counts the DIRECT convolution's flops
// (2 per multiply-accumulate of conv2d), so a Winograd row may pass the machine's FMA peak: it is
// the rate at which the layer's work gets done, comparable across the three rows. Before timing,
// every kernel that runs is checked once per layer against the ref:: oracle on 2 images.
//
//   build/release/bench/bench_winograd --benchmark_filter='fwd/dense3x3 32->32'
//   build/release/bench/bench_winograd --benchmark_filter='winograd_f2'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/ref/conv2d.hpp"
#include "moodnet/kernels/winograd.hpp"
#include "shapes.hpp"

namespace {

using moodnet::Tensor;
using moodnet::kernels::Conv2dParams;
using moodnet::kernels::WinogradTile;
namespace kn = moodnet::kernels;

enum class Kernel { conv2d, winograd_f2, winograd_f4 };
enum class Pass { fwd, bwd_input, bwd_weight };

WinogradTile tile_of(Kernel k) { return k == Kernel::winograd_f4 ? WinogradTile::f4x4 : WinogradTile::f2x2; }

// One pass of one kernel; dy doubles as y's buffer in the forward.
void run_pass(Kernel kernel, Pass pass, const Conv2dParams& p, const float* x, const float* w, const float* b,
              float* y, float* dx, float* dw, moodnet::Workspace& ws) {
  const WinogradTile tile = tile_of(kernel);
  const bool wino = kernel != Kernel::conv2d;
  switch (pass) {
    case Pass::fwd:
      if (wino) kn::winograd_conv2d_forward<float>(p, x, w, b, y, ws, nullptr, tile);
      else kn::conv2d_forward(p, x, w, b, y, ws);
      break;
    case Pass::bwd_input:
      if (wino) kn::winograd_conv2d_backward_input<float>(p, y, w, dx, ws, tile);
      else kn::conv2d_backward_input(p, y, w, dx, ws);
      break;
    case Pass::bwd_weight:
      if (wino) kn::winograd_conv2d_backward_weight<float>(p, x, y, dw, ws, tile);
      else kn::conv2d_backward_weight(p, x, y, dw, ws);
      break;
  }
}

// Max |a - b| / max(|b|, 1) of one pass of `kernel` against the oracle on 2 images; exits above 1e-3.
void validate(Conv2dParams p, Kernel kernel, const std::string& name) {
  p.N = 2;
  Tensor<float> x(p.input_shape()), w(p.weight_shape()), b({p.K}), dy(p.output_shape());
  moodnet::fill_uniform(x.view(), 1, -1, 1);
  moodnet::fill_uniform(w.view(), 2, -1, 1);
  moodnet::fill_uniform(b.view(), 3, -1, 1);
  moodnet::fill_uniform(dy.view(), 4, -1, 1);
  Tensor<double> xd(x.shape()), wd(w.shape()), bd(b.shape()), dyd(dy.shape());
  for (auto [f, d] : {std::pair{&x, &xd}, std::pair{&w, &wd}, std::pair{&b, &bd}, std::pair{&dy, &dyd}})
    for (std::int64_t i = 0; i < f->numel(); ++i) (*d)[i] = (*f)[i];
  moodnet::Workspace ws;
  for (Pass pass : {Pass::fwd, Pass::bwd_input, Pass::bwd_weight}) {
    Tensor<float> y = dy, dx(p.input_shape()), dw(p.weight_shape());
    Tensor<double> ref(pass == Pass::fwd ? p.output_shape() : pass == Pass::bwd_input ? p.input_shape() : p.weight_shape());
    run_pass(kernel, pass, p, x.data(), w.data(), b.data(), y.data(), dx.data(), dw.data(), ws);
    if (pass == Pass::fwd) kn::ref::conv2d_forward(p, xd.data(), wd.data(), bd.data(), ref.data());
    if (pass == Pass::bwd_input) kn::ref::conv2d_backward_input(p, dyd.data(), wd.data(), ref.data());
    if (pass == Pass::bwd_weight) kn::ref::conv2d_backward_weight(p, xd.data(), dyd.data(), ref.data());
    const Tensor<float>& got = pass == Pass::fwd ? y : pass == Pass::bwd_input ? dx : dw;
    double e = 0;
    for (std::int64_t i = 0; i < got.numel(); ++i)
      e = std::max(e, std::abs(double(got[i]) - ref[i]) / std::max(std::abs(ref[i]), 1.0));
    if (!(e <= 1e-3)) {
      std::fprintf(stderr, "%s pass %d disagrees with the oracle: max rel error %g\n", name.c_str(), int(pass), e);
      std::exit(1);
    }
  }
}

// `layer` names the layer and kernel ("dense3x3 32->32 s1 @48x48/winograd_f2").
void run(benchmark::State& state, Conv2dParams p, Kernel kernel, Pass pass, std::string layer, std::string used_by) {
  static std::set<std::string> validated;  // once per layer and kernel, only for the benchmarks that run
  if (validated.insert(layer).second) validate(p, kernel, layer);
  Tensor<float> x(p.input_shape()), w(p.weight_shape()), b({p.K}), y(p.output_shape());
  moodnet::fill_uniform(x.view(), 1, -1, 1);
  moodnet::fill_uniform(w.view(), 2, -0.1, 0.1);
  moodnet::fill_uniform(y.view(), 3, -1, 1);  // doubles as dy
  Tensor<float> dx(p.input_shape()), dw(p.weight_shape());
  moodnet::Workspace ws;
  for (auto _ : state) {
    run_pass(kernel, pass, p, x.data(), w.data(), b.data(), y.data(), dx.data(), dw.data(), ws);
    benchmark::ClobberMemory();
  }
  state.counters["flops"] = benchmark::Counter(2.0 * p.macs() * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["workspace_MiB"] =
      kernel == Kernel::conv2d ? 0.0 : double(kn::winograd_workspace_bytes<float>(p, tile_of(kernel))) / (1 << 20);
  state.SetLabel(used_by);
}

struct Layer {
  std::string name, used_by;
  Conv2dParams p;
};

// Every dense 3x3 stride-1 layer, each shape once (name as in bench/shapes.hpp).
std::vector<Layer> layers() {
  std::vector<Layer> v;
  auto add = [&](int c, int k, int hw, const std::string& tag) {
    const std::string name = "dense3x3 " + std::to_string(c) + "->" + std::to_string(k) + " s1 @" +
                             std::to_string(hw) + "x" + std::to_string(hw);
    for (auto& l : v)
      if (l.name == name) {
        if (l.used_by.find(tag) == std::string::npos) l.used_by += ", " + tag;
        return;
      }
    v.push_back({name, tag, {.N = moodnet::bench::kBatch, .C = c, .H = hw, .W = hw, .K = k, .pad_h = 1, .pad_w = 1}});
  };
  for (const auto& s : moodnet::bench::layer_shapes(moodnet::bench::LayerKind::dense))
    if (s.k == 3 && s.stride == 1 && s.h == s.w) add(s.cin, s.cout, s.h, s.used_by);
  for (int width : {32, 24}) {
    const std::string tag = width == 32 ? "rn10w32" : "rn18w24";
    add(1, width, 48, tag);
    for (int i = 0; i < 4; ++i) add(width << i, width << i, 48 >> i, tag);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  // 2 threads (the machine's cores) unless MOODNET_BENCH_THREADS says otherwise.
  const char* threads = std::getenv("MOODNET_BENCH_THREADS");
  moodnet::set_num_threads(threads ? std::atoi(threads) : 2);
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("moodnet threads", std::to_string(moodnet::num_threads()));
  const std::pair<const char*, Pass> passes[] = {{"fwd", Pass::fwd}, {"bwd_input", Pass::bwd_input}, {"bwd_weight", Pass::bwd_weight}};
  const std::pair<const char*, Kernel> kernels[] = {
      {"conv2d", Kernel::conv2d}, {"winograd_f2", Kernel::winograd_f2}, {"winograd_f4", Kernel::winograd_f4}};
  for (const Layer& l : layers())
    for (const auto& [kname, kernel] : kernels) {
      for (const auto& [pname, pass] : passes)
        benchmark::RegisterBenchmark((std::string("winograd_") + pname + "/" + l.name + "/" + kname).c_str(), run, l.p,
                                     kernel, pass, l.name + "/" + kname, l.used_by)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
    }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
