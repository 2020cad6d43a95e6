// batchnorm2d training forward, backward and eval forward on the real batchnorm layer shapes of
// MobileNet-V1-48 and CustomNet-48 (bench/shapes.hpp), batch 64, 2 threads, real time.
// bytes_per_second counts the compulsory traffic: train fwd reads x twice and writes y (3 passes),
// bwd reads x and dy twice and writes dx (5), eval reads x and writes y (2); 4 bytes each.
// Before timing, every shape is checked once against the ref:: oracle on batch 2.
//
//   build/normopt-rel/bench/bench_batchnorm2d --benchmark_filter='C64 @48'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"
#include "moodnet/kernels/ref/batchnorm2d.hpp"
#include "shapes.hpp"

namespace {

using moodnet::Tensor;
using moodnet::bench::LayerKind;
using moodnet::bench::LayerShape;
using moodnet::kernels::BatchNorm2dParams;
namespace kn = moodnet::kernels;

BatchNorm2dParams params_of(const LayerShape& s, std::int64_t batch) { return {batch, s.cin, s.h, s.w}; }

template <class T>
Tensor<T> uniform(moodnet::Shape s, std::uint64_t seed, double lo, double hi) {
  Tensor<T> t(s);
  moodnet::fill_uniform(t.view(), seed, lo, hi);
  return t;
}

// Max |a - b| / max(|b|, 1).
double max_rel(const Tensor<float>& a, const Tensor<double>& b) {
  double m = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(double(a[i]) - b[i]) / std::max(std::abs(b[i]), 1.0));
  return m;
}

// All three passes against the oracle on 2 images; exits on a mismatch.
template <class T>
struct BnData {
  Tensor<T> x, dy, gamma, beta, y, mean, rstd, rm, rv, dx, dg, db;
  explicit BnData(const BatchNorm2dParams& p)
      : x(uniform<T>({p.N, p.C, p.H, p.W}, 1, -1, 2)), dy(uniform<T>(x.shape(), 2, -1, 1)),
        gamma(uniform<T>({p.C}, 3, 0.5, 1.5)), beta(uniform<T>({p.C}, 4, -1, 1)), y(x.shape()), mean({p.C}),
        rstd({p.C}), rm({p.C}), rv(uniform<T>({p.C}, 5, 0.5, 1.5)), dx(x.shape()), dg({p.C}), db({p.C}) {}
};

void validate(const LayerShape& s) {
  const BatchNorm2dParams p = params_of(s, 2);
  BnData<float> f(p);
  BnData<double> d(p);
  kn::batchnorm2d_forward_train(p, f.x.data(), f.gamma.data(), f.beta.data(), f.y.data(), f.mean.data(), f.rstd.data(),
                                f.rm.data(), f.rv.data());
  kn::batchnorm2d_backward(p, f.x.data(), f.dy.data(), f.gamma.data(), f.beta.data(), f.mean.data(), f.rstd.data(),
                           f.dx.data(), f.dg.data(), f.db.data());
  kn::ref::batchnorm2d_forward_train(p, d.x.data(), d.gamma.data(), d.beta.data(), d.y.data(), d.mean.data(),
                                     d.rstd.data(), d.rm.data(), d.rv.data());
  kn::ref::batchnorm2d_backward(p, d.x.data(), d.dy.data(), d.gamma.data(), d.beta.data(), d.mean.data(),
                                d.rstd.data(), d.dx.data(), d.dg.data(), d.db.data());
  const double e = std::max({max_rel(f.y, d.y), max_rel(f.rv, d.rv), max_rel(f.dx, d.dx), max_rel(f.dg, d.dg)});
  if (!(e <= 1e-4)) {
    std::fprintf(stderr, "batchnorm2d %s disagrees with the oracle: max rel error %g\n", s.name().c_str(), e);
    std::exit(1);
  }
}

enum class Pass { train_fwd, bwd, eval_fwd };

void run(benchmark::State& state, LayerShape s, Pass pass) {
  const BatchNorm2dParams p = params_of(s, moodnet::bench::kBatch);
  BnData<float> b(p);
  moodnet::Workspace ws;
  kn::batchnorm2d_forward_train(p, b.x.data(), b.gamma.data(), b.beta.data(), b.y.data(), b.mean.data(), b.rstd.data(),
                                b.rm.data(), b.rv.data());
  for (auto _ : state) {
    switch (pass) {
      case Pass::train_fwd:
        kn::batchnorm2d_forward_train(p, b.x.data(), b.gamma.data(), b.beta.data(), b.y.data(), b.mean.data(),
                                      b.rstd.data(), b.rm.data(), b.rv.data());
        break;
      case Pass::bwd:
        kn::batchnorm2d_backward(p, b.x.data(), b.dy.data(), b.gamma.data(), b.beta.data(), b.mean.data(),
                                 b.rstd.data(), b.dx.data(), b.dg.data(), b.db.data(), &ws);
        break;
      case Pass::eval_fwd:
        kn::batchnorm2d_forward_eval(p, b.x.data(), b.gamma.data(), b.beta.data(), b.rm.data(), b.rv.data(), b.y.data());
        break;
    }
    benchmark::ClobberMemory();
  }
  const double passes = pass == Pass::train_fwd ? 3 : pass == Pass::bwd ? 5 : 2;
  state.SetBytesProcessed(static_cast<std::int64_t>(passes * 4.0 * double(b.x.numel()) * double(state.iterations())));
  state.SetLabel(s.used_by);
}

// Validates and registers every shape before BENCHMARK_MAIN runs; 2 threads unless
// MOODNET_BENCH_THREADS says otherwise.
const bool registered = [] {
  const char* threads = std::getenv("MOODNET_BENCH_THREADS");
  moodnet::set_num_threads(threads ? std::atoi(threads) : 2);
  for (const LayerShape& s : moodnet::bench::layer_shapes(LayerKind::batchnorm)) {
    validate(s);
    const std::pair<const char*, Pass> passes[] = {
        {"train_fwd", Pass::train_fwd}, {"bwd", Pass::bwd}, {"eval_fwd", Pass::eval_fwd}};
    for (const auto& [tag, pass] : passes)
      benchmark::RegisterBenchmark((std::string("batchnorm2d_") + tag + "/" + s.name()).c_str(), run, s, pass)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
