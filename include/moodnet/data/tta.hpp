#pragma once
// Test-time augmentation: k views of every image, laid out sample-major so that rows
// [n*k, (n+1)*k) of the batch (and of the model's output) belong to image n:
//
//   tta_hflip     x [N,1,H,W] -> [2N,1,H,W]    views: original, mirrored
//   tta_ten_crop  x [N,1,H,W] -> [10N,1,S,S]   views: crops at top-left, top-right, bottom-left,
//                                              bottom-right, centre, then the same 5 mirrored
//   tta_average   y [k*N, C]  -> [N, C]        mean over the k views (of logits or probabilities)
//
// Ten-crop choice: crops of `crop` px (default 44 of 48) are resized back to the input size (bilinear)
// by default, so the network always sees 48x48 — the 48/44 = 1.09 zoom lies inside the training
// affine's scale range 0.9-1.1. With resize_to_input = false the crops are fed at crop x crop
// (only for networks that pool globally). Works on normalised floats (bilinear weights sum to 1,
// so resampling commutes with normalisation).
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/data/augment.hpp"

namespace moodnet::data {

inline Tensor<float> tta_hflip(TensorView<const float> x) {
  MOODNET_CHECK(x.rank() == 4, "tta_hflip expects [N, C, H, W], got ", x.shape().str());
  const std::int64_t n = x.dim(0), c = x.dim(1);
  const int h = static_cast<int>(x.dim(2)), w = static_cast<int>(x.dim(3));
  Tensor<float> out = Tensor<float>::uninitialized({2 * n, c, h, w});
  for (std::int64_t i = 0; i < n; ++i) {
    out.item(2 * i).copy_from(x.item(i));
    out.item(2 * i + 1).copy_from(x.item(i));
    for (std::int64_t ch = 0; ch < c; ++ch) hflip(out.data() + ((2 * i + 1) * c + ch) * h * w, h, w);
  }
  return out;
}

struct TenCropOptions {
  int crop = 44;                // side of each crop
  bool resize_to_input = true;  // resize crops back to H x W (else output crop x crop)
};

inline Tensor<float> tta_ten_crop(TensorView<const float> x, const TenCropOptions& opt = {}) {
  MOODNET_CHECK(x.rank() == 4 && x.dim(2) == x.dim(3), "tta_ten_crop expects square [N, C, H, W], got ",
                x.shape().str());
  const std::int64_t n = x.dim(0), c = x.dim(1);
  const int s = static_cast<int>(x.dim(2)), k = opt.crop;
  MOODNET_CHECK(k >= 1 && k <= s, "ten-crop size ", k, " must be in [1, ", s, "]");
  const int o = opt.resize_to_input ? s : k;  // output side
  const int corner[5][2] = {{0, 0}, {0, s - k}, {s - k, 0}, {s - k, s - k}, {(s - k) / 2, (s - k) / 2}};  // (y0, x0)
  Tensor<float> out = Tensor<float>::uninitialized({10 * n, c, o, o});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const float* src = x.data() + (i * c + ch) * s * s;
      for (int v = 0; v < 5; ++v) {
        float* dst = out.data() + ((10 * i + v) * c + ch) * o * o;
        warp_affine(src, s, s, dst, o, o, crop_resize_map(corner[v][0], corner[v][1], k, k, o, o), Border::edge);
        float* mirrored = out.data() + ((10 * i + 5 + v) * c + ch) * o * o;
        std::copy_n(dst, o * o, mirrored);
        hflip(mirrored, o, o);
      }
    }
  return out;
}

inline Tensor<float> tta_average(TensorView<const float> y, int k) {
  MOODNET_CHECK(y.rank() == 2 && k >= 1 && y.dim(0) % k == 0, "tta_average expects [k*N, C] with k = ", k,
                ", got ", y.shape().str());
  const std::int64_t n = y.dim(0) / k, c = y.dim(1);
  Tensor<float> out({n, c});
  for (std::int64_t i = 0; i < n; ++i)
    for (int v = 0; v < k; ++v)
      for (std::int64_t j = 0; j < c; ++j) out(i, j) += y(i * k + v, j) / static_cast<float>(k);
  return out;
}

}  // namespace moodnet::data
