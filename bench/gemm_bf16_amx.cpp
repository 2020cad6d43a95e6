// gemm_bf16_amx (kernels/gemm_bf16_amx.hpp: bf16 operands, float sums, Intel AMX) against our fp32
// AVX-512 sgemm (kernels/sgemm.hpp), both single-threaded, on the three GEMMs that conv2d runs per
// block of samples for the dense 3x3 layers of CustomNet-48 (w 64 and 32; bench/shapes.hpp, samples
// per GEMM as conv2d's samples_per_gemm):
//
//   fwd         Y    [Kout, P]   = W [Kout, CRS] col [CRS, P]      M=Kout, N=P,   K=CRS   (no, no)
//   bwd_input   dcol [CRS, P]    = W^T dY [Kout, P]                 M=CRS,  N=P,   K=Kout  (yes, no)
//   bwd_weight  dW   [Kout, CRS] += dY col^T                        M=Kout, N=CRS, K=P     (no, yes)
//
// with P = m * OH*OW for m samples side by side. The machine may be busy, so every benchmark
// iteration times BOTH kernels back to back on the same inputs (alternating which goes first) with
// the thread's CPU time (CLOCK_THREAD_CPUTIME_ID, not wall time); the counters are medians over the
// iterations: sgemm_GFLOPS, amx_GFLOPS and amx_speedup (= sgemm time / AMX time). The reported time
// is the AMX kernel's. Without AVX-512 in the build, or AMX-BF16 on the CPU, nothing is registered.
//
//   build/release/bench/bench_gemm_bf16_amx --benchmark_filter='fwd' --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/gemm_bf16_amx.hpp"
#include "moodnet/kernels/sgemm.hpp"
#include "shapes.hpp"

#if defined(__AVX512F__)
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

void run(benchmark::State& state, GemmShape g) {
  namespace k = moodnet::kernels;
  const std::int64_t lda = g.ta == Trans::no ? g.K : g.M, ldb = g.tb == Trans::no ? g.N : g.K;
  moodnet::Tensor<float> A(moodnet::Shape{(g.ta == Trans::no ? g.M : g.K) * lda});
  moodnet::Tensor<float> B(moodnet::Shape{(g.tb == Trans::no ? g.K : g.N) * ldb});
  moodnet::Tensor<float> C1(moodnet::Shape{g.M * g.N}), C2(moodnet::Shape{g.M * g.N});
  moodnet::fill_uniform(A.view(), 1, -1, 1);
  moodnet::fill_uniform(B.view(), 2, -1, 1);
  moodnet::fill_uniform(C1.view(), 3, -1, 1);  // bwd_weight accumulates (beta 1)
  moodnet::fill_uniform(C2.view(), 3, -1, 1);
  auto fp32 = [&] { k::sgemm(g.ta, g.tb, g.M, g.N, g.K, A.data(), lda, B.data(), ldb, g.beta, C1.data(), g.N); };
  auto amx = [&] { k::gemm_bf16_amx(g.ta, g.tb, g.M, g.N, g.K, A.data(), lda, B.data(), ldb, g.beta, C2.data(), g.N); };
  fp32();  // warm-up (and each kernel's first-call scratch allocation and tile configuration)
  amx();
  std::vector<double> t_fp32, t_amx;
  bool fp32_first = true;
  for (auto _ : state) {
    double tf = 0, ta = 0;
    for (int rep = 0; rep < 2; ++rep) {  // alternate the order so neither always runs on a warm cache
      const bool f = (rep == 0) == fp32_first;
      const double t0 = thread_seconds();
      f ? fp32() : amx();
      (f ? tf : ta) = thread_seconds() - t0;
    }
    fp32_first = !fp32_first;
    benchmark::ClobberMemory();
    t_fp32.push_back(tf);
    t_amx.push_back(ta);
    state.SetIterationTime(ta);
  }
  const double flops = 2.0 * double(g.M) * double(g.N) * double(g.K);
  const double mf = median(t_fp32), ma = median(t_amx);
  state.counters["sgemm_GFLOPS"] = flops / mf * 1e-9;
  state.counters["amx_GFLOPS"] = flops / ma * 1e-9;
  state.counters["amx_speedup"] = mf / ma;
}

// Registers fwd / bwd_input / bwd_weight for every dense layer shape CustomNet uses (cn64, cn32).
const bool registered = [] {
  if (!moodnet::kernels::amx_bf16_available()) {
    std::fprintf(stderr, "bench_gemm_bf16_amx: no AMX-BF16 on this CPU or kernel; nothing to run\n");
    return false;
  }
  for (const LayerShape& s : moodnet::bench::layer_shapes(LayerKind::dense)) {
    if (s.used_by.find("cn") == std::string::npos) continue;
    moodnet::kernels::Conv2dParams p;
    p.N = moodnet::bench::kBatch, p.C = s.cin, p.H = s.h, p.W = s.w, p.K = s.cout, p.R = p.S = s.k;
    p.stride_h = p.stride_w = s.stride, p.pad_h = p.pad_w = s.k / 2;
    const std::int64_t m = moodnet::kernels::detail::samples_per_gemm(p);
    const std::int64_t P = m * p.out_h() * p.out_w(), CRS = p.C * p.R * p.S, Kout = p.K;
    std::ostringstream tail_os;
    tail_os << "/" << s.name() << " m=" << m << " (" << s.used_by << ")";
    const std::string tail = tail_os.str();
    const std::pair<std::string, GemmShape> cases[] = {
        {"fwd", {Trans::no, Trans::no, Kout, P, CRS, 0.0f}},
        {"bwd_input", {Trans::yes, Trans::no, CRS, P, Kout, 0.0f}},
        {"bwd_weight", {Trans::no, Trans::yes, Kout, CRS, P, 1.0f}}};
    for (const auto& [tag, g] : cases) {
      std::ostringstream name;
      name << "bf16_amx_" << tag << "/M" << g.M << "_N" << g.N << "_K" << g.K << tail;
      benchmark::RegisterBenchmark(name.str().c_str(), run, g)->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace
#endif  // __AVX512F__

BENCHMARK_MAIN();
