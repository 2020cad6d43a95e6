// The recipe's flip and erasing options (issue 15): augment_sample's flip decision replaces the
// random draw and nothing else; the loader's alternating flip mirrors every image in every other
// epoch from a seeded per-image phase, the same for any thread count, prefetch, shard and resume;
// AugmentConfig::fer2013's erasing probability.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "moodnet/core/parallel.hpp"
#include "moodnet/data/augment.hpp"
#include "moodnet/data/loader.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;

namespace {
constexpr int kFlipSide = 16;

// A 48x48 image whose columns all differ, so a mirror image is never the image.
std::vector<std::uint8_t> flipmode_asymmetric48() {
  std::vector<std::uint8_t> v(kImagePixels);
  for (int y = 0; y < kImageSize; ++y)
    for (int x = 0; x < kImageSize; ++x) v[static_cast<std::size_t>(y * kImageSize + x)] = static_cast<std::uint8_t>(x * 5 + y % 3);
  return v;
}

// n gray 16x16 images: pixel (y, x) = 10 x + i % 50 (increasing along each row), label i % 3.
Dataset flipmode_dataset(std::int64_t n) {
  Dataset d = Dataset::with_capacity({"a", "b", "c"}, n, ImageShape{1, kFlipSide, kFlipSide}, "flip rows");
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint8_t* px = d.image(i);
    for (int y = 0; y < kFlipSide; ++y)
      for (int x = 0; x < kFlipSide; ++x) px[y * kFlipSide + x] = static_cast<std::uint8_t>(10 * x + i % 50);
    d.labels[i] = static_cast<std::int32_t>(i % 3);
    d.keys[static_cast<std::size_t>(i)] = "img" + std::to_string(i);
  }
  d.report.loaded = n;
  return d;
}

// Every batch of one epoch.
std::vector<Batch> flipmode_epoch(BatchLoader& loader, std::int64_t epoch, std::int64_t first_batch = 0) {
  std::vector<Batch> out;
  loader.start_epoch(epoch, first_batch);
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

// Dataset index -> mirrored? for one epoch (a row is mirrored when its first pixel is its brightest).
std::map<std::int64_t, bool> flipmode_mirrored(const std::vector<Batch>& batches) {
  std::map<std::int64_t, bool> m;
  for (const Batch& b : batches)
    for (std::size_t k = 0; k < b.indices.size(); ++k) {
      const float* row = b.images.data() + static_cast<std::int64_t>(k) * kFlipSide * kFlipSide;
      m[b.indices[k]] = row[0] > row[kFlipSide - 1];
    }
  return m;
}

std::vector<float> flipmode_pixels(const std::vector<Batch>& batches) {
  std::vector<float> v;
  for (const Batch& b : batches) v.insert(v.end(), b.images.begin(), b.images.end());
  return v;
}
}  // namespace

TEST_CASE("augment_sample: a flip decision replaces the random draw and changes nothing else", "[data][augment]") {
  const std::vector<std::uint8_t> src = flipmode_asymmetric48();
  const Normalization norm{0.5f, 0.25f};
  const AugmentConfig full = AugmentConfig::fer2013();  // crop, flip, affine, jitter, erasing
  int drawn_yes = 0;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    std::vector<float> draw(kImagePixels), yes(kImagePixels), no(kImagePixels);
    Rng r_draw(seed), r_yes(seed), r_no(seed);
    augment_sample(src.data(), kFer2013Shape, 0, draw.data(), full, norm, r_draw, Flip::draw);
    augment_sample(src.data(), kFer2013Shape, 0, yes.data(), full, norm, r_yes, Flip::yes);
    augment_sample(src.data(), kFer2013Shape, 0, no.data(), full, norm, r_no, Flip::no);
    REQUIRE(yes != no);
    REQUIRE((draw == yes || draw == no));  // the same crop, affine, jitter and erasing either way
    drawn_yes += draw == yes;
    // Every mode took the same random numbers: the streams end in the same state.
    const std::uint64_t next = r_draw.next_u64();
    CHECK(r_yes.next_u64() == next);
    CHECK(r_no.next_u64() == next);
  }
  CHECK(drawn_yes > 5);  // the draw is still Bernoulli(0.5): both outcomes among 40 seeds
  CHECK(drawn_yes < 35);

  // Flip alone: yes is the mirror of no.
  AugmentConfig only = AugmentConfig::none();
  only.hflip_p = 0.5;
  std::vector<float> yes(kImagePixels), no(kImagePixels);
  Rng r1(3), r2(3);
  augment_sample(src.data(), kFer2013Shape, 0, yes.data(), only, norm, r1, Flip::yes);
  augment_sample(src.data(), kFer2013Shape, 0, no.data(), only, norm, r2, Flip::no);
  hflip(no.data(), kImageSize, kImageSize);
  CHECK(yes == no);
  // A recipe without flips ignores the decision.
  only.hflip_p = 0;
  Rng r3(3), r4(3);
  augment_sample(src.data(), kFer2013Shape, 0, yes.data(), only, norm, r3, Flip::yes);
  augment_sample(src.data(), kFer2013Shape, 0, no.data(), only, norm, r4, Flip::draw);
  CHECK(yes == no);
}

TEST_CASE("loader: the alternating flip mirrors each image in every other epoch from a seeded phase",
          "[data][loader]") {
  const Dataset d = flipmode_dataset(37);
  LoaderOptions o;
  o.batch_size = 8;
  o.seed = 11;
  o.augment = AugmentConfig::none();
  o.augment.hflip_p = 0.5;
  o.norm = Normalization{0.0f, 1.0f};
  o.flip = FlipMode::alternate;
  BatchLoader loader(d, o);
  std::vector<std::map<std::int64_t, bool>> mirrored;
  for (std::int64_t e = 0; e < 4; ++e) mirrored.push_back(flipmode_mirrored(flipmode_epoch(loader, e)));
  int flipped_first = 0;
  for (std::int64_t i = 0; i < d.size(); ++i) {
    for (std::int64_t e = 0; e < 4; ++e) {
      REQUIRE(mirrored[e].count(i) == 1);
      CHECK(mirrored[e][i] == BatchLoader::alternate_flip(o.seed, e, i));
      if (e > 0) CHECK(mirrored[e][i] != mirrored[e - 1][i]);  // every other epoch
    }
    flipped_first += mirrored[0][i];
  }
  CHECK(flipped_first > 0);  // the phase is random per image: some start mirrored, some not
  CHECK(flipped_first < d.size());
  // The phase comes from the seed.
  bool other_phase = false;
  for (std::int64_t i = 0; i < d.size(); ++i)
    other_phase = other_phase || BatchLoader::alternate_flip(12, 0, i) != BatchLoader::alternate_flip(11, 0, i);
  CHECK(other_phase);
  // The random mode on the same recipe does not alternate for every image.
  o.flip = FlipMode::random;
  BatchLoader random(d, o);
  const auto r0 = flipmode_mirrored(flipmode_epoch(random, 0)), r1 = flipmode_mirrored(flipmode_epoch(random, 1));
  int same = 0;
  for (std::int64_t i = 0; i < d.size(); ++i) same += r0.at(i) == r1.at(i);
  CHECK(same > 0);
}

TEST_CASE("loader: the alternating flip is the same for any threads, prefetch, shard and resume", "[data][loader]") {
  const Dataset d = flipmode_dataset(45);  // batches of 8: five full, a last of 5
  LoaderOptions o;
  o.batch_size = 8;
  o.seed = 4;
  o.augment = AugmentConfig::fer2013();  // every transform, the flip alternating
  o.norm = Normalization{0.3f, 0.2f};
  o.flip = FlipMode::alternate;
  const int before = num_threads();
  const auto epoch_with = [&](int threads, int prefetch, std::int64_t epoch) {
    set_num_threads(threads);
    LoaderOptions p = o;
    p.prefetch = prefetch;
    BatchLoader l(d, p);
    const auto pixels = flipmode_pixels(flipmode_epoch(l, epoch));
    set_num_threads(before);
    return pixels;
  };
  const std::vector<float> one = epoch_with(1, 2, 3);
  CHECK(one == epoch_with(2, 0, 3));
  CHECK(one == epoch_with(2, 2, 3));
  CHECK(one != epoch_with(1, 2, 4));

  BatchLoader whole(d, o);
  const auto all = flipmode_epoch(whole, 3);
  CHECK(flipmode_pixels(all) == one);
  // Resumed mid-epoch: the remaining batches are the same.
  const auto rest = flipmode_epoch(whole, 3, 2);
  REQUIRE(rest.size() == all.size() - 2);
  for (std::size_t b = 0; b < rest.size(); ++b)
    CHECK(std::equal(rest[b].images.begin(), rest[b].images.end(), all[b + 2].images.begin(), all[b + 2].images.end()));
  // Two data-parallel shards put together are the whole batch.
  std::vector<std::vector<Batch>> parts;
  for (int w = 0; w < 2; ++w) {
    LoaderOptions p = o;
    p.shard_index = w, p.shard_count = 2;
    BatchLoader part(d, p);
    parts.push_back(flipmode_epoch(part, 3));
  }
  for (std::size_t b = 0; b < all.size(); ++b) {
    std::vector<float> joined(parts[0][b].images.begin(), parts[0][b].images.end());
    joined.insert(joined.end(), parts[1][b].images.begin(), parts[1][b].images.end());
    CHECK(std::equal(joined.begin(), joined.end(), all[b].images.begin(), all[b].images.end()));
  }
}

TEST_CASE("AugmentConfig::fer2013: the erasing probability is an option, scaled like the recipe's", "[data][augment]") {
  const AugmentConfig base = AugmentConfig::fer2013(), same = AugmentConfig::fer2013(1.0, 0.5);
  CHECK(base.erase_p == 0.5);
  CHECK(same.erase_p == base.erase_p);
  CHECK(same.erase_area_max == base.erase_area_max);
  CHECK(AugmentConfig::fer2013(1.0, 0.2).erase_p == 0.2);
  CHECK(AugmentConfig::fer2013(0.5, 0.2).erase_p == Approx(0.1));
  CHECK(AugmentConfig::fer2013(2.0, 0.2).erase_p == Approx(0.2));
  CHECK(AugmentConfig::fer2013(0.0, 0.2).erase_p == 0);
  CHECK(AugmentConfig::fer2013(0.5, 0.2).hflip_p == 0.5);  // nothing else changes
  CHECK(AugmentConfig::fer2013(1.0, 0.0).rotate_deg == base.rotate_deg);
  CHECK_THROWS_WITH(AugmentConfig::fer2013(1.0, 1.5).validate(),
                    "AugmentConfig.erase_p must be a probability in [0, 1], got 1.5");

  // Probability 1 always erases a rectangle (to 0, the mean), 0 never does.
  const std::vector<std::uint8_t> src = flipmode_asymmetric48();
  const Normalization unit{0.0f, 1.0f};
  AugmentConfig erase_only = AugmentConfig::none();
  erase_only.erase_area_min = erase_only.erase_area_max = 0.25;
  for (const double p : {0.0, 1.0}) {
    erase_only.erase_p = p;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
      std::vector<float> out(kImagePixels);
      Rng rng(seed);
      augment_sample(src.data(), kFer2013Shape, 0, out.data(), erase_only, unit, rng);
      const auto zeros = std::count(out.begin(), out.end(), 0.0f);
      const auto dark = std::count(src.begin(), src.end(), std::uint8_t{0});  // pixels that are 0 anyway
      if (p == 0) CHECK(zeros == dark);
      else CHECK(zeros > kImagePixels / 8);
    }
  }
}
