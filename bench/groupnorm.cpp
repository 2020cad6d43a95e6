// groupnorm (8 groups) forward and backward on the real groupnorm layer shapes of CustomNet-48
// (bench/shapes.hpp), batch 64, 2 threads, real time. bytes_per_second counts the compulsory
// traffic: fwd reads x twice and writes y (3 passes), bwd reads x and dy twice and writes dx (5);
// 4 bytes each. Before timing, every shape is checked once against the ref:: oracle on batch 2.
//
//   build/normopt-rel/bench/bench_groupnorm --benchmark_filter='C64 @48'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/groupnorm.hpp"
#include "moodnet/kernels/ref/groupnorm.hpp"
#include "shapes.hpp"

namespace {

using moodnet::Tensor;
using moodnet::bench::LayerKind;
using moodnet::bench::LayerShape;
using moodnet::kernels::GroupNormParams;
namespace kn = moodnet::kernels;

constexpr std::int64_t kGroups = 8;  // CustomNet's GroupNorm(8, C)

GroupNormParams params_of(const LayerShape& s, std::int64_t batch) { return {batch, s.cin, s.h, s.w, kGroups}; }

template <class T>
struct GnData {
  Tensor<T> x, dy, gamma, beta, y, mean, rstd, dx, dg, db;
  explicit GnData(const GroupNormParams& p)
      : x({p.N, p.C, p.H, p.W}), dy(x.shape()), gamma({p.C}), beta({p.C}), y(x.shape()), mean({p.N, p.G}),
        rstd({p.N, p.G}), dx(x.shape()), dg({p.C}), db({p.C}) {
    moodnet::fill_uniform(x.view(), 1, -1, 2);
    moodnet::fill_uniform(dy.view(), 2, -1, 1);
    moodnet::fill_uniform(gamma.view(), 3, 0.5, 1.5);
    moodnet::fill_uniform(beta.view(), 4, -1, 1);
  }
};

double max_rel(const Tensor<float>& a, const Tensor<double>& b) {
  double m = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(double(a[i]) - b[i]) / std::max(std::abs(b[i]), 1.0));
  return m;
}

// Forward and backward against the oracle on 2 images; exits on a mismatch.
void validate(const LayerShape& s) {
  const GroupNormParams p = params_of(s, 2);
  GnData<float> f(p);
  GnData<double> d(p);
  moodnet::Workspace ws;
  kn::groupnorm_forward(p, f.x.data(), f.gamma.data(), f.beta.data(), f.y.data(), f.mean.data(), f.rstd.data());
  kn::groupnorm_backward(p, f.x.data(), f.dy.data(), f.gamma.data(), f.mean.data(), f.rstd.data(), f.dx.data(),
                         f.dg.data(), f.db.data(), ws);
  kn::ref::groupnorm_forward(p, d.x.data(), d.gamma.data(), d.beta.data(), d.y.data(), d.mean.data(), d.rstd.data());
  kn::ref::groupnorm_backward(p, d.x.data(), d.dy.data(), d.gamma.data(), d.mean.data(), d.rstd.data(), d.dx.data(),
                              d.dg.data(), d.db.data());
  const double e = std::max({max_rel(f.y, d.y), max_rel(f.dx, d.dx), max_rel(f.dg, d.dg), max_rel(f.db, d.db)});
  if (!(e <= 1e-4)) {
    std::fprintf(stderr, "groupnorm %s disagrees with the oracle: max rel error %g\n", s.name().c_str(), e);
    std::exit(1);
  }
}

void run(benchmark::State& state, LayerShape s, bool backward) {
  const GroupNormParams p = params_of(s, moodnet::bench::kBatch);
  GnData<float> b(p);
  moodnet::Workspace ws;
  kn::groupnorm_forward(p, b.x.data(), b.gamma.data(), b.beta.data(), b.y.data(), b.mean.data(), b.rstd.data());
  for (auto _ : state) {
    if (backward)
      kn::groupnorm_backward(p, b.x.data(), b.dy.data(), b.gamma.data(), b.mean.data(), b.rstd.data(), b.dx.data(),
                             b.dg.data(), b.db.data(), ws);
    else
      kn::groupnorm_forward(p, b.x.data(), b.gamma.data(), b.beta.data(), b.y.data(), b.mean.data(), b.rstd.data());
    benchmark::ClobberMemory();
  }
  const double passes = backward ? 5 : 3;
  state.SetBytesProcessed(static_cast<std::int64_t>(passes * 4.0 * double(b.x.numel()) * double(state.iterations())));
  state.SetLabel(s.used_by);
}

// Validates and registers every shape before BENCHMARK_MAIN runs; 2 threads unless
// MOODNET_BENCH_THREADS says otherwise.
const bool registered = [] {
  const char* threads = std::getenv("MOODNET_BENCH_THREADS");
  moodnet::set_num_threads(threads ? std::atoi(threads) : 2);
  for (const LayerShape& s : moodnet::bench::layer_shapes(LayerKind::groupnorm)) {
    validate(s);
    for (bool bwd : {false, true})
      benchmark::RegisterBenchmark((std::string("groupnorm_") + (bwd ? "bwd" : "fwd") + "/" + s.name()).c_str(), run,
                                   s, bwd)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
