// Augmentation building blocks, the per-sample pipeline, strength scaling and TTA.
#include "moodnet/data/augment.hpp"

#include <catch2/catch.hpp>

#include <numeric>

#include "moodnet/data/tta.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;

namespace {
constexpr int S = kImageSize;
std::vector<float> ramp() {  // value encodes position: y * 48 + x
  std::vector<float> v(S * S);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}
std::vector<std::uint8_t> ramp_u8() {
  std::vector<std::uint8_t> v(S * S);
  for (int i = 0; i < S * S; ++i) v[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i * 13 + i / 48) % 256);
  return v;
}
}  // namespace

TEST_CASE("hflip mirrors columns and twice is the identity", "[data][augment]") {
  auto img = ramp();
  const auto orig = img;
  hflip(img.data(), S, S);
  CHECK(img[0] == 47.0f);
  CHECK(img[5 * S + 10] == orig[5 * S + 37]);
  hflip(img.data(), S, S);
  CHECK(img == orig);
}

TEST_CASE("crop_shifted takes the window of the padded image; borders follow the mode", "[data][augment]") {
  const auto src = ramp();
  std::vector<float> dst(S * S);
  crop_shifted(src.data(), dst.data(), S, S, 3, -2, Border::zero);
  CHECK(dst[0] == 0.0f);                            // source column -2: padding
  CHECK(dst[0 * S + 2] == src[3 * S + 0]);          // dst(0, 2) = src(3, 0)
  CHECK(dst[44 * S + 47] == src[47 * S + 45]);      // last valid source row
  CHECK(dst[45 * S + 10] == 0.0f);                  // source row 48: padding
  crop_shifted(src.data(), dst.data(), S, S, 3, -2, Border::edge);
  CHECK(dst[0] == src[3 * S + 0]);
  CHECK(dst[47 * S + 47] == src[47 * S + 45]);
  crop_shifted(src.data(), dst.data(), S, S, 0, 0, Border::zero);
  CHECK(dst == src);
}

TEST_CASE("warp_affine: identity is exact, a 90 degree turn moves pixels as expected", "[data][augment]") {
  const auto src = ramp();
  std::vector<float> dst(S * S);
  warp_affine(src.data(), S, S, dst.data(), S, S, affine_about_centre(0, 1, 0, 0, S, S), Border::zero);
  for (int i = 0; i < S * S; ++i) REQUIRE(dst[static_cast<std::size_t>(i)] == Approx(src[static_cast<std::size_t>(i)]).margin(1e-3));
  // Integer translation by (tx, ty) = (2, 1): dst(y, x) = src(y - 1, x - 2).
  warp_affine(src.data(), S, S, dst.data(), S, S, affine_about_centre(0, 1, 2, 1, S, S), Border::zero);
  CHECK(dst[10 * S + 10] == Approx(src[9 * S + 8]));
  CHECK(dst[0] == 0.0f);
  // Rotation by 90 degrees counter-clockwise on screen: the top-right corner goes to the top-left.
  warp_affine(src.data(), S, S, dst.data(), S, S, affine_about_centre(90, 1, 0, 0, S, S), Border::zero);
  CHECK(dst[0] == Approx(src[47]).margin(1e-3));
  CHECK(dst[47 * S + 0] == Approx(src[0]).margin(1e-3));
}

TEST_CASE("erase_rect clips to the image", "[data][augment]") {
  std::vector<float> img(S * S, 1.0f);
  erase_rect(img.data(), S, S, 40, 44, 20, 20, 0.0f);
  CHECK(std::count(img.begin(), img.end(), 0.0f) == 8 * 4);
}

TEST_CASE("augment_sample: no augmentation is plain normalisation; strength 0 is none", "[data][augment]") {
  const auto src = ramp_u8();
  const Normalization norm{0.4f, 0.2f};
  std::vector<float> out(S * S);
  Rng rng(1);
  augment_sample(src.data(), out.data(), AugmentConfig::fer2013(0.0), norm, rng);
  for (int i = 0; i < S * S; ++i)
    REQUIRE(out[static_cast<std::size_t>(i)] == Approx((src[static_cast<std::size_t>(i)] / 255.0 - 0.4) / 0.2).margin(1e-5));
  const auto none = AugmentConfig::fer2013(0.0);
  CHECK(none.hflip_p == 0);
  CHECK(none.erase_p == 0);
  CHECK(none.crop == CropMode::none);
  const auto half = AugmentConfig::fer2013(0.5), full = AugmentConfig::fer2013();
  CHECK(full.crop_padding == 4);
  CHECK(half.crop_padding == 2);
  CHECK(half.rotate_deg == Approx(5));
  CHECK(half.scale_min == Approx(0.95));
  CHECK(half.scale_max == Approx(1.05));
  CHECK(half.erase_p == Approx(0.25));
  CHECK(half.hflip_p == 0.5);
  CHECK(AugmentConfig::fer2013(2.0).erase_p == Approx(0.5));
  CHECK(AugmentConfig::fer2013(2.0).rotate_deg == Approx(20));
  AugmentConfig bad = full;
  bad.hflip_p = 1.5;
  CHECK_THROWS_AS(bad.validate(), Error);
}

TEST_CASE("augment_sample: deterministic per stream, varied across streams, values stay in range",
          "[data][augment]") {
  const auto src = ramp_u8();
  const Normalization norm{0.5f, 0.25f};
  const float lo = norm.apply(0.0f), hi = norm.apply(1.0f);
  AugmentConfig cfg = AugmentConfig::fer2013();
  cfg.erase_random_fill = false;
  std::vector<float> a(S * S), b(S * S);
  int differ = 0;
  for (std::uint64_t s = 0; s < 50; ++s) {
    Rng r1(7, s), r2(7, s), r3(7, s + 1000);
    augment_sample(src.data(), a.data(), cfg, norm, r1);
    augment_sample(src.data(), b.data(), cfg, norm, r2);
    REQUIRE(a == b);
    augment_sample(src.data(), b.data(), cfg, norm, r3);
    differ += a != b;
    for (float v : a) {  // geometric ops and jitter stay in [0, 1] before normalising; erase writes 0
      REQUIRE(v >= lo - 1e-4f);
      REQUIRE(v <= hi + 1e-4f);
    }
  }
  CHECK(differ >= 45);
}

TEST_CASE("augment_sample: each transform on its own does what it says", "[data][augment]") {
  const auto src = ramp_u8();
  const Normalization unit{0.0f, 1.0f};  // out = pixel / 255
  std::vector<float> out(S * S);
  SECTION("pad crop: the output is the source shifted by at most the padding") {
    AugmentConfig c;
    c.crop = CropMode::pad;
    c.crop_padding = 4;
    c.border = Border::zero;
    for (std::uint64_t s = 0; s < 30; ++s) {
      Rng rng(3, s);
      augment_sample(src.data(), out.data(), c, unit, rng);
      bool found = false;  // some shift in [-4, 4]^2 reproduces the output exactly
      for (int dy = -4; dy <= 4 && !found; ++dy)
        for (int dx = -4; dx <= 4 && !found; ++dx) {
          bool same = true;
          for (int y = 0; y < S && same; ++y)
            for (int x = 0; x < S && same; ++x) {
              const int sy = y + dy, sx = x + dx;
              const float e = (sy >= 0 && sy < S && sx >= 0 && sx < S) ? src[static_cast<std::size_t>(sy * S + sx)] / 255.0f : 0.0f;
              same = std::abs(out[static_cast<std::size_t>(y * S + x)] - e) < 1e-6f;
            }
          found = same;
        }
      REQUIRE(found);
    }
  }
  SECTION("hflip with p = 1 mirrors") {
    AugmentConfig c;
    c.hflip_p = 1.0;
    Rng rng(0);
    augment_sample(src.data(), out.data(), c, unit, rng);
    CHECK(out[0] == Approx(src[47] / 255.0f));
  }
  SECTION("random erasing with p = 1 zeroes one rectangle within the area range") {
    AugmentConfig c;
    c.erase_p = 1.0;
    c.erase_area_min = 0.1;
    c.erase_area_max = 0.2;
    const Normalization norm{0.5f, 0.25f};
    for (std::uint64_t s = 0; s < 20; ++s) {
      Rng rng(5, s);
      augment_sample(src.data(), out.data(), c, norm, rng);
      const auto zeros = std::count(out.begin(), out.end(), 0.0f);
      CHECK(zeros >= 0.08 * S * S);
      CHECK(zeros <= 0.23 * S * S);
    }
  }
  SECTION("resized crop stays inside the image value range") {
    AugmentConfig c;
    c.crop = CropMode::resized;
    Rng rng(9);
    augment_sample(src.data(), out.data(), c, unit, rng);
    for (float v : out) REQUIRE((v >= 0.0f && v <= 1.0f));
  }
}

TEST_CASE("TTA: hflip pairs and ten-crop views, sample-major, averaged back", "[data][tta]") {
  Tensor<float> x({2, 1, S, S});
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i % (S * S)) + (i >= S * S ? 10000.0f : 0.0f);
  const auto pair = tta_hflip(x);
  REQUIRE(pair.shape() == Shape({4, 1, S, S}));
  CHECK(pair(0, 0, 3, 4) == x(0, 0, 3, 4));
  CHECK(pair(1, 0, 3, 4) == x(0, 0, 3, 43));
  CHECK(pair(3, 0, 0, 0) == x(1, 0, 0, 47));

  const auto ten = tta_ten_crop(x, {44, false});
  REQUIRE(ten.shape() == Shape({20, 1, 44, 44}));
  CHECK(ten(0, 0, 0, 0) == x(0, 0, 0, 0));    // top-left
  CHECK(ten(1, 0, 0, 0) == x(0, 0, 0, 4));    // top-right
  CHECK(ten(2, 0, 0, 0) == x(0, 0, 4, 0));    // bottom-left
  CHECK(ten(3, 0, 43, 43) == x(0, 0, 47, 47));  // bottom-right
  CHECK(ten(4, 0, 0, 0) == x(0, 0, 2, 2));    // centre
  CHECK(ten(5, 0, 0, 43) == x(0, 0, 0, 0));   // mirrored top-left
  CHECK(ten(14, 0, 0, 0) == x(1, 0, 2, 2));   // image 1, centre
  const auto ten48 = tta_ten_crop(x);
  REQUIRE(ten48.shape() == Shape({20, 1, S, S}));
  CHECK(ten48(4, 0, 23, 23) == Approx((x(0, 0, 23, 23) + x(0, 0, 24, 24)) / 2).epsilon(0.02));

  Tensor<float> logits({4, 3});
  for (std::int64_t i = 0; i < 12; ++i) logits[i] = static_cast<float>(i);
  const auto avg = tta_average(logits, 2);
  REQUIRE(avg.shape() == Shape({2, 3}));
  CHECK(avg(0, 0) == Approx(1.5));  // rows 0 and 1: (0 + 3) / 2
  CHECK(avg(1, 2) == Approx(9.5));  // rows 2 and 3: (8 + 11) / 2
  CHECK_THROWS_AS(tta_average(logits, 3), Error);
}

TEST_CASE("compute_normalization: exact mean and std of pixel/255; normalize_pixels applies it", "[data][normalize]") {
  auto d = Dataset::with_capacity(fer2013_class_names(), 2);
  std::fill_n(d.images.data(), kImagePixels, std::uint8_t{0});
  std::fill_n(d.images.data() + kImagePixels, kImagePixels, std::uint8_t{255});
  const Normalization n = compute_normalization(d);
  CHECK(n.mean[0] == Approx(0.5));
  CHECK(n.std[0] == Approx(0.5));
  const std::uint8_t px[3] = {0, 255, 51};
  float out[3];
  normalize_pixels(px, out, 3, n);
  CHECK(out[0] == Approx(-1.0));
  CHECK(out[1] == Approx(1.0));
  CHECK(out[2] == Approx(-0.6));
  std::fill_n(d.images.data() + kImagePixels, kImagePixels, std::uint8_t{0});
  CHECK_THROWS_AS(compute_normalization(d), Error);  // constant images: std 0
}
