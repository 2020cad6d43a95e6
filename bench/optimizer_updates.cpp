// Optimizer updates (SGD momentum, SGD Nesterov, Adam, AdamW) and the global L2 gradient norm
// over a flat 4.8M-parameter buffer (about MobileNet-V1-48 alpha 1's 3.2M parameters, rounded
// up to cover the largest network), 2 threads, real time. bytes_per_second counts the compulsory
// traffic: SGD reads g, p, buf and writes p, buf (5 arrays); Adam(W) reads g, p, m, v and writes
// p, m, v (7); the norm reads g (1); 4 bytes each. Each update is checked once against the ref::
// oracle before timing.
//
//   build/normopt-rel/bench/bench_optimizer_updates
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/optimizer_updates.hpp"
#include "moodnet/kernels/ref/optimizer_updates.hpp"

namespace {

using moodnet::Tensor;
using moodnet::kernels::AdamParams;
using moodnet::kernels::SgdParams;
namespace kn = moodnet::kernels;

constexpr std::int64_t kParams = 4'800'000;

enum class Kind { sgd_momentum, sgd_nesterov, adam, adamw, l2_norm };

struct Buffers {
  Tensor<float> g, p, m, v;
  explicit Buffers(std::int64_t n) : g({n}), p({n}), m({n}), v({n}) {
    moodnet::fill_uniform(g.view(), 1, -1, 1);
    moodnet::fill_uniform(p.view(), 2, -1, 1);
  }
};

// Two steps of `kind` on the optimized and the oracle path over a small odd buffer; exits on a mismatch.
void validate(Kind kind) {
  const std::int64_t n = 70001;
  Buffers a(n), e(n);
  for (std::int64_t t = 1; t <= 2; ++t) {
    const SgdParams sp{0.05, 0.9, 1e-4, kind == Kind::sgd_nesterov, t};
    const AdamParams ap{1e-3, 0.9, 0.999, 1e-8, 1e-2, t};
    switch (kind) {
      case Kind::sgd_momentum: case Kind::sgd_nesterov:
        kn::sgd_update(sp, a.g.data(), a.p.data(), a.m.data(), n);
        kn::ref::sgd_update(sp, e.g.data(), e.p.data(), e.m.data(), n);
        break;
      case Kind::adam:
        kn::adam_update(ap, a.g.data(), a.p.data(), a.m.data(), a.v.data(), n);
        kn::ref::adam_update(ap, e.g.data(), e.p.data(), e.m.data(), e.v.data(), n);
        break;
      case Kind::adamw:
        kn::adamw_update(ap, a.g.data(), a.p.data(), a.m.data(), a.v.data(), n);
        kn::ref::adamw_update(ap, e.g.data(), e.p.data(), e.m.data(), e.v.data(), n);
        break;
      case Kind::l2_norm: break;
    }
  }
  double err = 0;
  for (std::int64_t i = 0; i < n; ++i) err = std::max(err, double(std::abs(a.p[i] - e.p[i])));
  if (kind == Kind::l2_norm) {
    moodnet::Workspace ws;
    double s = 0;
    for (float x : a.g) s += double(x) * x;
    err = std::abs(kn::global_l2_norm(a.g.data(), n, ws) - std::sqrt(s)) / std::sqrt(s);
  }
  if (!(err <= 1e-5)) {
    std::fprintf(stderr, "optimizer update %d disagrees with the oracle: max error %g\n", int(kind), err);
    std::exit(1);
  }
}

void run(benchmark::State& state, Kind kind) {
  Buffers b(kParams);
  moodnet::Workspace ws;
  std::int64_t t = 0;
  double sink = 0;
  for (auto _ : state) {
    ++t;
    const SgdParams sp{0.05, 0.9, 1e-4, kind == Kind::sgd_nesterov, t};
    const AdamParams ap{1e-3, 0.9, 0.999, 1e-8, 1e-2, t};
    switch (kind) {
      case Kind::sgd_momentum: case Kind::sgd_nesterov: kn::sgd_update(sp, b.g.data(), b.p.data(), b.m.data(), kParams); break;
      case Kind::adam: kn::adam_update(ap, b.g.data(), b.p.data(), b.m.data(), b.v.data(), kParams); break;
      case Kind::adamw: kn::adamw_update(ap, b.g.data(), b.p.data(), b.m.data(), b.v.data(), kParams); break;
      case Kind::l2_norm: sink += kn::global_l2_norm(b.g.data(), kParams, ws); break;
    }
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(sink);
  const double arrays = kind == Kind::l2_norm ? 1 : (kind == Kind::adam || kind == Kind::adamw) ? 7 : 5;
  state.SetBytesProcessed(static_cast<std::int64_t>(arrays * 4.0 * double(kParams) * double(state.iterations())));
}

// Validates and registers before BENCHMARK_MAIN runs; 2 threads unless MOODNET_BENCH_THREADS says otherwise.
const bool registered = [] {
  const char* threads = std::getenv("MOODNET_BENCH_THREADS");
  moodnet::set_num_threads(threads ? std::atoi(threads) : 2);
  const std::pair<const char*, Kind> kinds[] = {{"sgd_momentum", Kind::sgd_momentum},
                                                {"sgd_nesterov", Kind::sgd_nesterov},
                                                {"adam", Kind::adam},
                                                {"adamw", Kind::adamw},
                                                {"global_l2_norm", Kind::l2_norm}};
  for (const auto& [name, kind] : kinds) {
    validate(kind);
    benchmark::RegisterBenchmark((std::string(name) + "/4.8M").c_str(), run, kind)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
