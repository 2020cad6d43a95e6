#pragma once
// gemm_rowmajor: the one matrix product the convolution kernels call (kernels/conv2d.hpp,
// kernels/winograd.hpp), choosing by type, build and matmul precision (kernels/matmul_precision.hpp):
//
//   float, precision bf16            gemm_bf16_amx (AMX: bf16 operands, float sums)
//   float, AVX-512 build             sgemm (kernels/sgemm.hpp)
//   otherwise (double, portable)     Eigen's GEMM on the calling thread (core/gemm.hpp)
//
// Every branch is single-threaded with a blocking fixed by the shapes: parallelism is the caller's.
#include <cstdint>
#include <type_traits>

#include "moodnet/core/gemm.hpp"
#include "moodnet/kernels/gemm_bf16_amx.hpp"
#include "moodnet/kernels/matmul_precision.hpp"
#include "moodnet/kernels/sgemm.hpp"

namespace moodnet::kernels {

// C[M, N] = op(A) op(B) + beta * C (beta 0 or 1) for any T: sgemm for float with AVX-512, else Eigen
// (single-threaded, core/gemm.hpp); for float under matmul precision bf16, gemm_bf16_amx.
template <class T>
inline void gemm_rowmajor(Trans ta, Trans tb, std::int64_t M, std::int64_t N, std::int64_t K, const T* A,
                          std::int64_t lda, const T* B, std::int64_t ldb, T beta, T* C, std::int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    if (matmul_precision() == MatmulPrecision::bf16) return gemm_bf16_amx(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
  }
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    sgemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc);
    return;
  } else
#endif
  {
    auto c = row_map(C, M, N, ldc);
    auto run = [&](const auto& a, const auto& b) {
      eigen_single_threaded([&] {
        if (beta == T(0))
          c.noalias() = a * b;
        else if (beta == T(1))
          c.noalias() += a * b;
        else
          c = beta * c + a * b;
      });
    };
    const auto a = row_map(A, ta == Trans::no ? M : K, ta == Trans::no ? K : M, lda);
    const auto b = row_map(B, tb == Trans::no ? K : N, tb == Trans::no ? N : K, ldb);
    if (ta == Trans::no && tb == Trans::no) run(a, b);
    else if (ta == Trans::no) run(a, b.transpose());
    else if (tb == Trans::no) run(a.transpose(), b);
    else run(a.transpose(), b.transpose());
  }
}

}  // namespace moodnet::kernels
