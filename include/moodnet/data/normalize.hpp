#pragma once
// Input normalisation, per channel: x[c] = (pixel/255 - mean[c]) / std[c]. mean and std are
// computed once from the training split and recorded in the model's metadata, so inference
// applies exactly the same mapping. A Normalization with one value applies it to every channel
// (gray data, or one value chosen for all channels of RGB data).
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/dataset.hpp"

namespace moodnet::data {

struct Normalization {
  std::vector<float> mean{0.5f};   // of pixel/255, one per channel (or one for all)
  std::vector<float> std{0.25f};   // of pixel/255, > 0

  Normalization() = default;
  Normalization(float m, float s) : mean{m}, std{s} {}
  Normalization(std::vector<float> m, std::vector<float> s) : mean(std::move(m)), std(std::move(s)) {
    MOODNET_CHECK(!mean.empty() && mean.size() == std.size(), "normalisation needs as many means as stds, got ",
                  mean.size(), " and ", std.size());
  }

  int channels() const { return static_cast<int>(mean.size()); }
  float mean_of(int c) const { return mean[mean.size() == 1 ? 0 : static_cast<std::size_t>(c)]; }
  float std_of(int c) const { return std[std.size() == 1 ? 0 : static_cast<std::size_t>(c)]; }
  float apply(std::uint8_t pixel, int c = 0) const {
    return (static_cast<float>(pixel) * (1.0f / 255.0f) - mean_of(c)) / std_of(c);
  }
  float apply(float unit, int c = 0) const { return (unit - mean_of(c)) / std_of(c); }  // unit = pixel/255

  // Throws moodnet::Error unless there is one value, or one per channel of `shape`, and every std
  // is a finite positive number; `what` names the caller.
  void check_for(int image_channels, const std::string& what) const {
    MOODNET_CHECK(mean.size() == std.size() && (mean.size() == 1 || channels() == image_channels), what,
                  ": normalisation has ", mean.size(), " mean(s) and ", std.size(), " std(s) for images of ",
                  image_channels, " channel(s)");
    for (std::size_t c = 0; c < std.size(); ++c)
      MOODNET_CHECK(std[c] > 0 && std::isfinite(std[c]) && std::isfinite(mean[c]), what,
                    ": normalisation std must be > 0 and finite, got mean ", mean[c], " std ", std[c], " for channel ", c);
  }

  // "0.508/0.255" or "0.485,0.456,0.406/0.229,0.224,0.225": mean/std per channel, for logs.
  std::string str() const {
    auto list = [](const std::vector<float>& v) {
      std::string s;
      for (float x : v) {
        if (!s.empty()) s += ',';
        s += ::moodnet::detail::concat(x);
      }
      return s;
    };
    return list(mean) + "/" + list(std);
  }
};

// Mean and standard deviation of pixel/255 over every pixel of each channel of `d` (exact: one
// integer histogram per channel). Computed on the training split only.
inline Normalization compute_normalization(const Dataset& d) {
  MOODNET_CHECK(d.size() > 0, "cannot compute the normalisation of an empty dataset (", d.report.source, ")");
  const ImageShape s = d.shape();
  std::vector<std::uint64_t> hist(static_cast<std::size_t>(256 * s.channels), 0);
  for (std::int64_t i = 0; i < d.size(); ++i)
    for (int c = 0; c < s.channels; ++c) {
      const std::uint8_t* p = d.image(i) + c * s.plane();
      std::uint64_t* h = hist.data() + 256 * c;
      for (std::int64_t k = 0; k < s.plane(); ++k) ++h[p[k]];
    }
  Normalization r{std::vector<float>(static_cast<std::size_t>(s.channels)), std::vector<float>(static_cast<std::size_t>(s.channels))};
  for (int c = 0; c < s.channels; ++c) {
    double n = 0, sum = 0, s2 = 0;
    for (int v = 0; v < 256; ++v) {
      const double x = v / 255.0, k = static_cast<double>(hist[static_cast<std::size_t>(256 * c + v)]);
      n += k, sum += k * x, s2 += k * x * x;
    }
    const double mean = sum / n, var = std::max(0.0, s2 / n - mean * mean);
    r.mean[static_cast<std::size_t>(c)] = static_cast<float>(mean);
    r.std[static_cast<std::size_t>(c)] = static_cast<float>(std::sqrt(var));
    MOODNET_CHECK(r.std[static_cast<std::size_t>(c)] > 0, "dataset ", d.report.source, " has constant pixels",
                  s.channels > 1 ? " in channel " + std::to_string(c) : std::string(), ": standard deviation 0");
  }
  return r;
}

// out[i] = norm.apply(src[i]) for n pixels of one channel (norm must have one value).
inline void normalize_pixels(const std::uint8_t* src, float* out, std::int64_t n, const Normalization& norm) {
  MOODNET_CHECK(norm.channels() == 1, "normalize_pixels applies one mean/std; got ", norm.channels(),
                " channels (use normalize_images)");
  const float a = 1.0f / (255.0f * norm.std[0]), b = -norm.mean[0] / norm.std[0];
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(src[i]) * a + b;
}

// Normalises n images of `shape`: uint8 [n, C, H, W] -> float [n, C, H, W], channel c by
// (mean_of(c), std_of(c)).
inline void normalize_images(const std::uint8_t* src, float* out, std::int64_t n, const ImageShape& shape,
                             const Normalization& norm) {
  norm.check_for(shape.channels, "normalize_images");
  const std::int64_t plane = shape.plane();
  for (std::int64_t i = 0; i < n; ++i)
    for (int c = 0; c < shape.channels; ++c) {
      const float a = 1.0f / (255.0f * norm.std_of(c)), b = -norm.mean_of(c) / norm.std_of(c);
      const std::int64_t off = (i * shape.channels + c) * plane;
      for (std::int64_t k = 0; k < plane; ++k) out[off + k] = static_cast<float>(src[off + k]) * a + b;
    }
}

}  // namespace moodnet::data
