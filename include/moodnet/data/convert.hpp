#pragma once
// Converting images between gray and RGB and to another stored shape:
//
//   RGB -> gray   ITU-R BT.601 luma exactly as PIL's convert("L"):
//                 L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 (16-bit fixed point, rounded)
//   gray -> RGB   the gray plane copied to R, G and B (PIL's convert("RGB"))
//
// convert_image() changes channels, then resizes (resize.hpp, with its aspect rule);
// convert_dataset() does it for every image of a Dataset, e.g. to train on MNIST at 32x32 or on
// FER-2013 as 3-channel input.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/image_shape.hpp"
#include "moodnet/data/resize.hpp"

namespace moodnet::data {

inline std::uint8_t luma_bt601(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}

// Planar src [from, plane] -> dst [to, plane] for from, to in {1, 3}; dst must not alias src.
inline void convert_channels(const std::uint8_t* src, int from, std::uint8_t* dst, int to, std::int64_t plane) {
  MOODNET_CHECK((from == 1 || from == 3) && (to == 1 || to == 3), "convert_channels: channels must be 1 or 3, got ",
                from, " -> ", to);
  if (from == to) {
    std::copy_n(src, plane * from, dst);
  } else if (from == 1) {
    for (int c = 0; c < 3; ++c) std::copy_n(src, plane, dst + c * plane);
  } else {
    for (std::int64_t i = 0; i < plane; ++i) dst[i] = luma_bt601(src[i], src[plane + i], src[2 * plane + i]);
  }
}

// One planar image of shape `from` into dst of shape `to`: channels first, then resize by `mode`.
// Returns true when the size changed (the image was resized).
inline bool convert_image(const std::uint8_t* src, const ImageShape& from, std::uint8_t* dst, const ImageShape& to,
                          ResizeMode mode) {
  if (from.height == to.height && from.width == to.width) {
    convert_channels(src, from.channels, dst, to.channels, from.plane());
    return false;
  }
  if (from.channels == to.channels) {
    resize_image(src, from.channels, from.height, from.width, dst, to.height, to.width, mode);
  } else {
    std::vector<std::uint8_t> tmp(static_cast<std::size_t>(from.plane() * to.channels));
    convert_channels(src, from.channels, tmp.data(), to.channels, from.plane());
    resize_image(tmp.data(), to.channels, from.height, from.width, dst, to.height, to.width, mode);
  }
  return true;
}

// A copy of `d` with every image converted to `to` (labels, keys, class names and the report kept;
// report.resized counts the images whose size changed). The new buffer is checked against memory
// before it is allocated; both copies exist until this returns.
inline Dataset convert_dataset(const Dataset& d, const ImageShape& to, ResizeMode mode = ResizeMode::crop) {
  const ImageShape from = d.shape();
  Dataset out = Dataset::with_capacity(d.class_names, d.size(), to, d.report.source);
  out.keys = d.keys;
  std::copy_n(d.labels.data(), d.size(), out.labels.data());
  out.report = d.report;
  std::int64_t resized = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : resized)
  for (std::int64_t i = 0; i < d.size(); ++i) resized += convert_image(d.image(i), from, out.image(i), to, mode) ? 1 : 0;
  out.report.resized = resized;
  return out;
}

}  // namespace moodnet::data
