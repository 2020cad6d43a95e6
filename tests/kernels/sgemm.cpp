// sgemm (AVX-512 packed GEMM, kernels/sgemm.hpp) and its dispatching wrapper gemm_rowmajor against a
// naive double-accumulating product, on deliberately odd shapes (tails in every dimension, shapes
// spanning several kc/mc blocks), all transpose variants, beta 0 and 1, padded leading dimensions;
// then the three conv2d products at small sizes.
#include "moodnet/kernels/gemm_rowmajor.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "../support/check.hpp"

using moodnet::kernels::Trans;
namespace test = moodnet::test;

namespace {

std::vector<float> random_vec(std::int64_t n, std::uint64_t seed) {
  const auto t = test::random_tensor<float>(moodnet::Shape{std::max<std::int64_t>(n, 1)}, seed);
  return std::vector<float>(t.data(), t.data() + n);
}

// C = op(A) op(B) + beta * C0 in double.
std::vector<double> reference(Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K,
                              const std::vector<float>& A, std::int64_t lda, const std::vector<float>& B,
                              std::int64_t ldb, double beta, const std::vector<float>& C0, std::int64_t ldc) {
  std::vector<double> C(C0.begin(), C0.end());
  for (std::int64_t i = 0; i < M; ++i)
    for (std::int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < K; ++k) {
        const double a = ta == Trans::no ? A[i * lda + k] : A[k * lda + i];
        const double b = tb == Trans::no ? B[k * ldb + j] : B[j * ldb + k];
        s += a * b;
      }
      C[i * ldc + j] = s + (beta == 0 ? 0.0 : beta * C[i * ldc + j]);
    }
  return C;
}

// Runs one case through `gemm` and compares every element of C (including the padding columns,
// which must be untouched) with the reference; relative to sqrt(K) (random +-1 inputs).
template <class Gemm>
void check_case(Gemm&& gemm, Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K, float beta,
                std::int64_t pad, std::uint64_t seed) {
  INFO("M=" << M << " N=" << N << " K=" << K << " ta=" << int(ta) << " tb=" << int(tb) << " beta=" << beta
            << " pad=" << pad);
  const std::int64_t lda = (ta == Trans::no ? K : M) + pad, ldb = (tb == Trans::no ? N : K) + pad, ldc = N + pad;
  const auto A = random_vec((ta == Trans::no ? M : K) * lda, seed);
  const auto B = random_vec((tb == Trans::no ? K : N) * ldb, seed + 1);
  auto C = random_vec(M * ldc, seed + 2);
  const auto expected = reference(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
  if (beta == 0)  // C must not be read: NaN in it must not leak into the result
    for (std::int64_t i = 0; i < M; ++i)
      for (std::int64_t j = 0; j < N; ++j) C[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
  gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  const auto e = test::compare(C.data(), expected.data(), M * ldc);
  CHECK(e.max_abs <= 1e-5 * std::sqrt(double(K) + 1) * 4);
}

const std::int64_t kSizes[] = {1, 3, 7, 16, 17, 31, 33, 64, 95, 288, 577};

template <class Gemm>
void check_grid(Gemm&& gemm) {
  std::uint64_t seed = 100;
  for (Trans ta : {Trans::no, Trans::yes})
    for (Trans tb : {Trans::no, Trans::yes})
      for (std::int64_t M : kSizes)
        for (std::int64_t N : kSizes)
          for (std::int64_t K : kSizes) {
            // Keep the grid affordable: the big sizes only in a few combinations.
            const int big = (M >= 288) + (N >= 288) + (K >= 288);
            if (big >= 2 && !(M == 577 && N == 95 && K == 288) && !(M == 33 && N == 577 && K == 577)) continue;
            const float beta = (seed % 2) ? 1.0f : 0.0f;
            const std::int64_t pad = (seed % 3 == 0) ? 0 : std::int64_t(seed % 5) + 1;
            check_case(gemm, ta, tb, M, N, K, beta, pad, seed);
            seed += 3;
          }
}

auto run_sgemm = [](Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K, const float* A,
                    std::int64_t lda, const float* B, std::int64_t ldb, float beta, float* C, std::int64_t ldc) {
  moodnet::kernels::gemm_rowmajor<float>(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
};

}  // namespace

TEST_CASE("gemm_rowmajor<float> matches a double reference on odd shapes, all transposes, beta 0/1",
          "[sgemm]") {
  check_grid(run_sgemm);
}

TEST_CASE("gemm_rowmajor: shapes spanning several packed blocks (K > kc, M > mc, N > nc)", "[sgemm]") {
  check_case(run_sgemm, Trans::no, Trans::no, 200, 3100, 530, 1.0f, 3, 7);
  check_case(run_sgemm, Trans::yes, Trans::no, 401, 50, 700, 0.0f, 0, 8);
  check_case(run_sgemm, Trans::no, Trans::yes, 17, 3077, 300, 1.0f, 1, 9);
}

TEST_CASE("gemm_rowmajor: beta = 0 with K = 0 zeroes C; empty M or N is a no-op", "[sgemm]") {
  std::vector<float> C(6, std::numeric_limits<float>::quiet_NaN());
  const float a = 1, b = 1;
  moodnet::kernels::gemm_rowmajor<float>(Trans::no, Trans::no, 2, 3, 0, &a, 1, &b, 3, 0.0f, C.data(), 3);
  for (float c : C) CHECK(c == 0.0f);
  std::vector<float> D(6, 5.0f);
  moodnet::kernels::gemm_rowmajor<float>(Trans::no, Trans::no, 0, 3, 4, &a, 4, &b, 3, 0.0f, D.data(), 3);
  moodnet::kernels::gemm_rowmajor<float>(Trans::no, Trans::no, 2, 0, 4, &a, 4, &b, 3, 0.0f, D.data(), 3);
  for (float d : D) CHECK(d == 5.0f);
}

TEST_CASE("gemm_rowmajor: the three conv2d products at small sizes", "[sgemm]") {
  // CustomNet-like 3x3 layer, C=5 -> Kout=12 on a 7x9 output (P = 63), and 3 images side by side.
  for (std::int64_t P : {63, 189}) {
    const std::int64_t Kout = 12, CRS = 45;
    check_case(run_sgemm, Trans::no, Trans::no, Kout, P, CRS, 0.0f, 0, 11);   // Y = W col
    check_case(run_sgemm, Trans::yes, Trans::no, CRS, P, Kout, 0.0f, 0, 12);  // dcol = W^T dY
    check_case(run_sgemm, Trans::no, Trans::yes, Kout, CRS, P, 1.0f, 0, 13);  // dW += dY col^T
  }
}

TEST_CASE("gemm_rowmajor<double> (Eigen path) matches the reference too", "[sgemm]") {
  const std::int64_t M = 17, N = 31, K = 33;
  for (Trans ta : {Trans::no, Trans::yes})
    for (Trans tb : {Trans::no, Trans::yes}) {
      const auto A = test::random_tensor<double>(moodnet::Shape{M * K}, 1);
      const auto B = test::random_tensor<double>(moodnet::Shape{K * N}, 2);
      auto C = test::random_tensor<double>(moodnet::Shape{M * N}, 3);
      const std::int64_t lda = ta == Trans::no ? K : M, ldb = tb == Trans::no ? N : K;
      std::vector<double> expected(M * N);
      for (std::int64_t i = 0; i < M; ++i)
        for (std::int64_t j = 0; j < N; ++j) {
          double s = 0;
          for (std::int64_t k = 0; k < K; ++k)
            s += (ta == Trans::no ? A[i * lda + k] : A[k * lda + i]) * (tb == Trans::no ? B[k * ldb + j] : B[j * ldb + k]);
          expected[i * N + j] = s + C[i * N + j];
        }
      moodnet::kernels::gemm_rowmajor<double>(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, 1.0, C.data(), N);
      const auto e = test::compare(C.data(), expected.data(), M * N);
      CHECK(e.max_abs <= 1e-12);
    }
}
