// gemm_bf16_amx (kernels/gemm_bf16_amx.hpp) and the matmul precision setting that routes
// gemm_rowmajor to it (kernels/matmul_precision.hpp). Against a double product of the bf16-ROUNDED
// inputs (rounded here by an independent scalar round-to-nearest-even), so that only the float
// summation order differs: a tight bound; against the unrounded product: bf16's bound. Odd shapes
// (tails in every dimension, several K, M and N blocks), all transposes, beta 0 (C full of NaN),
// 0.5 and 1, padded leading dimensions; rounding ties; NaN; the same bits on 1 and 2 threads.
// Without AMX-BF16 the error paths are what is tested.
#include "moodnet/kernels/gemm_bf16_amx.hpp"

#include <catch2/catch.hpp>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "../support/check.hpp"
#include "moodnet/kernels/gemm_rowmajor.hpp"
#include "moodnet/kernels/matmul_precision.hpp"

using moodnet::kernels::Trans;
namespace k = moodnet::kernels;

namespace bf16_amx_test {

// float -> the nearest bf16 (ties to even), returned as a float.
float round_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  const std::uint32_t lsb = (u >> 16) & 1u;
  u = (u + 0x7fffu + lsb) & 0xffff0000u;
  float y;
  std::memcpy(&y, &u, 4);
  return y;
}

std::vector<float> normal_vec(std::int64_t n, std::uint64_t seed) {
  const auto t = moodnet::test::random_tensor<float>(moodnet::Shape{std::max<std::int64_t>(n, 1)}, seed);
  return std::vector<float>(t.data(), t.data() + n);
}

struct Case {
  Trans ta, tb;
  std::int64_t M, N, K, pad;
  float beta;
};

// Runs the case and checks every element: within 1e-5 * sum|a b| of the double product of the rounded
// inputs, within 2^-7 * sum|a b| of the exact one, and the padding columns of C untouched.
void check_case(const Case& c, std::uint64_t seed) {
  INFO("M=" << c.M << " N=" << c.N << " K=" << c.K << " ta=" << int(c.ta) << " tb=" << int(c.tb) << " beta="
            << c.beta << " pad=" << c.pad);
  const std::int64_t lda = (c.ta == Trans::no ? c.K : c.M) + c.pad, ldb = (c.tb == Trans::no ? c.N : c.K) + c.pad,
                     ldc = c.N + c.pad;
  const auto A = normal_vec((c.ta == Trans::no ? c.M : c.K) * lda, seed);
  const auto B = normal_vec((c.tb == Trans::no ? c.K : c.N) * ldb, seed + 1);
  const auto C0 = normal_vec(c.M * ldc, seed + 2);
  std::vector<float> C = C0;
  if (c.beta == 0)
    for (std::int64_t i = 0; i < c.M; ++i)
      for (std::int64_t j = 0; j < c.N; ++j) C[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
  k::gemm_bf16_amx(c.ta, c.tb, c.M, c.N, c.K, A.data(), lda, B.data(), ldb, c.beta, C.data(), ldc);
  double worst_rounded = 0, worst_exact = 0;
  bool padding_kept = true;
  for (std::int64_t i = 0; i < c.M; ++i) {
    for (std::int64_t j = 0; j < c.N; ++j) {
      double rounded = 0, exact = 0, size = 0;
      for (std::int64_t kk = 0; kk < c.K; ++kk) {
        const float a = c.ta == Trans::no ? A[i * lda + kk] : A[kk * lda + i];
        const float b = c.tb == Trans::no ? B[kk * ldb + j] : B[j * ldb + kk];
        rounded += double(round_bf16(a)) * round_bf16(b);
        exact += double(a) * b;
        size += std::fabs(double(a) * b);
      }
      const double base = c.beta == 0 ? 0.0 : c.beta * double(C0[i * ldc + j]);
      const double got = C[i * ldc + j], scale = size + std::fabs(base) + 1e-30;
      worst_rounded = std::max(worst_rounded, std::fabs(got - (rounded + base)) / scale);
      worst_exact = std::max(worst_exact, std::fabs(got - (exact + base)) / scale);
    }
    for (std::int64_t j = c.N; j < ldc; ++j) padding_kept = padding_kept && C[i * ldc + j] == C0[i * ldc + j];
  }
  CHECK(worst_rounded <= 1e-5);
  CHECK(worst_exact <= 1.0 / 128);
  CHECK(padding_kept);
}

// True where AMX-BF16 runs; elsewhere checks that the kernel refuses with its error, and says so.
bool amx_or_refusal() {
  if (k::amx_bf16_available()) return true;
  float a = 1, b = 1, c = 0;
  CHECK_THROWS_WITH(k::gemm_bf16_amx(Trans::no, Trans::no, 1, 1, 1, &a, 1, &b, 1, 0.0f, &c, 1),
                    Catch::Contains("offers no AMX-BF16"));
  WARN("no AMX-BF16 on this machine: this case's numeric checks are skipped");
  return false;
}

}  // namespace bf16_amx_test

using namespace bf16_amx_test;

TEST_CASE("gemm_bf16_amx: refused with a clear error where AMX-BF16 is missing; bad sizes refused",
          "[gemm_bf16_amx][kernels]") {
  float a = 1, b = 1, c = 0;
  if (!k::amx_bf16_available()) {
    CHECK_THROWS_WITH(k::gemm_bf16_amx(Trans::no, Trans::no, 1, 1, 1, &a, 1, &b, 1, 0.0f, &c, 1),
                      Catch::Contains("offers no AMX-BF16"));
    CHECK_THROWS_WITH(k::set_matmul_precision(k::MatmulPrecision::bf16), Catch::Contains("needs Intel AMX-BF16"));
    CHECK(k::matmul_precision() == k::MatmulPrecision::fp32);
    WARN("no AMX-BF16 on this machine: the numeric cases of gemm_bf16_amx are skipped");
    return;
  }
  CHECK_THROWS_WITH(k::gemm_bf16_amx(Trans::no, Trans::no, -1, 1, 1, &a, 1, &b, 1, 0.0f, &c, 1),
                    Catch::Contains("sizes must be >= 0, got M=-1"));
  CHECK_THROWS_WITH(k::gemm_bf16_amx(Trans::no, Trans::no, 2, 3, 4, &a, 3, &b, 3, 0.0f, &c, 3),
                    Catch::Contains("leading dimensions too small (lda=3"));
}

TEST_CASE("gemm_bf16_amx matches the product of bf16-rounded inputs on odd shapes, all transposes, beta 0/0.5/1",
          "[gemm_bf16_amx][kernels]") {
  if (!amx_or_refusal()) return;
  const std::int64_t sizes[] = {1, 15, 17, 33, 100};
  const float betas[] = {0.0f, 1.0f, 0.5f};
  std::uint64_t seed = 300;
  for (Trans ta : {Trans::no, Trans::yes})
    for (Trans tb : {Trans::no, Trans::yes})
      for (std::int64_t M : sizes)
        for (std::int64_t N : sizes)
          for (std::int64_t K : sizes) {
            check_case({ta, tb, M, N, K, std::int64_t(seed % 3), betas[seed % 3]}, seed);
            seed += 3;
          }
}

TEST_CASE("gemm_bf16_amx: shapes spanning several K, M and N blocks; K = 0", "[gemm_bf16_amx][kernels]") {
  if (!amx_or_refusal()) return;
  check_case({Trans::no, Trans::no, 200, 600, 1100, 3, 1.0f}, 7);    // 3 K blocks, 2 M blocks, 3 N blocks
  check_case({Trans::yes, Trans::no, 300, 70, 530, 0, 0.0f}, 8);     // backward-input shape
  check_case({Trans::no, Trans::yes, 17, 290, 1500, 1, 1.0f}, 9);    // weight-gradient shape: long K
  check_case({Trans::yes, Trans::yes, 129, 257, 513, 2, 0.5f}, 10);  // one past every block edge
  std::vector<float> C(6, std::numeric_limits<float>::quiet_NaN());
  const float a = 1, b = 1;
  k::gemm_bf16_amx(Trans::no, Trans::no, 2, 3, 0, &a, 1, &b, 3, 0.0f, C.data(), 3);
  for (float c : C) CHECK(c == 0.0f);
}

TEST_CASE("gemm_bf16_amx: inputs round to nearest, ties to even; NaN stays NaN", "[gemm_bf16_amx][kernels]") {
  if (!amx_or_refusal()) return;
  // bf16 keeps 7 fraction bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 (-> 1, the even one),
  // 1 + 3 * 2^-8 halfway between 1 + 2^-7 and 1 + 2^-6 (-> 1 + 2^-6), 1 + 2^-8 + 2^-20 above halfway.
  const float inputs[] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f, -1.0f - 0x1p-8f};
  const float rounded[] = {1.0f, 1.0f + 0x1p-6f, 1.0f + 0x1p-7f, -1.0f};
  for (int i = 0; i < 4; ++i) {
    const float one = 1.0f;
    float c = 0;
    k::gemm_bf16_amx(Trans::no, Trans::no, 1, 1, 1, &inputs[i], 1, &one, 1, 0.0f, &c, 1);
    CHECK(c == rounded[i]);
    CHECK(round_bf16(inputs[i]) == rounded[i]);  // the test's own rounding agrees
  }
  std::vector<float> A(3 * 5, 1.0f), B(5 * 4, 1.0f), C(3 * 4, 0.0f);
  A[1 * 5 + 2] = std::numeric_limits<float>::quiet_NaN();
  k::gemm_bf16_amx(Trans::no, Trans::no, 3, 4, 5, A.data(), 5, B.data(), 4, 0.0f, C.data(), 4);
  for (int j = 0; j < 4; ++j) {
    CHECK(std::isnan(C[1 * 4 + j]));
    CHECK(C[0 * 4 + j] == 5.0f);
  }
}

TEST_CASE("gemm_bf16_amx: the same bits twice, and on each of 2 threads", "[gemm_bf16_amx][kernels]") {
  if (!amx_or_refusal()) return;
  const std::int64_t M = 64, N = 300, K = 700;
  const auto A = normal_vec(M * K, 1), B = normal_vec(K * N, 2);
  std::vector<float> once(M * N), again(M * N);
  k::gemm_bf16_amx(Trans::no, Trans::no, M, N, K, A.data(), K, B.data(), N, 0.0f, once.data(), N);
  k::gemm_bf16_amx(Trans::no, Trans::no, M, N, K, A.data(), K, B.data(), N, 0.0f, again.data(), N);
  CHECK(once == again);
  std::vector<std::vector<float>> per_thread(2, std::vector<float>(M * N));
#pragma omp parallel for num_threads(2)
  for (int t = 0; t < 2; ++t)  // each thread configures its own tiles and scratch
    k::gemm_bf16_amx(Trans::no, Trans::no, M, N, K, A.data(), K, B.data(), N, 0.0f, per_thread[t].data(), N);
  CHECK(per_thread[0] == once);
  CHECK(per_thread[1] == once);
}

TEST_CASE("matmul precision: parse, the scoped setting, and gemm_rowmajor following it",
          "[gemm_bf16_amx][kernels]") {
  CHECK(k::parse_matmul_precision("bf16") == k::MatmulPrecision::bf16);
  CHECK_THROWS_WITH(k::parse_matmul_precision("fp16"), "precision must be fp32 or bf16, got 'fp16'");
  CHECK(k::matmul_precision() == k::MatmulPrecision::fp32);
  if (!k::amx_bf16_available()) {
    CHECK_THROWS_WITH(k::ScopedMatmulPrecision(k::MatmulPrecision::bf16), Catch::Contains("needs Intel AMX-BF16"));
    return;
  }
  const std::int64_t M = 20, N = 50, K = 70;
  const auto A = normal_vec(M * K, 3), B = normal_vec(K * N, 4);
  std::vector<float> fp32(M * N), bf16(M * N), routed(M * N), after(M * N);
  k::gemm_rowmajor<float>(Trans::no, Trans::no, M, N, K, A.data(), K, B.data(), N, 0.0f, fp32.data(), N);
  k::gemm_bf16_amx(Trans::no, Trans::no, M, N, K, A.data(), K, B.data(), N, 0.0f, bf16.data(), N);
  {
    k::ScopedMatmulPrecision scoped(k::MatmulPrecision::bf16);
    CHECK(k::matmul_precision() == k::MatmulPrecision::bf16);
    k::gemm_rowmajor<float>(Trans::no, Trans::no, M, N, K, A.data(), K, B.data(), N, 0.0f, routed.data(), N);
  }
  CHECK(k::matmul_precision() == k::MatmulPrecision::fp32);
  k::gemm_rowmajor<float>(Trans::no, Trans::no, M, N, K, A.data(), K, B.data(), N, 0.0f, after.data(), N);
  CHECK(routed == bf16);
  CHECK(after == fp32);
  CHECK(bf16 != fp32);  // bf16 rounding did happen
}

TEST_CASE("conv2d under matmul precision bf16: dense layers on AMX within bf16's error, grouped ones unchanged",
          "[gemm_bf16_amx][kernels]") {
  if (!amx_or_refusal()) return;
  using moodnet::kernels::Conv2dParams;
  auto params = [](std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t K, std::int64_t R, std::int64_t stride,
                   std::int64_t pad, std::int64_t groups) {
    Conv2dParams p;
    p.N = N, p.C = C, p.H = p.W = H, p.K = K, p.R = p.S = R;
    p.stride_h = p.stride_w = stride, p.pad_h = p.pad_w = pad, p.groups = groups;
    return p;
  };
  k::ScopedMatmulPrecision scoped(k::MatmulPrecision::bf16);
  // Which layers go to AMX: dense ones with more than kBf16MinCg input channels per group; those
  // with at most that keep the float rule (direct at 48x48 where the AVX-512 tiles exist), grouped stay direct.
  for (const auto pass : {k::Conv2dPass::forward, k::Conv2dPass::backward_input, k::Conv2dPass::backward_weight}) {
    CHECK_FALSE(k::conv2d_use_direct(params(64, 33, 48, 32, 3, 1, 1, 1), pass));
    CHECK(k::conv2d_use_direct(params(64, 32, 48, 32, 3, 1, 1, 1), pass) == k::kHaveDirectTiles<float>);
    CHECK(k::conv2d_use_direct(params(64, 32, 48, 32, 3, 1, 1, 8), pass));
  }
  // 3x3 on 13x13 (169 outputs: the fp32 direct path's shape, here the AMX GEMM), 3x3 on 5x5 (several
  // images per GEMM), a 1x1 stride-2 projection (all past kBf16MinCg channels), a one-channel stem
  // (the float rule: GEMM forward on AMX, direct backward); inputs in [-1, 1).
  for (const Conv2dParams& p : {params(3, 35, 13, 12, 3, 1, 1, 1), params(5, 33, 5, 9, 3, 1, 1, 1),
                                params(2, 40, 9, 10, 1, 2, 0, 1), params(4, 1, 11, 8, 3, 1, 1, 1)})
    moodnet::test::check_against_ref<float>(p, true, 0.05, 41);  // ~2^-8 of sums of up to 507 terms

  // The arithmetic did change for a dense layer, and did not for a grouped one (direct, in float).
  auto forward = [](const Conv2dParams& p, std::uint64_t seed) {
    const auto x = moodnet::test::random_tensor<float>(p.input_shape(), seed);
    const auto w = moodnet::test::random_tensor<float>(p.weight_shape(), seed + 1);
    moodnet::Workspace ws;
    moodnet::Tensor<float> y(p.output_shape());
    k::conv2d_forward<float>(p, x, w, nullptr, y, ws);
    return std::vector<float>(y.data(), y.data() + y.numel());
  };
  const Conv2dParams dense = params(3, 35, 13, 12, 3, 1, 1, 1), grouped = params(2, 16, 9, 16, 3, 1, 1, 4);
  const auto dense_bf16 = forward(dense, 5), grouped_bf16 = forward(grouped, 6);
  k::set_matmul_precision(k::MatmulPrecision::fp32);
  CHECK(forward(dense, 5) != dense_bf16);
  CHECK(forward(grouped, 6) == grouped_bf16);
}
