#pragma once
// What every 2-D convolution variant shares: the parameters (Conv2dParams), the choice of algorithm,
// and the threading conventions that keep the results bit-identical for any thread count.
//
//   x: [N, C, H, W]          w: [K, C/G, R, S] (OIHW)        b: [K] or nullptr
//   y: [N, K, OH, OW]        OH = (H + 2*pad_h - R) / stride_h + 1,  OW likewise
//
// Variants (kernels/conv2d.hpp picks one per call, Conv2dAlgo::automatic):
//   gemm    im2col + GEMM per sample block and group (kernels/conv2d.hpp); best for dense layers
//   direct  shifted-plane direct convolution (kernels/conv2d_direct.hpp); best for grouped layers
//           with few channels per group (ResNeXt), where a per-group GEMM is too small for the tile
//
// Threads: the work is split into items that depend on the shapes only (blocks of samples, groups);
// each item is computed by one thread in a fixed order. The weight gradient is a sum over the batch:
// it is reduced in kWeightGradChunks fixed chunks of the batch, each into its own accumulator, then
// combined in chunk order (reduce_weight_grad_in_chunks below), so its bits never depend on the
// number of threads.
#include <algorithm>
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/im2col.hpp"

namespace moodnet::kernels {

// automatic: the variant measured faster for the shape (see conv2d_use_direct in kernels/conv2d.hpp);
// gemm / direct force one (tests run both on every shape; they agree to rounding).
enum class Conv2dAlgo { automatic, gemm, direct };

struct Conv2dParams {
  std::int64_t N = 1, C = 1, H = 1, W = 1;  // input [N, C, H, W]
  std::int64_t K = 1;                       // output channels
  std::int64_t R = 3, S = 3;                // kernel height, width
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t groups = 1;  // 1 = dense, C = K = groups: depthwise (correct, not fast)
  Conv2dAlgo algo = Conv2dAlgo::automatic;

  std::int64_t out_h() const { return (H + 2 * pad_h - R) / stride_h + 1; }
  std::int64_t out_w() const { return (W + 2 * pad_w - S) / stride_w + 1; }
  std::int64_t c_per_group() const { return C / groups; }
  std::int64_t k_per_group() const { return K / groups; }

  Shape input_shape() const { return {N, C, H, W}; }
  Shape weight_shape() const { return {K, C / groups, R, S}; }
  Shape output_shape() const { return {N, K, out_h(), out_w()}; }
  // Forward multiply-accumulates for the whole batch (backward-input and backward-weight cost the same).
  double macs() const {
    return double(N) * double(K) * double(out_h()) * double(out_w()) * double(c_per_group()) * double(R * S);
  }
  // 1x1 kernel, stride 1, no padding: a plain GEMM per sample and group, no im2col.
  bool is_pointwise() const {
    return R == 1 && S == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
  }
  // The im2col geometry of one group of one sample.
  Im2colShape im2col_shape() const { return {C / groups, H, W, R, S, stride_h, stride_w, pad_h, pad_w}; }

  // Throws moodnet::Error naming the values when the parameters do not describe a convolution.
  void validate() const {
    MOODNET_CHECK(N > 0 && C > 0 && H > 0 && W > 0 && K > 0 && R > 0 && S > 0 && stride_h > 0 && stride_w > 0 &&
                      groups > 0,
                  "conv2d: sizes must be positive, got N=", N, " C=", C, " H=", H, " W=", W, " K=", K, " R=", R,
                  " S=", S, " stride=", stride_h, "x", stride_w, " groups=", groups);
    MOODNET_CHECK(pad_h >= 0 && pad_w >= 0, "conv2d: padding must be >= 0, got pad=", pad_h, "x", pad_w);
    MOODNET_CHECK(C % groups == 0 && K % groups == 0, "conv2d: groups=", groups,
                  " must divide both the input channels C=", C, " and the output channels K=", K);
    MOODNET_CHECK(R <= H + 2 * pad_h && S <= W + 2 * pad_w, "conv2d: kernel ", R, "x", S,
                  " is larger than the padded input ", H + 2 * pad_h, "x", W + 2 * pad_w, " (H=", H, " W=", W,
                  " pad=", pad_h, "x", pad_w, ")");
  }
};

// Fixed number of batch chunks for the weight-gradient reduction (never the thread count).
inline constexpr std::int64_t kWeightGradChunks = 4;

// Small images make thin GEMMs (a 6x6 output is 36 columns) in which Eigen spends its time packing
// the weights again for every sample. Such samples are unfolded side by side into one column
// buffer, [Cg*R*S, m*OHW], so that one GEMM covers m samples: m = ceil(kMinGemmColumns / OHW),
// at most kMaxSamplesPerGemm (and N). The blocking depends on the shapes only, never on the threads.
inline constexpr std::int64_t kMinGemmColumns = 256;
inline constexpr std::int64_t kMaxSamplesPerGemm = 16;

namespace detail {

// Samples per block when one block should cover at least `min_columns` output positions of
// `per_sample` each (at most kMaxSamplesPerGemm and N).
inline std::int64_t samples_per_block(std::int64_t N, std::int64_t per_sample, std::int64_t min_columns) {
  return std::clamp<std::int64_t>((min_columns + per_sample - 1) / per_sample, 1, std::min(kMaxSamplesPerGemm, N));
}
inline std::int64_t samples_per_gemm(const Conv2dParams& p) {
  return samples_per_block(p.N, p.out_h() * p.out_w(), kMinGemmColumns);
}

// Runs body(i, thread) for i in [0, count) inside one parallel region, statically scheduled: every
// item on one thread, whatever the thread count (for items that need no threads of their own).
template <class Body>
inline void parallel_items(std::int64_t count, Body&& body) {
#pragma omp parallel
  {
    const int t = thread_index();
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < count; ++i) body(i, t);
  }
}

// Runs body(i, thread) for i in [0, count); parallel over i when there are at least as many items as
// threads, else serially on the calling thread. Every GEMM inside stays single-threaded either way
// (gemm_rowmajor: our sgemm, or Eigen through eigen_single_threaded, core/gemm.hpp).
template <class Body>
inline void for_each_item(std::int64_t count, Body&& body) {
  if (count >= num_threads() && num_threads() > 1) {
    parallel_items(count, body);
  } else {
    for (std::int64_t i = 0; i < count; ++i) body(i, 0);
  }
}

// One scratch buffer of `elems` per thread, fetched before any parallel region (no allocation inside).
template <class T>
inline void reserve_per_thread(Workspace& ws, std::int64_t elems, int first_slot = 0) {
  const int nt = num_threads();
  ws.reserve_slots(first_slot + nt);
  for (int t = 0; t < nt; ++t) ws.get<T>(first_slot + t, elems);
}

// dw += sum over the batch, reduced deterministically. The batch is cut into
// chunks = min(N, kWeightGradChunks) fixed chunks, chunk c = samples [N*c/chunks, N*(c+1)/chunks);
// each chunk's sum is split into `parts` independent pieces (e.g. groups) that write disjoint parts
// of its accumulator. run(c, part, c0, c1, acc_c, thread) computes piece `part` of chunk c into acc_c
// (weight-sized, workspace slot c: the caller's per-thread scratch goes in slots >= chunks). Every
// (chunk, part) runs on one thread inside a parallel region (so any GEMM in it is single-threaded),
// and dw += acc_0 + acc_1 + ... in chunk order, element by element.
template <class T, class Run>
inline void reduce_weight_grad_in_chunks(std::int64_t N, std::int64_t wsize, std::int64_t parts, T* dw,
                                         Workspace& ws, Run&& run) {
  const std::int64_t chunks = std::min<std::int64_t>(N, kWeightGradChunks);
  ws.reserve_slots(static_cast<int>(chunks));
  for (std::int64_t c = 0; c < chunks; ++c) ws.get<T>(static_cast<int>(c), wsize);
  parallel_items(chunks * parts, [&](std::int64_t i, int t) {
    const std::int64_t c = i / parts;
    run(c, i % parts, N * c / chunks, N * (c + 1) / chunks, ws.get<T>(static_cast<int>(c), wsize), t);
  });
  const T* accs[kWeightGradChunks] = {};
  for (std::int64_t c = 0; c < chunks; ++c) accs[c] = ws.get<T>(static_cast<int>(c), wsize);
  parallel_for_chunks(wsize, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      T s = accs[0][i];
      for (std::int64_t c = 1; c < chunks; ++c) s += accs[c][i];
      dw[i] += s;
    }
  });
}

}  // namespace detail
}  // namespace moodnet::kernels
