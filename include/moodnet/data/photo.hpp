#pragma once
// A photo as a model input: decoded, turned upright by its EXIF orientation, optionally cut to a
// box the user gives (a face), then fitted to the model's stored size [C, H, W] by one of three
// rules. This is what predict does with each file; datasets keep their own loader (image_folder.hpp).
//
// Fit rules, for a source of aspect w/h different from the target's W/H:
//   crop       (default) resize the largest centred window with the target's aspect (resize.hpp's
//              ResizeMode::crop): nothing is distorted, the borders of the longer side are lost;
//   stretch    resize each axis to the target: the whole image, distorted (what predict did before);
//   letterbox  scale the whole image to fit inside the target, keeping its aspect, and fill the two
//              bands with a constant per channel (the caller passes the training mean, so the bands
//              normalise to 0): nothing is lost or distorted, the face gets fewer pixels.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/exif.hpp"
#include "moodnet/data/image_decode.hpp"
#include "moodnet/data/image_shape.hpp"
#include "moodnet/data/resize.hpp"

namespace moodnet::data {

enum class Fit { crop, stretch, letterbox };

inline const char* fit_name(Fit f) { return f == Fit::crop ? "crop" : f == Fit::stretch ? "stretch" : "letterbox"; }
inline Fit parse_fit(const std::string& s) {
  if (s == "crop") return Fit::crop;
  if (s == "stretch") return Fit::stretch;
  if (s == "letterbox") return Fit::letterbox;
  fail("unknown fit '", s, "' (expected crop, stretch or letterbox)");
}

// A rectangle of an upright image in pixels: columns [x, x + w), rows [y, y + h).
struct PixelBox {
  int x = 0, y = 0, w = 0, h = 0;
};

// "X,Y,W,H" (whole numbers, W and H >= 1) -> PixelBox; `what` names the flag in the error.
inline PixelBox parse_pixel_box(const std::string& text, const std::string& what) {
  std::array<long long, 4> v{};
  std::size_t at = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::size_t end = i + 1 < v.size() ? text.find(',', at) : text.size();
    const std::string part = end == std::string::npos ? "" : text.substr(at, end - at);
    const bool digits = !part.empty() && part.size() <= 6 &&
                        std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    MOODNET_CHECK(digits && end != std::string::npos, what, ": '", text,
                  "' is not X,Y,W,H (four whole numbers in pixels, e.g. 120,80,200,200)");
    v[i] = std::stoll(part);
    at = end + 1;
  }
  MOODNET_CHECK(v[2] >= 1 && v[3] >= 1, what, ": '", text, "' has an empty box (W and H must be at least 1)");
  return {static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]), static_cast<int>(v[3])};
}

// The image as it is meant to be seen, for an EXIF orientation 1..8 (exif.hpp's table): for each
// displayed pixel (x', y') of the result [C, H', W'] the stored pixel (x, y) of img [C, H, W] is
//   1 (x', y')            2 (W-1-x', y')        3 (W-1-x', H-1-y')    4 (x', H-1-y')
//   5 (y', x')            6 (y', H-1-x')        7 (W-1-y', H-1-x')    8 (W-1-y', x')
// with H' = W and W' = H for 5-8. Any other value returns the image unchanged.
inline Image orient_image(const Image& img, int orientation) {
  if (orientation < 2 || orientation > 8) return img;
  const int w = img.width, h = img.height;
  const bool swap = orientation >= 5;
  Image out;
  out.channels = img.channels;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.pixels.resize(img.pixels.size());
  const std::size_t plane = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  for (int c = 0; c < img.channels; ++c) {
    const std::uint8_t* src = img.pixels.data() + c * plane;
    std::uint8_t* dst = out.pixels.data() + c * plane;
    for (int yo = 0; yo < out.height; ++yo)
      for (int xo = 0; xo < out.width; ++xo) {
        int x = xo, y = yo;
        switch (orientation) {
          case 2: x = w - 1 - xo; break;
          case 3: x = w - 1 - xo, y = h - 1 - yo; break;
          case 4: y = h - 1 - yo; break;
          case 5: x = yo, y = xo; break;
          case 6: x = yo, y = h - 1 - xo; break;
          case 7: x = w - 1 - yo, y = h - 1 - xo; break;
          case 8: x = w - 1 - yo, y = xo; break;
        }
        dst[static_cast<std::size_t>(yo) * out.width + xo] = src[static_cast<std::size_t>(y) * w + x];
      }
  }
  return out;
}

// The box `b` of img, as a new image. Throws moodnet::Error naming `name` and the image's size when
// the box does not lie inside it.
inline Image crop_image(const Image& img, const PixelBox& b, const std::string& name) {
  MOODNET_CHECK(b.w >= 1 && b.h >= 1 && b.x >= 0 && b.y >= 0 && b.x <= img.width - b.w && b.y <= img.height - b.h,
                "'", name, "': the box ", b.x, ",", b.y, ",", b.w, ",", b.h, " (x,y,w,h) does not fit in the image (",
                img.width, "x", img.height, " pixels, upright)");
  Image out;
  out.channels = img.channels, out.width = b.w, out.height = b.h;
  out.pixels.resize(static_cast<std::size_t>(b.w) * b.h * img.channels);
  const std::size_t plane = static_cast<std::size_t>(img.width) * img.height;
  std::uint8_t* dst = out.pixels.data();
  for (int c = 0; c < img.channels; ++c)
    for (int y = 0; y < b.h; ++y, dst += b.w)
      std::copy_n(img.pixels.data() + c * plane + static_cast<std::size_t>(b.y + y) * img.width + b.x, b.w, dst);
  return out;
}

// Fits img (channels already those of `shape`) into out [shape.channels, shape.height, shape.width]
// by `fit` (see the header comment). `pad` holds one value per channel (or one for all): the
// letterbox bands.
inline void fit_image(const Image& img, const ImageShape& shape, Fit fit, const std::vector<std::uint8_t>& pad,
                      std::uint8_t* out) {
  MOODNET_CHECK(img.channels == shape.channels, "fit: image has ", img.channels, " channel(s), target ", shape.str());
  if (fit != Fit::letterbox) {
    resize_image(img.pixels.data(), img.channels, img.height, img.width, out, shape.height, shape.width,
                 fit == Fit::crop ? ResizeMode::crop : ResizeMode::stretch);
    return;
  }
  MOODNET_CHECK(pad.size() == 1 || pad.size() == static_cast<std::size_t>(shape.channels),
                "letterbox: ", pad.size(), " pad values for ", shape.channels, " channel(s)");
  // Scale s = min(H/h, W/w): one side fills the target exactly, the other gets h*s or w*s pixels.
  const double s = std::min(static_cast<double>(shape.height) / img.height, static_cast<double>(shape.width) / img.width);
  const int rh = std::clamp(static_cast<int>(std::lround(img.height * s)), 1, shape.height);
  const int rw = std::clamp(static_cast<int>(std::lround(img.width * s)), 1, shape.width);
  std::vector<std::uint8_t> inner(static_cast<std::size_t>(rh) * rw * shape.channels);
  resize_image(img.pixels.data(), img.channels, img.height, img.width, inner.data(), rh, rw, ResizeMode::stretch);
  const int y0 = (shape.height - rh) / 2, x0 = (shape.width - rw) / 2;
  for (int c = 0; c < shape.channels; ++c) {
    std::uint8_t* plane = out + c * shape.plane();
    std::fill_n(plane, shape.plane(), pad[pad.size() == 1 ? 0 : static_cast<std::size_t>(c)]);
    for (int y = 0; y < rh; ++y)
      std::copy_n(inner.data() + (static_cast<std::size_t>(c) * rh + y) * rw, rw,
                  plane + static_cast<std::size_t>(y0 + y) * shape.width + x0);
  }
}

// How predict turns one file into a model input.
struct PhotoOptions {
  Fit fit = Fit::crop;
  std::optional<PixelBox> box;       // cut this out of the upright image first
  std::vector<std::uint8_t> pad{0};  // letterbox bands, one per channel or one for all
  bool use_exif = true;              // turn JPEGs upright by their EXIF orientation
};

// Decodes image file bytes to `channels` (1 or 3) and, when use_exif, turns a JPEG upright by its
// EXIF orientation. Errors name `name`.
inline Image decode_upright(const std::vector<std::uint8_t>& bytes, const std::string& name, int channels,
                            bool use_exif = true) {
  Image img = decode_image(bytes.data(), bytes.size(), name, channels);
  if (const int turn = use_exif ? jpeg_exif_orientation(bytes.data(), bytes.size()) : 1; turn != 1)
    img = orient_image(img, turn);
  return img;
}

// Reads `path`, decodes it to shape.channels, turns it upright, cuts o.box and fits it into out
// [shape.channels, shape.height, shape.width]. Errors name `name`.
inline void load_photo(const std::filesystem::path& path, const std::string& name, const ImageShape& shape,
                       const PhotoOptions& o, std::uint8_t* out) {
  Image img = decode_upright(read_file_bytes(path), name, shape.channels, o.use_exif);
  if (o.box) img = crop_image(img, *o.box, name);
  fit_image(img, shape, o.fit, o.pad, out);
}

}  // namespace moodnet::data
