#pragma once
// ImageShape: how one stored image is laid out, uint8 [channels, height, width] (planar, row-major).
// channels is 1 (gray) or 3 (RGB); a Dataset holds N such images in one buffer [N, C, H, W].
#include <cstdint>
#include <string>

#include "moodnet/core/error.hpp"

namespace moodnet::data {

// Largest side we store or resize to (stb_image refuses larger files too: STBI_MAX_DIMENSIONS).
inline constexpr int kMaxImageSide = 1 << 14;

struct ImageShape {
  int channels = 1, height = 48, width = 48;  // the default is FER-2013's 1 x 48 x 48

  constexpr std::int64_t plane() const { return std::int64_t{height} * width; }   // pixels of one channel
  constexpr std::int64_t numel() const { return plane() * channels; }             // bytes of one image
  std::string str() const {
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  }
  bool operator==(const ImageShape&) const = default;

  // Throws moodnet::Error naming `what` unless channels is 1 or 3 and both sides are in
  // [1, kMaxImageSide].
  void validate(const std::string& what) const {
    MOODNET_CHECK(channels == 1 || channels == 3, what, ": channels must be 1 (gray) or 3 (RGB), got ", channels);
    MOODNET_CHECK(height >= 1 && height <= kMaxImageSide && width >= 1 && width <= kMaxImageSide, what,
                  ": image size ", height, "x", width, " must be within 1..", kMaxImageSide, " per side");
  }
};

// FER-2013's stored images: 1 x 48 x 48.
inline constexpr ImageShape kFer2013Shape{1, 48, 48};

}  // namespace moodnet::data
