#pragma once
// The precision of moodnet's float matrix products (the GEMMs of im2col convolution, 1x1 convolution
// and Winograd; kernels/gemm_rowmajor.hpp): one process-wide setting, read at every product, as
// PyTorch's torch.set_float32_matmul_precision is.
//
//   fp32 (default)  products and sums in float (our AVX-512 sgemm, or Eigen)
//   bf16            each operand rounded to bfloat16 (8 significant bits) as it is packed, products
//                   summed in float by Intel AMX (kernels/gemm_bf16_amx.hpp). Activations, weights,
//                   gradients and optimizer state stay float ("fp32 master weights"); only the inputs
//                   of the multiplications lose bits: relative error ~2^-9 per operand.
//
// bf16 also sends dense convolutions to im2col + GEMM instead of the fp32 direct kernels
// (conv2d_use_direct); grouped ones stay direct, in fp32. Results stay bit-identical for any thread
// count (each GEMM is single-threaded with a fixed blocking, as sgemm is).
//
// Set it before the work it governs, not while kernels run on other threads. ScopedMatmulPrecision
// sets it for a scope (a training run, a test) and puts the previous value back.
#include <atomic>
#include <string_view>

#include "moodnet/core/error.hpp"
#include "moodnet/kernels/gemm_bf16_amx.hpp"

namespace moodnet::kernels {

enum class MatmulPrecision { fp32, bf16 };

namespace detail {
inline std::atomic<MatmulPrecision>& matmul_precision_setting() {
  static std::atomic<MatmulPrecision> p{MatmulPrecision::fp32};
  return p;
}
}  // namespace detail

inline MatmulPrecision matmul_precision() { return detail::matmul_precision_setting().load(std::memory_order_relaxed); }

inline const char* to_string(MatmulPrecision p) { return p == MatmulPrecision::bf16 ? "bf16" : "fp32"; }

// "fp32" | "bf16"; anything else is a one-line error naming the value.
inline MatmulPrecision parse_matmul_precision(std::string_view s) {
  if (s == "fp32") return MatmulPrecision::fp32;
  if (s == "bf16") return MatmulPrecision::bf16;
  fail("precision must be fp32 or bf16, got '", s, "'");
}

// Throws (the setting unchanged) when bf16 is asked for on a CPU or kernel without AMX-BF16.
inline void set_matmul_precision(MatmulPrecision p) {
  MOODNET_CHECK(p == MatmulPrecision::fp32 || amx_bf16_available(),
                "precision bf16: needs Intel AMX-BF16 (Xeon Sapphire Rapids or later, Linux 5.16+), which this "
                "machine does not offer; use fp32");
  detail::matmul_precision_setting().store(p, std::memory_order_relaxed);
}

class ScopedMatmulPrecision {
 public:
  explicit ScopedMatmulPrecision(MatmulPrecision p) : previous_(matmul_precision()) { set_matmul_precision(p); }
  ~ScopedMatmulPrecision() { detail::matmul_precision_setting().store(previous_, std::memory_order_relaxed); }
  ScopedMatmulPrecision(const ScopedMatmulPrecision&) = delete;
  ScopedMatmulPrecision& operator=(const ScopedMatmulPrecision&) = delete;

 private:
  MatmulPrecision previous_;
};

}  // namespace moodnet::kernels
