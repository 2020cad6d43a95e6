#pragma once
// Test-time views of a batch, for any size and channel count, laid out sample-major so that rows
// [n*k, (n+1)*k) of the batch (and of the model's output) belong to image n:
//
//   centre_crop   x [N,C,H,W] -> [N,C,c,c]      the centred c x c window (how a model trained on
//                                              random c x c crops sees a test image)
//   tta_hflip     x [N,C,H,W] -> [2N,C,H,W]     views: original, mirrored
//   tta_ten_crop  x [N,C,H,W] -> [10N,C,o,o']   views: k x k crops at top-left, top-right,
//                                              bottom-left, bottom-right, centre, then the same 5
//                                              mirrored; o x o' = H x W or k x k (below)
//   tta_average   y [k*N, K]  -> [N, K]         mean over the k views (of logits or probabilities)
//
// Ten-crop choice: crops of k px (default: 11/12 of the shorter side, 44 of 48) are resized back
// to the input size (bilinear) by default, so the network always sees its input size — at 48 the
// 48/44 = 1.09 zoom lies inside the training affine's scale range 0.9-1.1. With
// resize_to_input = false the crops are fed at k x k: what a model trained on random k x k crops
// (LoaderOptions::crop) expects. Works on normalised floats (bilinear weights sum to 1, so
// resampling commutes with normalisation).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/data/augment.hpp"

namespace moodnet::data {

inline Tensor<float> centre_crop(TensorView<const float> x, int crop) {
  MOODNET_CHECK(x.rank() == 4, "centre_crop expects [N, C, H, W], got ", x.shape().str());
  const std::int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  MOODNET_CHECK(crop >= 1 && crop <= h && crop <= w, "centre crop size ", crop, " must be in [1, ", std::min(h, w),
                "] for images of ", h, "x", w);
  const std::int64_t y0 = (h - crop) / 2, x0 = (w - crop) / 2;
  Tensor<float> out = Tensor<float>::uninitialized({n, c, crop, crop});
  for (std::int64_t p = 0; p < n * c; ++p)
    for (int y = 0; y < crop; ++y)
      std::copy_n(x.data() + (p * h + y0 + y) * w + x0, crop, out.data() + (p * crop + y) * crop);
  return out;
}

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
  int crop = 0;                 // side of each crop; 0 = round(11/12 of the shorter side): 44 at 48
  bool resize_to_input = true;  // resize crops back to H x W (else output crop x crop)
};

inline Tensor<float> tta_ten_crop(TensorView<const float> x, const TenCropOptions& opt = {}) {
  MOODNET_CHECK(x.rank() == 4, "tta_ten_crop expects [N, C, H, W], got ", x.shape().str());
  const std::int64_t n = x.dim(0), c = x.dim(1);
  const int h = static_cast<int>(x.dim(2)), w = static_cast<int>(x.dim(3));
  const int k = opt.crop > 0 ? opt.crop : std::max(1, static_cast<int>(std::lround(std::min(h, w) * 11.0 / 12.0)));
  MOODNET_CHECK(k >= 1 && k <= h && k <= w, "ten-crop size ", k, " must be in [1, ", std::min(h, w), "] for images of ",
                h, "x", w);
  const int oh = opt.resize_to_input ? h : k, ow = opt.resize_to_input ? w : k;  // output size
  const int corner[5][2] = {{0, 0}, {0, w - k}, {h - k, 0}, {h - k, w - k}, {(h - k) / 2, (w - k) / 2}};  // (y0, x0)
  const std::int64_t plane = std::int64_t{oh} * ow;
  Tensor<float> out = Tensor<float>::uninitialized({10 * n, c, oh, ow});
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const float* src = x.data() + (i * c + ch) * h * w;
      for (int v = 0; v < 5; ++v) {
        float* dst = out.data() + ((10 * i + v) * c + ch) * plane;
        warp_affine(src, h, w, dst, oh, ow, crop_resize_map(corner[v][0], corner[v][1], k, k, oh, ow), Border::edge);
        float* mirrored = out.data() + ((10 * i + 5 + v) * c + ch) * plane;
        std::copy_n(dst, plane, mirrored);
        hflip(mirrored, oh, ow);
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
