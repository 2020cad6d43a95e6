// Generic image folders made by the test: an RGB folder of 3 classes at 32x32 in every lossless
// format stb_image_write makes (plus PPM and JPEG), colour kept or converted, both layouts
// (root/<split>/<class> and root/<class>), stored sizes and the aspect rule, and every bad case.
#include "moodnet/data/image_folder.hpp"

#include <catch2/catch.hpp>

#include "encode.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::encode;
using moodnet::test::require_error_naming;
using moodnet::test::TempDir;
using moodnet::test::write_bytes;

namespace {
const std::vector<std::string> kClasses{"ant", "mole", "zebra"};  // sorted order; written unsorted below

// The planar [3, h, w] pixels of image k of class c: every channel, row and column differs.
std::vector<std::uint8_t> rgb_pixels(int c, int k, int h = 32, int w = 32) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(3 * h * w));
  for (int ch = 0; ch < 3; ++ch)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        px[static_cast<std::size_t>((ch * h + y) * w + x)] = static_cast<std::uint8_t>((c * 60 + k * 7 + ch * 80 + 3 * x + 5 * y) % 256);
  return px;
}

// root/<split>/<class>/k.<fmt> for the three classes, one file per lossless format.
const std::vector<std::string> kFormats{"png", "bmp", "tga", "ppm"};
void write_rgb_split(const std::filesystem::path& dir) {
  for (int c : {2, 0, 1})
    for (int k = 0; k < static_cast<int>(kFormats.size()); ++k) {
      const auto rgb = test::interleave(rgb_pixels(c, k), 32, 32);
      const std::string f = kFormats[static_cast<std::size_t>(k)];
      write_bytes(dir / kClasses[static_cast<std::size_t>(c)] / (std::to_string(k) + "." + f),
                  f == "ppm" ? test::ppm(32, 32, rgb) : encode(f.c_str(), 32, 32, 3, rgb));
    }
}

// Index of the image with key "<prefix><class>/<k>.<fmt>", checking it exists.
std::int64_t find_key(const Dataset& d, const std::string& key) {
  const auto it = std::find(d.keys.begin(), d.keys.end(), key);
  REQUIRE(it != d.keys.end());
  return it - d.keys.begin();
}
}  // namespace

TEST_CASE("RGB folder: 3 classes at 32x32 in PNG, BMP, TGA, PPM: colour kept, classes sorted, pixels exact",
          "[data][folder][rgb]") {
  TempDir root;
  write_rgb_split(root / "train");
  const Dataset d = load_image_folder(root.path, "train");  // channels and size as stored
  REQUIRE(d.size() == 12);
  CHECK(d.shape() == ImageShape{3, 32, 32});
  CHECK(d.images.shape() == Shape({12, 3, 32, 32}));
  CHECK(d.class_names == kClasses);
  CHECK(d.class_counts() == std::vector<std::int64_t>{4, 4, 4});
  CHECK(d.report.resized == 0);
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 4; ++k) {
      const std::string key = "train/" + kClasses[static_cast<std::size_t>(c)] + "/" + std::to_string(k) + "." +
                              kFormats[static_cast<std::size_t>(k)];
      INFO(key);
      const std::int64_t i = find_key(d, key);
      CHECK(d.label(i) == c);
      const auto want = rgb_pixels(c, k);
      CHECK(std::equal(want.begin(), want.end(), d.image(i)));
    }
  SECTION("a JPEG reads within JPEG error") {
    write_bytes(root / "train/mole/photo.jpg", encode("jpg", 32, 32, 3, test::interleave(rgb_pixels(1, 9), 32, 32)));
    const Dataset j = load_image_folder(root.path, "train");
    const std::int64_t i = find_key(j, "train/mole/photo.jpg");
    const auto want = rgb_pixels(1, 9);
    double err = 0;
    for (std::size_t p = 0; p < want.size(); ++p) err += std::abs(int(j.image(i)[p]) - int(want[p]));
    CHECK(err / static_cast<double>(want.size()) < 4.0);  // mean absolute error at quality 100
  }
}

TEST_CASE("RGB folder: gray on request (BT.601 luma), gray files replicated into a colour dataset",
          "[data][folder][rgb]") {
  TempDir root;
  write_rgb_split(root / "train");
  FolderOptions gray;
  gray.channels = 1;
  const Dataset g = load_image_folder(root.path, "train", gray);
  CHECK(g.shape() == ImageShape{1, 32, 32});
  const std::int64_t i = find_key(g, "train/zebra/0.png");
  const auto rgb = rgb_pixels(2, 0);
  for (int p = 0; p < 32 * 32; ++p) REQUIRE(int(g.image(i)[p]) == int(luma_bt601(rgb[p], rgb[1024 + p], rgb[2048 + p])));

  // One gray file among colour ones: the dataset is colour (auto) and the gray image is replicated.
  write_bytes(root / "train/ant/gray.pgm", test::pgm(32, 32, std::vector<std::uint8_t>(32 * 32, 77)));
  const Dataset mixed = load_image_folder(root.path, "train");
  CHECK(mixed.shape() == ImageShape{3, 32, 32});
  const std::int64_t j = find_key(mixed, "train/ant/gray.pgm");
  CHECK(std::all_of(mixed.image(j), mixed.image(j) + 3 * 32 * 32, [](std::uint8_t v) { return v == 77; }));
  // An all-gray folder stays 1 channel when channels are as stored.
  TempDir gray_root;
  write_bytes(gray_root / "a/1.pgm", test::pgm(8, 8, std::vector<std::uint8_t>(64, 1)));
  write_bytes(gray_root / "b/1.pgm", test::pgm(8, 8, std::vector<std::uint8_t>(64, 2)));
  CHECK(load_image_folder(gray_root.path, "").shape() == ImageShape{1, 8, 8});
}

TEST_CASE("image folder layouts: root/<class>/* and root/train + root/test with the same classes",
          "[data][folder][rgb]") {
  TempDir flat;
  write_rgb_split(flat.path);  // root/<class>/*
  const Dataset d = load_image_folder(flat.path, "");
  CHECK(d.size() == 12);
  CHECK(d.class_names == kClasses);
  CHECK(d.keys[0] == "ant/0.png");
  const auto [rest, held] = split_stratified(d, 0.25, 1);
  CHECK(held.class_counts() == std::vector<std::int64_t>{1, 1, 1});
  CHECK(held.shape() == ImageShape{3, 32, 32});
  const std::int64_t h0 = find_key(d, held.keys[0]);
  CHECK(std::equal(held.image(0), held.image(0) + 3 * 32 * 32, d.image(h0)));

  TempDir split;
  write_rgb_split(split / "train");
  write_rgb_split(split / "test");
  const Dataset train = load_image_folder(split.path, "train");
  FolderOptions same;
  same.expected_classes = train.class_names;
  CHECK(load_image_folder(split.path, "test", same).class_names == train.class_names);
  std::filesystem::rename(split / "test/mole", split / "test/vole");
  require_error_naming([&] { load_image_folder(split.path, "test", same); }, {(split / "test").string(), "vole", "expected"});
}

TEST_CASE("image folder sizes: mixed sizes need a chosen size; then crop keeps the aspect, stretch distorts",
          "[data][folder][rgb]") {
  TempDir root;
  // 40 wide x 20 high gray ramps (pixel = 6 x) and a 32x32 image, in two classes.
  std::vector<std::uint8_t> ramp(20 * 40);
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 40; ++x) ramp[static_cast<std::size_t>(y * 40 + x)] = static_cast<std::uint8_t>(6 * x);
  write_bytes(root / "a/ramp.pgm", test::pgm(40, 20, ramp));
  write_bytes(root / "b/square.pgm", test::pgm(32, 32, std::vector<std::uint8_t>(32 * 32, 50)));
  require_error_naming([&] { load_image_folder(root.path, ""); },
                       {"mixed sizes", (root / "b/square.pgm").string(), "32x32", (root / "a/ramp.pgm").string(), "40x20"});
  FolderOptions o;
  o.height = o.width = 10;
  const Dataset crop = load_image_folder(root.path, "", o);  // default: ResizeMode::crop
  CHECK(crop.shape() == ImageShape{1, 10, 10});
  CHECK(crop.report.resized == 2);
  for (int x = 0; x < 10; ++x) CHECK(int(crop.image(0)[3 * 10 + x]) == 63 + 12 * x);  // centred 20x20, halved
  CHECK(int(crop.image(1)[55]) == 50);
  o.resize = ResizeMode::stretch;
  o.channels = 3;
  const Dataset stretch = load_image_folder(root.path, "", o);
  CHECK(stretch.shape() == ImageShape{3, 10, 10});
  for (int c = 0; c < 3; ++c)
    for (int x = 0; x < 10; ++x) CHECK(int(stretch.image(0)[c * 100 + 7 * 10 + x]) == 24 * x + 9);
  // Non-square stored sizes are allowed.
  o.height = 6, o.width = 12;
  CHECK(load_image_folder(root.path, "", o).shape() == ImageShape{3, 6, 12});
}

TEST_CASE("image folder: bad options, empty folders and bad files with channels and size as stored",
          "[data][folder][rgb]") {
  TempDir root;
  write_rgb_split(root / "train");
  FolderOptions o;
  o.channels = 2;
  require_error_naming([&] { load_image_folder(root.path, "train", o); }, {"channels", "2"});
  o = {};
  o.height = 32;  // width missing
  require_error_naming([&] { load_image_folder(root.path, "train", o); }, {"size", "32x0"});
  SECTION("a file that is not an image: named by the header probe; skipped under the skip policy") {
    write_bytes(root / "train/ant/notes.txt", "not an image\n");
    require_error_naming([&] { load_image_folder(root.path, "train"); }, {"train/ant/notes.txt", "cannot decode"});
    FolderOptions skip;
    skip.bad_items = BadItemPolicy::skip;
    skip.warn = false;
    const Dataset d = load_image_folder(root.path, "train", skip);
    CHECK(d.size() == 12);
    REQUIRE(d.report.skipped.size() == 1);
    CHECK(d.report.skipped[0].key == "train/ant/notes.txt");
  }
  SECTION("a truncated PNG passes the probe and is named by the decoder") {
    const std::string png = encode("png", 32, 32, 3, test::interleave(rgb_pixels(0, 0), 32, 32));
    write_bytes(root / "train/mole/cut.png", png.substr(0, png.size() / 2));
    require_error_naming([&] { load_image_folder(root.path, "train"); }, {"train/mole/cut.png"});
  }
  SECTION("empty class folder, folder without classes, missing folder") {
    std::filesystem::create_directories(root / "train/newt");
    require_error_naming([&] { load_image_folder(root.path, "train"); }, {"train/newt", "no images"});
    std::filesystem::create_directories(root / "empty");
    require_error_naming([&] { load_image_folder(root.path, "empty"); }, {"empty", "no class sub-folders"});
    require_error_naming([&] { load_image_folder(root.path, "val"); }, {(root / "val").string(), "does not exist"});
  }
}
