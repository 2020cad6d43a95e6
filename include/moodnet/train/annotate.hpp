#pragma once
// A photo with its classified boxes drawn on it (predict --annotate): each box outlined in a colour
// of its own and labelled above it (inside its top edge when there is no room above) with white
// text on a band of the box's colour, e.g. "happy 88%". Sizes follow the photo: lines of
// max(2, side/250) px and text of scale max(1, side/400) for side = the shorter side.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/image_decode.hpp"
#include "moodnet/data/photo.hpp"
#include "moodnet/train/canvas.hpp"

namespace moodnet::train {

struct BoxLabel {
  data::PixelBox box;
  std::string text;
};

// The colours of successive boxes (then repeated): saturated enough to stand out on skin and grays.
inline constexpr Color kBoxColors[] = {{230, 25, 75}, {60, 180, 75}, {0, 130, 200}, {245, 130, 48}, {145, 30, 180}};

// The upright image img (1 channel: gray, 3: RGB planes) as a canvas with `labels` drawn on it.
inline Canvas annotate_photo(const data::Image& img, const std::vector<BoxLabel>& labels) {
  MOODNET_CHECK(img.channels == 1 || img.channels == 3, "annotate: images have 1 or 3 channels, got ", img.channels);
  Canvas canvas(img.width, img.height);
  const std::size_t plane = static_cast<std::size_t>(img.width) * img.height;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const std::size_t i = static_cast<std::size_t>(y) * img.width + x;
      const std::uint8_t* p = img.pixels.data() + i;
      canvas.set_pixel(x, y, img.channels == 1 ? Color{p[0], p[0], p[0]} : Color{p[0], p[plane], p[2 * plane]});
    }
  const int side = std::min(img.width, img.height);
  const int thick = std::max(2, side / 250), scale = std::max(1, side / 400), pad = scale;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    const data::PixelBox& b = labels[k].box;
    const Color c = kBoxColors[k % std::size(kBoxColors)];
    for (int t = 0; t < thick; ++t) canvas.rect(b.x - t, b.y - t, b.w + 2 * t, b.h + 2 * t, c);
    const int band_h = Canvas::text_height(scale) + 2 * pad, band_w = Canvas::text_width(labels[k].text, scale) + 2 * pad;
    const int top = b.y - thick - band_h >= 0 ? b.y - thick - band_h : b.y;  // above the box, else inside it
    canvas.fill_rect(b.x - thick + 1, top, band_w, band_h, c);
    canvas.text(b.x - thick + 1 + pad, top + pad, labels[k].text, kWhite, scale);
  }
  return canvas;
}

}  // namespace moodnet::train
