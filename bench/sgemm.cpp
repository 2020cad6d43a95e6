// Our AVX-512 sgemm (kernels/sgemm.hpp) against Eigen's GEMM, both single-threaded, on the GEMMs that
// conv2d runs per block of samples for the real dense 3x3 and pointwise 1x1 layers of MobileNet-V1-48
// and CustomNet-48 (bench/shapes.hpp; samples per GEMM as conv2d's samples_per_gemm):
//
//   fwd         Y    [Kout, P]   = W [Kout, CRS] col [CRS, P]      M=Kout, N=P,   K=CRS   (no, no)
//   bwd_input   dcol [CRS, P]    = W^T dY [Kout, P]                 M=CRS,  N=P,   K=Kout  (yes, no)
//   bwd_weight  dW   [Kout, CRS] += dY col^T                        M=Kout, N=CRS, K=P     (no, yes)
//
// with P = m * OH*OW for m samples side by side. The machine may be busy, so every benchmark
// iteration times BOTH kernels back to back on the same inputs with the thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID, not wall time); the counters are medians over the iterations:
// ours_GFLOPS, eigen_GFLOPS, speedup (= eigen time / our time). The reported time is ours. Where the
// CPU has AMX-BF16, the same iteration also times gemm_bf16_amx (kernels/gemm_bf16_amx.hpp: bf16
// operands, float sums) on the same inputs: amx_bf16_GFLOPS and amx_speedup (= our time / its time).
//
//   build/gemm-rel/bench/bench_sgemm --benchmark_filter='fwd' --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

#include "moodnet/core/gemm.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/gemm_bf16_amx.hpp"
#include "moodnet/kernels/sgemm.hpp"
#include "shapes.hpp"

namespace {

using moodnet::kernels::Trans;
using moodnet::bench::LayerKind;
using moodnet::bench::LayerShape;

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct GemmShape {
  Trans ta, tb;
  std::int64_t M, N, K;
  float beta;
};

void eigen_gemm(const GemmShape& g, const float* A, const float* B, float* C) {
  using moodnet::row_map;
  auto c = row_map(C, g.M, g.N, g.N);
  const std::int64_t lda = g.ta == Trans::no ? g.K : g.M, ldb = g.tb == Trans::no ? g.N : g.K;
  const auto a = row_map(A, g.ta == Trans::no ? g.M : g.K, lda, lda);
  const auto b = row_map(B, g.tb == Trans::no ? g.K : g.N, ldb, ldb);
  if (g.ta == Trans::no && g.tb == Trans::no) c.noalias() = a * b;
  else if (g.ta == Trans::yes && g.tb == Trans::no) c.noalias() = a.transpose() * b;
  else c.noalias() += a * b.transpose();  // (no, yes) with beta 1: the weight gradient
}

void run(benchmark::State& state, GemmShape g) {
  const std::int64_t lda = g.ta == Trans::no ? g.K : g.M, ldb = g.tb == Trans::no ? g.N : g.K;
  moodnet::Tensor<float> A(moodnet::Shape{(g.ta == Trans::no ? g.M : g.K) * lda});
  moodnet::Tensor<float> B(moodnet::Shape{(g.tb == Trans::no ? g.K : g.N) * ldb});
  moodnet::Tensor<float> C1(moodnet::Shape{g.M * g.N}), C2(moodnet::Shape{g.M * g.N});
  moodnet::fill_uniform(A.view(), 1, -1, 1);
  moodnet::fill_uniform(B.view(), 2, -1, 1);
  auto ours = [&] {
#if defined(__AVX512F__)
    moodnet::kernels::sgemm(g.ta, g.tb, g.M, g.N, g.K, A.data(), lda, B.data(), ldb, g.beta, C1.data(), g.N);
#endif
  };
  auto eigen = [&] { eigen_gemm(g, A.data(), B.data(), C2.data()); };
  const bool amx = moodnet::kernels::amx_bf16_available();
  auto bf16 = [&] {
    moodnet::kernels::gemm_bf16_amx(g.ta, g.tb, g.M, g.N, g.K, A.data(), lda, B.data(), ldb, g.beta, C2.data(), g.N);
  };
  ours();  // warm-up (and the first-call scratch allocation)
  eigen();
  if (amx) bf16();
  std::vector<double> t_ours, t_eigen, t_bf16;
  bool ours_first = true;
  for (auto _ : state) {
    double to = 0, te = 0;
    for (int rep = 0; rep < 2; ++rep) {  // alternate the order so neither always runs on a warm cache
      const bool o = (rep == 0) == ours_first;
      const double t0 = thread_seconds();
      o ? ours() : eigen();
      const double t1 = thread_seconds();
      (o ? to : te) = t1 - t0;
    }
    ours_first = !ours_first;
    if (amx) {
      const double t0 = thread_seconds();
      bf16();
      t_bf16.push_back(thread_seconds() - t0);
    }
    benchmark::ClobberMemory();
    t_ours.push_back(to);
    t_eigen.push_back(te);
    state.SetIterationTime(to);
  }
  const double flops = 2.0 * double(g.M) * double(g.N) * double(g.K);
  const double mo = median(t_ours), me = median(t_eigen);
  state.counters["ours_GFLOPS"] = flops / mo * 1e-9;
  state.counters["eigen_GFLOPS"] = flops / me * 1e-9;
  state.counters["speedup"] = me / mo;
  if (amx) {
    state.counters["amx_bf16_GFLOPS"] = flops / median(t_bf16) * 1e-9;
    state.counters["amx_speedup"] = mo / median(t_bf16);
  }
}

// Registers fwd / bwd_input / bwd_weight for every dense and pointwise layer shape (none in a build
// without AVX-512: kernels::sgemm is the AVX-512 path, the portable one is Eigen itself).
const bool registered = [] {
  if (!moodnet::kernels::kHaveFastSgemm) return false;
  for (LayerKind kind : {LayerKind::dense, LayerKind::pointwise})
    for (const LayerShape& s : moodnet::bench::layer_shapes(kind)) {
      moodnet::kernels::Conv2dParams p;
      p.N = moodnet::bench::kBatch, p.C = s.cin, p.H = s.h, p.W = s.w, p.K = s.cout, p.R = p.S = s.k;
      p.stride_h = p.stride_w = s.stride, p.pad_h = p.pad_w = s.k / 2;
      const std::int64_t m = moodnet::kernels::detail::samples_per_gemm(p);
      const std::int64_t P = m * p.out_h() * p.out_w(), CRS = p.C * p.R * p.S, Kout = p.K;
      std::ostringstream tail_os;
      tail_os << "/" << s.name() << " m=" << m;
      const std::string tail = tail_os.str();
      const std::pair<std::string, GemmShape> cases[] = {
          {"fwd", {Trans::no, Trans::no, Kout, P, CRS, 0.0f}},
          {"bwd_input", {Trans::yes, Trans::no, CRS, P, Kout, 0.0f}},
          {"bwd_weight", {Trans::no, Trans::yes, Kout, CRS, P, 1.0f}}};
      for (const auto& [tag, g] : cases) {
        std::ostringstream name;
        name << "sgemm_" << tag << "/M" << g.M << "_N" << g.N << "_K" << g.K << tail;
        benchmark::RegisterBenchmark(name.str().c_str(), run, g)->UseManualTime()->Unit(benchmark::kMicrosecond);
      }
    }
  return true;
}();

}  // namespace

BENCHMARK_MAIN();
