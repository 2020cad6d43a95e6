#pragma once
// Input normalisation x = (pixel/255 - mean) / std. mean and std are computed once from the
// training set and recorded in the model's metadata (input_mean, input_std), so inference applies
// exactly the same mapping.
#include <cmath>
#include <cstdint>

#include "moodnet/core/error.hpp"
#include "moodnet/data/dataset.hpp"

namespace moodnet::data {

struct Normalization {
  float mean = 0.5f;  // of pixel/255
  float std = 0.25f;  // of pixel/255
  float apply(std::uint8_t pixel) const { return (static_cast<float>(pixel) * (1.0f / 255.0f) - mean) / std; }
  float apply(float unit) const { return (unit - mean) / std; }  // unit = pixel/255
};

// Mean and standard deviation of pixel/255 over every pixel of `d` (exact: integer histogram).
inline Normalization compute_normalization(const Dataset& d) {
  MOODNET_CHECK(d.size() > 0, "cannot compute the normalisation of an empty dataset (", d.report.source, ")");
  std::uint64_t hist[256] = {};
  const std::uint8_t* p = d.images.data();
  for (std::int64_t i = 0, n = d.size() * kImagePixels; i < n; ++i) ++hist[p[i]];
  double n = 0, s = 0, s2 = 0;
  for (int v = 0; v < 256; ++v) {
    const double x = v / 255.0, c = static_cast<double>(hist[v]);
    n += c, s += c * x, s2 += c * x * x;
  }
  const double mean = s / n, var = std::max(0.0, s2 / n - mean * mean);
  Normalization r{static_cast<float>(mean), static_cast<float>(std::sqrt(var))};
  MOODNET_CHECK(r.std > 0, "dataset ", d.report.source, " has constant pixels: standard deviation 0");
  return r;
}

// out[i] = norm.apply(src[i]) for n pixels.
inline void normalize_pixels(const std::uint8_t* src, float* out, std::int64_t n, const Normalization& norm) {
  const float a = 1.0f / (255.0f * norm.std), b = -norm.mean / norm.std;
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(src[i]) * a + b;
}

}  // namespace moodnet::data
