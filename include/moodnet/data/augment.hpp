#pragma once
// Per-sample training augmentation of one image of any size and channel count, seeded.
//
// augment_sample() turns a uint8 [C, H, W] image into a normalised float [C, h, w] image, where
// h x w is the training crop (c x c) or the stored H x W:
//
//   pixel/255 -> training crop (random c x c window of the stored image) -> crop (pad p + random
//   crop, or random resized crop) -> horizontal flip -> random affine (rotation, scale,
//   translation; bilinear) -> brightness/contrast jitter -> normalise (x - mean[c]) / std[c]
//   -> random erasing (fill 0 = the mean, or N(0,1) noise)
//
// The horizontal flip is a Bernoulli(hflip_p) draw, or the caller's decision (Flip::yes / no: the
// loader's alternating flip, data/loader.hpp); the draw is taken either way, so every other
// transform sees the same random numbers in both modes.
//
// Every channel gets the same geometry (one draw per sample, applied to each plane); jitter scales
// all channels alike about the mean of all the image's values. Pixel magnitudes of a recipe
// (crop_padding, translate_px) are given for images of side `reference_size` and scale with the
// side actually augmented (min(h, w)): the FER-2013 recipe's 4 px at 48 is 3 px at 32 and 19 px
// at 224. Angles, zoom factors and area fractions need no scaling.
//
// All randomness comes from the Rng passed in; the loader gives each sample its own stream derived
// from (seed, epoch, position in the epoch), so results never depend on threads.
// The building blocks (hflip, crop_shifted, warp_affine, erase_rect) are exposed for TTA and tests.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/image_shape.hpp"
#include "moodnet/data/normalize.hpp"

namespace moodnet::data {

// What geometric transforms put outside the source image: the nearest edge pixel or black (0).
enum class Border { edge, zero };
enum class CropMode { none, pad, resized };
// How augment_sample decides the horizontal flip: draw it with probability hflip_p, or take the
// caller's decision. A decision replaces the draw only where the recipe flips (hflip_p > 0).
enum class Flip { draw, yes, no };

struct AugmentConfig {
  // The image side the pixel magnitudes below (crop_padding, translate_px) are meant for; they are
  // scaled by side / reference_size for another side. 0 = use them as given, at any size.
  int reference_size = 0;
  // Crop: pad `crop_padding` px on every side and take a random window of the image's size (shift
  // of up to ±padding px), or a random resized crop (area fraction and aspect ratio ranges,
  // scaled back to the image's size bilinearly).
  CropMode crop = CropMode::none;
  int crop_padding = 0;
  double resized_area_min = 0.8, resized_area_max = 1.0;
  double resized_aspect_min = 3.0 / 4.0, resized_aspect_max = 4.0 / 3.0;
  double hflip_p = 0.0;
  // Random affine about the image centre, applied with probability affine_p.
  double affine_p = 0.0;
  double rotate_deg = 0.0;                 // angle uniform in [-rotate_deg, rotate_deg]
  double scale_min = 1.0, scale_max = 1.0;  // zoom factor uniform in [scale_min, scale_max]
  double translate_px = 0.0;               // shift uniform in [-translate_px, translate_px] per axis
  Border border = Border::edge;            // for crop padding and affine
  // Brightness (multiply by 1 + U[-b, b]) and contrast (scale about the image mean by
  // 1 + U[-c, c]) jitter with probability jitter_p, clamped to [0, 1].
  double jitter_p = 0.0, brightness = 0.0, contrast = 0.0;
  // Random erasing (Zhong et al. 2017) after normalisation: a rectangle of area fraction
  // U[area_min, area_max] and aspect ratio log-U[aspect_min, aspect_max] set to 0 (the dataset
  // mean) or, with erase_random_fill, N(0, 1) noise.
  double erase_p = 0.0, erase_area_min = 0.02, erase_area_max = 0.25;
  double erase_aspect_min = 0.3, erase_aspect_max = 3.3;
  bool erase_random_fill = false;

  // No augmentation at all.
  static AugmentConfig none() { return {}; }

  // The CPU-budget recipe for FER-2013 (../shared/research/fer2013-records.md §3): pad-4 random
  // crop, hflip 0.5, affine p 0.5 (±10°, scale 0.9-1.1; no extra translation, the crop already
  // shifts ±4 px), brightness/contrast ±0.2 with p 0.5, random erasing p 0.5 of 2-25 % of the
  // area; then scaled by `strength` (see scaled()). Pixel magnitudes are for 48 px and scale with
  // the image size, so it serves as a general recipe; set hflip_p = 0 where a mirror image
  // changes the class (digits, text).
  // erase_p: the recipe's random-erasing probability at strength 1 (the trainers' --erase; 0.5 is
  // the recipe, and fer2013(s) is bit-identical to what it was before the option existed).
  static AugmentConfig fer2013(double strength = 1.0, double erase_p = 0.5) {
    AugmentConfig c;
    c.reference_size = 48;
    c.crop = CropMode::pad;
    c.crop_padding = 4;
    c.hflip_p = 0.5;
    c.affine_p = 0.5;
    c.rotate_deg = 10.0;
    c.scale_min = 0.9;
    c.scale_max = 1.1;
    c.translate_px = 0.0;
    c.jitter_p = 0.5;
    c.brightness = 0.2;
    c.contrast = 0.2;
    c.erase_p = erase_p;
    c.erase_area_min = 0.02;
    c.erase_area_max = 0.25;
    return c.scaled(strength);
  }

  // This recipe with every magnitude multiplied by s (padding, crop area loss, angle, zoom range,
  // translation, jitter, erased area) and every probability except hflip's by min(s, 1).
  // s = 0 is no augmentation; s = 1 is this config; hflip keeps its probability for any s > 0.
  AugmentConfig scaled(double s) const {
    MOODNET_CHECK(s >= 0 && std::isfinite(s), "augmentation strength must be >= 0, got ", s);
    if (s == 0) return none();
    AugmentConfig c = *this;
    const double p = std::min(s, 1.0);
    c.crop_padding = static_cast<int>(std::lround(crop_padding * s));
    c.resized_area_min = std::clamp(1.0 - (1.0 - resized_area_min) * s, 0.05, 1.0);
    c.resized_area_max = std::max(c.resized_area_min, std::clamp(1.0 - (1.0 - resized_area_max) * s, 0.05, 1.0));
    c.affine_p = affine_p * p;
    c.rotate_deg = rotate_deg * s;
    c.scale_min = std::max(0.1, 1.0 - (1.0 - scale_min) * s);
    c.scale_max = std::max(c.scale_min, 1.0 + (scale_max - 1.0) * s);
    c.translate_px = translate_px * s;
    c.jitter_p = jitter_p * p;
    c.brightness = std::min(0.95, brightness * s);
    c.contrast = std::min(0.95, contrast * s);
    c.erase_p = erase_p * p;
    c.erase_area_max = std::min(1.0, erase_area_max * s);
    c.erase_area_min = std::min(c.erase_area_max, erase_area_min * s);
    return c;
  }

  // Throws moodnet::Error naming the first invalid field.
  void validate() const {
    auto prob = [](double v, const char* name) {
      MOODNET_CHECK(v >= 0 && v <= 1, "AugmentConfig.", name, " must be a probability in [0, 1], got ", v);
    };
    prob(hflip_p, "hflip_p");
    prob(affine_p, "affine_p");
    prob(jitter_p, "jitter_p");
    prob(erase_p, "erase_p");
    MOODNET_CHECK(reference_size >= 0, "AugmentConfig.reference_size must be >= 0, got ", reference_size);
    MOODNET_CHECK(crop_padding >= 0 && (reference_size == 0 || crop_padding <= reference_size),
                  "AugmentConfig.crop_padding must be in [0, reference_size ", reference_size, "], got ", crop_padding);
    MOODNET_CHECK(resized_area_min > 0 && resized_area_min <= resized_area_max && resized_area_max <= 1,
                  "AugmentConfig.resized_area range must satisfy 0 < min <= max <= 1, got ", resized_area_min, "..",
                  resized_area_max);
    MOODNET_CHECK(resized_aspect_min > 0 && resized_aspect_min <= resized_aspect_max,
                  "AugmentConfig.resized_aspect range is invalid: ", resized_aspect_min, "..", resized_aspect_max);
    MOODNET_CHECK(rotate_deg >= 0 && rotate_deg <= 180, "AugmentConfig.rotate_deg must be in [0, 180], got ", rotate_deg);
    MOODNET_CHECK(scale_min > 0 && scale_min <= scale_max, "AugmentConfig.scale range must satisfy 0 < min <= max, got ",
                  scale_min, "..", scale_max);
    MOODNET_CHECK(translate_px >= 0 && (reference_size == 0 || translate_px <= reference_size),
                  "AugmentConfig.translate_px must be in [0, reference_size ", reference_size, "], got ", translate_px);
    MOODNET_CHECK(brightness >= 0 && brightness < 1 && contrast >= 0 && contrast < 1,
                  "AugmentConfig.brightness/contrast must be in [0, 1), got ", brightness, ", ", contrast);
    MOODNET_CHECK(erase_area_min >= 0 && erase_area_min <= erase_area_max && erase_area_max <= 1,
                  "AugmentConfig.erase_area range must satisfy 0 <= min <= max <= 1, got ", erase_area_min, "..",
                  erase_area_max);
    MOODNET_CHECK(erase_aspect_min > 0 && erase_aspect_min <= erase_aspect_max,
                  "AugmentConfig.erase_aspect range is invalid: ", erase_aspect_min, "..", erase_aspect_max);
  }
};

// ---- building blocks on float images [h, w], row-major ------------------------------------------

// Mirrors left-right in place. Applying it twice is the identity.
inline void hflip(float* img, int h, int w) {
  for (int y = 0; y < h; ++y) std::reverse(img + static_cast<std::ptrdiff_t>(y) * w, img + static_cast<std::ptrdiff_t>(y + 1) * w);
}

// dst(y, x) = src(y + dy, x + dx): the window of a padded image; outside pixels follow `border`.
// With |dy|, |dx| <= p this is "pad p, crop h x w at offset (p + dy, p + dx)".
inline void crop_shifted(const float* src, float* dst, int h, int w, int dy, int dx, Border border) {
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int sy = y + dy, sx = x + dx;
      float v;
      if (sy >= 0 && sy < h && sx >= 0 && sx < w) {
        v = src[sy * w + sx];
      } else if (border == Border::zero) {
        v = 0.0f;
      } else {
        sy = std::clamp(sy, 0, h - 1), sx = std::clamp(sx, 0, w - 1);
        v = src[sy * w + sx];
      }
      dst[y * w + x] = v;
    }
}

// Maps a destination pixel (x, y) to source coordinates: sx = a x + b y + c, sy = d x + e y + f.
struct Affine {
  double a = 1, b = 0, c = 0, d = 0, e = 1, f = 0;
};

// Inverse map of "rotate by angle_deg (counter-clockwise on screen), zoom by scale, then shift by
// (tx, ty) px" about the centre of an h x w image.
inline Affine affine_about_centre(double angle_deg, double scale, double tx, double ty, int h, int w) {
  const double th = angle_deg * 3.14159265358979323846 / 180.0;
  const double cs = std::cos(th) / scale, sn = std::sin(th) / scale;
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  // src = R(-th)/scale * (dst - centre - t) + centre, with y pointing down.
  Affine m;
  m.a = cs, m.b = -sn, m.d = sn, m.e = cs;
  const double ux = -cx - tx, uy = -cy - ty;
  m.c = cs * ux - sn * uy + cx;
  m.f = sn * ux + cs * uy + cy;
  return m;
}

// Bilinear resampling of src [sh, sw] into dst [dh, dw] through the inverse map m.
inline void warp_affine(const float* src, int sh, int sw, float* dst, int dh, int dw, const Affine& m, Border border) {
  auto at = [&](int y, int x) -> float {
    if (y >= 0 && y < sh && x >= 0 && x < sw) return src[y * sw + x];
    if (border == Border::zero) return 0.0f;
    return src[std::clamp(y, 0, sh - 1) * sw + std::clamp(x, 0, sw - 1)];
  };
  for (int y = 0; y < dh; ++y)
    for (int x = 0; x < dw; ++x) {
      const double sx = m.a * x + m.b * y + m.c, sy = m.d * x + m.e * y + m.f;
      float v;
      if (!(sx > -1.0 && sx < sw && sy > -1.0 && sy < sh) && border == Border::zero) {
        v = 0.0f;
      } else {
        const double fx0 = std::floor(std::clamp(sx, -2.0, sw + 1.0)), fy0 = std::floor(std::clamp(sy, -2.0, sh + 1.0));
        const int x0 = static_cast<int>(fx0), y0 = static_cast<int>(fy0);
        const float fx = static_cast<float>(std::clamp(sx, -2.0, sw + 1.0) - fx0);
        const float fy = static_cast<float>(std::clamp(sy, -2.0, sh + 1.0) - fy0);
        v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
      dst[y * dw + x] = v;
    }
}

// The inverse map that samples the crop [y0, y0+ch) x [x0, x0+cw) of a source onto dh x dw
// pixels (pixel centres aligned, as resize).
inline Affine crop_resize_map(double y0, double x0, double ch, double cw, int dh, int dw) {
  Affine m;
  m.a = cw / dw, m.b = 0, m.c = x0 + 0.5 * cw / dw - 0.5;
  m.d = 0, m.e = ch / dh, m.f = y0 + 0.5 * ch / dh - 0.5;
  return m;
}

// Sets the rectangle [y0, y0+eh) x [x0, x0+ew) (clipped to the image) to `value`, or to N(0, 1)
// draws from rng when rng is given.
inline void erase_rect(float* img, int h, int w, int y0, int x0, int eh, int ew, float value, Rng* rng = nullptr) {
  for (int y = std::max(0, y0); y < std::min(h, y0 + eh); ++y)
    for (int x = std::max(0, x0); x < std::min(w, x0 + ew); ++x)
      img[y * w + x] = rng ? static_cast<float>(rng->normal()) : value;
}

// ---- the per-sample pipeline -------------------------------------------------------------------

// src: uint8 [C, H, W] of `shape`; out: float [C, h, w], normalised per channel, where h = w = crop
// when 0 < crop (a random crop x crop window of the stored image, crop <= min(H, W)) and h x w =
// H x W when crop is 0. cfg must be valid (cfg.validate()); norm has one value or C. flip: the
// flip's decision (Flip above; draw = random with hflip_p).
inline void augment_sample(const std::uint8_t* src, const ImageShape& shape, int crop, float* out,
                           const AugmentConfig& cfg, const Normalization& norm, Rng& rng, Flip flip = Flip::draw) {
  const int C = shape.channels;
  const bool cropping = crop > 0 && (crop < shape.height || crop < shape.width);
  const int H = cropping ? crop : shape.height, W = cropping ? crop : shape.width;
  const int P = H * W;  // pixels per channel
  MOODNET_ASSERT(!cropping || (crop <= shape.height && crop <= shape.width));
  thread_local std::vector<float> buf_a, buf_b;  // per-thread scratch [C, H, W], kept between calls
  buf_a.resize(static_cast<std::size_t>(C) * P);
  buf_b.resize(static_cast<std::size_t>(C) * P);
  float* cur = buf_a.data();
  float* tmp = buf_b.data();
  auto swap_bufs = [&] { std::swap(cur, tmp); };
  auto per_channel = [&](auto&& f) {
    for (int c = 0; c < C; ++c) f(cur + static_cast<std::ptrdiff_t>(c) * P, tmp + static_cast<std::ptrdiff_t>(c) * P);
  };

  int y0 = 0, x0 = 0;  // the training crop's window
  if (cropping) {
    y0 = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(shape.height - H + 1)));
    x0 = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(shape.width - W + 1)));
  }
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y) {
      const std::uint8_t* row = src + c * shape.plane() + static_cast<std::int64_t>(y0 + y) * shape.width + x0;
      float* dst = cur + static_cast<std::ptrdiff_t>(c) * P + static_cast<std::ptrdiff_t>(y) * W;
      for (int x = 0; x < W; ++x) dst[x] = static_cast<float>(row[x]) * (1.0f / 255.0f);
    }

  // Pixel magnitudes scale with the side augmented (exactly 1 at the reference size).
  const double px = cfg.reference_size > 0 ? static_cast<double>(std::min(H, W)) / cfg.reference_size : 1.0;
  if (cfg.crop == CropMode::pad && cfg.crop_padding > 0) {
    const int p = static_cast<int>(std::lround(cfg.crop_padding * px));
    const int dy = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(2 * p + 1))) - p;
    const int dx = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(2 * p + 1))) - p;
    per_channel([&](float* a, float* b) { crop_shifted(a, b, H, W, dy, dx, cfg.border); });
    swap_bufs();
  } else if (cfg.crop == CropMode::resized) {
    const double area = rng.uniform(cfg.resized_area_min, cfg.resized_area_max) * P;
    const double ratio = std::exp(rng.uniform(std::log(cfg.resized_aspect_min), std::log(cfg.resized_aspect_max)));
    const double cw = std::min<double>(W, std::sqrt(area * ratio)), ch = std::min<double>(H, std::sqrt(area / ratio));
    const double cx0 = rng.uniform(0.0, W - cw), cy0 = rng.uniform(0.0, H - ch);
    const Affine m = crop_resize_map(cy0, cx0, ch, cw, H, W);
    per_channel([&](float* a, float* b) { warp_affine(a, H, W, b, H, W, m, Border::edge); });
    swap_bufs();
  }
  if (cfg.hflip_p > 0) {
    const bool drawn = rng.bernoulli(cfg.hflip_p);  // drawn in every mode: the later draws stay the same
    if (flip == Flip::draw ? drawn : flip == Flip::yes) per_channel([&](float* a, float*) { hflip(a, H, W); });
  }
  if (cfg.affine_p > 0 && rng.bernoulli(cfg.affine_p)) {
    const double angle = rng.uniform(-cfg.rotate_deg, cfg.rotate_deg);
    const double scale = rng.uniform(cfg.scale_min, cfg.scale_max);
    const double tx = rng.uniform(-cfg.translate_px * px, cfg.translate_px * px);
    const double ty = rng.uniform(-cfg.translate_px * px, cfg.translate_px * px);
    const Affine m = affine_about_centre(angle, scale, tx, ty, H, W);
    per_channel([&](float* a, float* b) { warp_affine(a, H, W, b, H, W, m, cfg.border); });
    swap_bufs();
  }
  const int N = C * P;
  if (cfg.jitter_p > 0 && rng.bernoulli(cfg.jitter_p)) {
    const float bright = static_cast<float>(1.0 + rng.uniform(-cfg.brightness, cfg.brightness));
    const float contrast = static_cast<float>(1.0 + rng.uniform(-cfg.contrast, cfg.contrast));
    float mean = 0;
    for (int i = 0; i < N; ++i) mean += cur[i];
    mean = mean / N * bright;
    for (int i = 0; i < N; ++i) cur[i] = std::clamp((cur[i] * bright - mean) * contrast + mean, 0.0f, 1.0f);
  }
  for (int c = 0; c < C; ++c) {
    const float m = norm.mean_of(c), sd = norm.std_of(c);
    for (int i = c * P; i < (c + 1) * P; ++i) out[i] = (cur[i] - m) / sd;
  }
  if (cfg.erase_p > 0 && rng.bernoulli(cfg.erase_p)) {
    const double area = rng.uniform(cfg.erase_area_min, cfg.erase_area_max) * P;
    const double ratio = std::exp(rng.uniform(std::log(cfg.erase_aspect_min), std::log(cfg.erase_aspect_max)));
    const int eh = std::clamp(static_cast<int>(std::lround(std::sqrt(area / ratio))), 0, H);
    const int ew = std::clamp(static_cast<int>(std::lround(std::sqrt(area * ratio))), 0, W);
    const int ey = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(H - eh + 1)));
    const int ex = static_cast<int>(rng.uniform_int(static_cast<std::uint64_t>(W - ew + 1)));
    for (int c = 0; c < C; ++c)
      erase_rect(out + static_cast<std::ptrdiff_t>(c) * P, H, W, ey, ex, eh, ew, 0.0f, cfg.erase_random_fill ? &rng : nullptr);
  }
}

// FER-2013's form: src uint8 [48, 48] -> out float [48, 48] (kFer2013Shape, no training crop).
inline void augment_sample(const std::uint8_t* src, float* out, const AugmentConfig& cfg, const Normalization& norm,
                           Rng& rng) {
  augment_sample(src, kFer2013Shape, 0, out, cfg, norm, rng);
}

}  // namespace moodnet::data
