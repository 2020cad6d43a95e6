// The data path for any image shape: per-channel normalisation, augmentation of colour images of
// odd sizes (one geometry for all channels, pixel magnitudes scaled with the size), the training
// crop in the loader, TTA and centre crop on non-square colour batches, conversion, the memory
// check, and FER-2013's CSV read at another shape.
#include <catch2/catch.hpp>

#include <set>

#include "moodnet/core/parallel.hpp"
#include "moodnet/data/augment.hpp"
#include "moodnet/data/convert.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/loader.hpp"
#include "moodnet/data/memory.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/data/tta.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::require_error_naming;

namespace {
// n images of `shape`, 3 classes; pixel (i, c, y, x) = (7 i + 50 c + 3 y + x) % 256 over the
// value range below 156 so that channel c = channel 0 + 50 c never wraps when `offsets` is set.
Dataset colour_dataset(std::int64_t n, const ImageShape& shape, bool offsets = false) {
  Dataset d = Dataset::with_capacity({"a", "b", "c"}, n, shape, "colour");
  for (std::int64_t i = 0; i < n; ++i) {
    for (int c = 0; c < shape.channels; ++c)
      for (int y = 0; y < shape.height; ++y)
        for (int x = 0; x < shape.width; ++x) {
          const int v = offsets ? (7 * static_cast<int>(i) + 3 * y + x) % 150 + 50 * c : (7 * static_cast<int>(i) + 50 * c + 3 * y + x) % 256;
          d.image(i)[(c * shape.height + y) * shape.width + x] = static_cast<std::uint8_t>(v);
        }
    d.labels[i] = static_cast<std::int32_t>(i % 3);
    d.keys[static_cast<std::size_t>(i)] = "img" + std::to_string(i);
  }
  d.report.loaded = n;
  return d;
}
const Normalization kUnit{0.0f, 1.0f};  // out = pixel / 255

// The (y0, x0) of the crop x crop window of image `src` [C, H, W] equal to `out` [C, crop, crop] (unit scale), or {-1, -1}.
std::pair<int, int> window_of(const std::uint8_t* src, const ImageShape& s, const float* out, int crop) {
  for (int y0 = 0; y0 + crop <= s.height; ++y0)
    for (int x0 = 0; x0 + crop <= s.width; ++x0) {
      bool same = true;
      for (int c = 0; c < s.channels && same; ++c)
        for (int y = 0; y < crop && same; ++y)
          for (int x = 0; x < crop && same; ++x)
            same = out[(c * crop + y) * crop + x] == static_cast<float>(src[(c * s.height + y0 + y) * s.width + x0 + x]) * (1.0f / 255.0f);
      if (same) return {y0, x0};
    }
  return {-1, -1};
}
}  // namespace

TEST_CASE("normalisation per channel: exact statistics, applied per channel, one value broadcast", "[data][normalize]") {
  Dataset d = Dataset::with_capacity({"a"}, 2, {3, 4, 5}, "two images");
  for (int c = 0; c < 3; ++c) {
    const std::uint8_t lo[3] = {0, 51, 10}, hi[3] = {255, 102, 10};
    std::fill_n(d.image(0) + c * 20, 20, lo[c]);
    std::fill_n(d.image(1) + c * 20, 20, hi[c]);
  }
  require_error_naming([&] { compute_normalization(d); }, {"two images", "channel 2", "standard deviation 0"});
  std::fill_n(d.image(1) + 40, 20, std::uint8_t{30});
  const Normalization n = compute_normalization(d);
  REQUIRE(n.channels() == 3);
  CHECK(n.mean[0] == Approx(0.5));
  CHECK(n.std[0] == Approx(0.5));
  CHECK(n.mean[1] == Approx(0.3));
  CHECK(n.std[1] == Approx(0.1));
  CHECK(n.mean[2] == Approx(20 / 255.0));
  CHECK(n.std[2] == Approx(10 / 255.0));
  std::vector<float> out(static_cast<std::size_t>(d.images.numel()));
  normalize_images(d.images.data(), out.data(), 2, d.shape(), n);
  CHECK(out[0] == Approx(-1.0));           // image 0, channel 0
  CHECK(out[20] == Approx(-1.0));          // image 0, channel 1: (0.2 - 0.3) / 0.1
  CHECK(out[60 + 40] == Approx(1.0));      // image 1, channel 2: (30 - 20) / 10
  normalize_images(d.images.data(), out.data(), 2, d.shape(), kUnit);  // one value for all channels
  CHECK(out[60 + 20] == Approx(102 / 255.0));
  require_error_naming([&] { normalize_images(d.images.data(), out.data(), 2, d.shape(), Normalization({0.5f, 0.5f}, {1.f, 1.f})); },
                       {"2 mean(s)", "3 channel(s)"});
  require_error_naming([&] { normalize_pixels(d.images.data(), out.data(), 3, n); }, {"normalize_images"});
  require_error_naming([] { Normalization({0.5f}, {0.2f, 0.3f}); }, {"as many means as stds"});
  CHECK(n.str().find(',') != std::string::npos);
}

TEST_CASE("augment_sample on colour images of odd sizes: one geometry for every channel", "[data][augment]") {
  const ImageShape s{3, 21, 27};
  const Dataset d = colour_dataset(1, s, /*offsets=*/true);  // channel c = channel 0 + 50 c
  AugmentConfig cfg = AugmentConfig::fer2013();
  cfg.jitter_p = 0;  // jitter and erasing treat channels jointly; everything else is geometry
  cfg.erase_p = 0;
  std::vector<float> out(static_cast<std::size_t>(s.numel()));
  int changed = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    Rng rng(9, seed);
    augment_sample(d.image(0), s, 0, out.data(), cfg, kUnit, rng);
    for (int p = 0; p < 21 * 27; ++p) {  // bilinear weights sum to 1: the offsets survive any warp
      REQUIRE(out[static_cast<std::size_t>(567 + p)] - out[static_cast<std::size_t>(p)] == Approx(50 / 255.0).margin(1e-5));
      REQUIRE(out[static_cast<std::size_t>(1134 + p)] - out[static_cast<std::size_t>(p)] == Approx(100 / 255.0).margin(1e-5));
    }
    changed += out[0] != d.image(0)[0] / 255.0f;
  }
  CHECK(changed > 20);
  // Three identical channels with the whole recipe (jitter, erasing with noise off): each output
  // channel is the gray image augmented from the same stream.
  Dataset same = Dataset::with_capacity({"a"}, 1, s), gray = Dataset::with_capacity({"a"}, 1, {1, 21, 27});
  for (int p = 0; p < 567; ++p) {
    gray.image(0)[p] = static_cast<std::uint8_t>((p * 37) % 256);
    for (int c = 0; c < 3; ++c) same.image(0)[c * 567 + p] = gray.image(0)[p];
  }
  std::vector<float> g(567);
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Rng r1(4, seed), r2(4, seed);
    augment_sample(same.image(0), s, 0, out.data(), AugmentConfig::fer2013(), kUnit, r1);
    augment_sample(gray.image(0), {1, 21, 27}, 0, g.data(), AugmentConfig::fer2013(), kUnit, r2);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 567; ++p) REQUIRE(out[static_cast<std::size_t>(c * 567 + p)] == Approx(g[static_cast<std::size_t>(p)]).margin(1e-5));
  }
}

TEST_CASE("augment_sample: crop padding scales with the image side (4 px at 48, 8 px at 96, 3 px at 32)",
          "[data][augment]") {
  AugmentConfig cfg;
  cfg.reference_size = 48;
  cfg.crop = CropMode::pad;
  cfg.crop_padding = 4;
  cfg.border = Border::zero;
  for (const int side : {96, 32}) {
    INFO("side " << side);
    // Channel 0 encodes the column (2 x + 1), channel 1 the row: the centre pixel tells the shift.
    const ImageShape s{3, side, side};
    Dataset d = Dataset::with_capacity({"a"}, 1, s);
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        d.image(0)[y * side + x] = static_cast<std::uint8_t>(2 * x + 1);
        d.image(0)[side * side + y * side + x] = static_cast<std::uint8_t>(2 * y + 1);
      }
    std::vector<float> out(static_cast<std::size_t>(s.numel()));
    std::set<int> shifts;
    for (std::uint64_t seed = 0; seed < 300; ++seed) {
      Rng rng(2, seed);
      augment_sample(d.image(0), s, 0, out.data(), cfg, kUnit, rng);
      const int c = side / 2;
      const int sx = static_cast<int>(std::lround((out[static_cast<std::size_t>(c * side + c)] * 255 - 1) / 2)) - c;
      const int sy = static_cast<int>(std::lround((out[static_cast<std::size_t>(side * side + c * side + c)] * 255 - 1) / 2)) - c;
      shifts.insert(sx);
      shifts.insert(sy);
    }
    const int p = side == 96 ? 8 : 3;
    CHECK(*shifts.begin() == -p);
    CHECK(*shifts.rbegin() == p);
    CHECK(static_cast<int>(shifts.size()) == 2 * p + 1);
  }
  cfg.crop_padding = 60;
  require_error_naming([&] { cfg.validate(); }, {"crop_padding", "60"});
}

TEST_CASE("loader: colour batches with a training crop are windows of their images; deterministic",
          "[data][loader]") {
  const ImageShape s{3, 20, 26};
  const Dataset d = colour_dataset(37, s);
  LoaderOptions o;
  o.batch_size = 8;
  o.seed = 3;
  o.norm = kUnit;
  o.crop = 17;
  BatchLoader loader(d, o);
  CHECK(loader.output_shape() == ImageShape{3, 17, 17});
  loader.start_epoch(0);
  std::set<std::pair<int, int>> offsets;
  std::int64_t seen = 0;
  while (auto b = loader.next()) {
    REQUIRE(b->images.dim(1) == 3);
    REQUIRE(b->images.dim(2) == 17);
    REQUIRE(b->images.dim(3) == 17);
    for (std::int64_t k = 0; k < b->labels.numel(); ++k) {
      const std::int64_t idx = b->indices[static_cast<std::size_t>(k)];
      REQUIRE(b->labels[k] == d.label(idx));
      const auto at = window_of(d.image(idx), s, b->images.data() + k * 3 * 17 * 17, 17);
      REQUIRE(at.first >= 0);
      offsets.insert(at);
      ++seen;
    }
  }
  CHECK(seen == 37);
  CHECK(offsets.size() > 12);  // of the 4 x 10 possible windows, drawn per sample (about 24 expected)
  // With the full recipe: the same batches for 1 and 2 threads and without the worker.
  o.augment = AugmentConfig::fer2013();
  o.augment.erase_random_fill = true;
  auto epoch = [&](int threads, int prefetch) {
    const int before = num_threads();
    set_num_threads(threads);
    LoaderOptions p = o;
    p.prefetch = prefetch;
    BatchLoader l(d, p);
    l.start_epoch(2);
    std::vector<float> all;
    while (auto b = l.next()) all.insert(all.end(), b->images.begin(), b->images.end());
    set_num_threads(before);
    return all;
  };
  const auto a = epoch(1, 2);
  CHECK(a == epoch(2, 2));
  CHECK(a == epoch(2, 0));
  o.crop = 21;
  require_error_naming([&] { BatchLoader(d, o); }, {"training crop 21", "[0, 20]", "3x20x26"});
  o.crop = 0;
  o.norm = Normalization({0.5f, 0.5f}, {0.2f, 0.2f});
  require_error_naming([&] { BatchLoader(d, o); }, {"BatchLoader", "2 mean(s)", "3 channel(s)"});
}

TEST_CASE("TTA and centre crop on non-square colour batches", "[data][tta]") {
  Tensor<float> x({2, 3, 10, 14});
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i);
  const auto cc = centre_crop(x, 6);
  REQUIRE(cc.shape() == Shape({2, 3, 6, 6}));
  CHECK(cc(1, 2, 0, 0) == x(1, 2, 2, 4));
  CHECK(cc(0, 1, 5, 5) == x(0, 1, 7, 9));
  require_error_naming([&] { centre_crop(x, 11); }, {"centre crop size 11", "10x14"});
  const auto ten = tta_ten_crop(x, {6, false});
  REQUIRE(ten.shape() == Shape({20, 3, 6, 6}));
  CHECK(ten(0, 1, 0, 0) == x(0, 1, 0, 0));    // top-left
  CHECK(ten(1, 1, 0, 0) == x(0, 1, 0, 8));    // top-right
  CHECK(ten(2, 2, 0, 0) == x(0, 2, 4, 0));    // bottom-left
  CHECK(ten(3, 0, 5, 5) == x(0, 0, 9, 13));   // bottom-right
  CHECK(ten(14, 2, 0, 0) == cc(1, 2, 0, 0));  // image 1, centre = the centre crop
  CHECK(ten(9, 0, 0, 5) == x(0, 0, 2, 4));    // mirrored centre
  const auto full = tta_ten_crop(x);  // default crop: 11/12 of the shorter side, resized back
  CHECK(full.shape() == Shape({20, 3, 10, 14}));
  const auto flip = tta_hflip(x);
  CHECK(flip(3, 2, 4, 0) == x(1, 2, 4, 13));
}

TEST_CASE("convert_dataset: gray <-> RGB and another size; keys, labels and classes follow", "[data][convert]") {
  const Dataset rgb = colour_dataset(4, {3, 8, 12});
  const Dataset gray = convert_dataset(rgb, {1, 8, 12});
  CHECK(gray.shape() == ImageShape{1, 8, 12});
  CHECK(gray.keys == rgb.keys);
  CHECK(gray.class_names == rgb.class_names);
  CHECK(gray.labels[3] == rgb.labels[3]);
  CHECK(gray.report.resized == 0);
  CHECK(gray.image(2)[17] == luma_bt601(rgb.image(2)[17], rgb.image(2)[96 + 17], rgb.image(2)[192 + 17]));
  const Dataset back = convert_dataset(gray, {3, 4, 6});
  CHECK(back.shape() == ImageShape{3, 4, 6});
  CHECK(back.report.resized == 4);
  CHECK(std::equal(back.image(1), back.image(1) + 24, back.image(1) + 48));  // replicated channels
}

TEST_CASE("memory: N*C*H*W is checked before allocating, with the size in the message", "[data][memory]") {
  CHECK(checked_dataset_bytes(70000, {1, 28, 28}, "mnist") == 70000 * 784);
  require_error_naming([] { checked_dataset_bytes(1000, {3, 224, 224}, "photos/", 100000000); },
                       {"photos/", "1000 images of 3x224x224", "150.5 MB", "100.0 MB"});
  require_error_naming([] { checked_dataset_bytes(std::int64_t{1} << 62, {3, 1024, 1024}, "huge"); }, {"huge", "overflows"});
  if (physical_memory_bytes() > 0)
    require_error_naming([] { Dataset::with_capacity({"a"}, std::int64_t{1} << 40, {3, 256, 256}, "many"); },
                         {"many", "of memory on this machine"});
  require_error_naming([] { Dataset::with_capacity({"a"}, 1, {2, 8, 8}, "two"); }, {"two", "channels must be 1"});
  CHECK(format_bytes(83e6) == "83.0 MB");
}

TEST_CASE("fer2013.csv read at another shape (3x64x64): gray replicated and resized", "[data][csv]") {
  test::TempDir tmp;
  std::string px;
  for (int i = 0; i < 2304; ++i) {
    if (i) px += ' ';
    px += std::to_string(i % 48 * 5);
  }
  test::write_bytes(tmp / "fer2013.csv", "emotion,pixels,Usage\n3," + px + ",Training\n5," + px + ",Training\n");
  LoadOptions o;
  o.shape = {3, 64, 64};
  const Dataset d = load_fer2013(tmp / "fer2013.csv", Split::train, o);
  CHECK(d.shape() == ImageShape{3, 64, 64});
  CHECK(d.labels[0] == 3);
  CHECK(d.labels[1] == 6);  // CSV 5 = Surprise
  CHECK(d.report.resized == 2);
  CHECK(std::equal(d.image(0), d.image(0) + 4096, d.image(0) + 8192));
  CHECK(int(d.image(1)[0]) == 0);
  CHECK(int(d.image(1)[63]) == 235);  // the last column keeps its value under bilinear enlarging
}
