// IDX files (MNIST style) made by the test: plain and gzipped, odd sizes, numbered or named
// classes, conversion to another shape, finding a split's files, and every bad case.
#include "moodnet/data/idx.hpp"

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::idx_bytes;
using moodnet::test::require_error_naming;
using moodnet::test::TempDir;
using moodnet::test::write_bytes;

namespace {
constexpr std::uint32_t kN = 5, kRows = 7, kCols = 3;  // odd, non-square
const std::vector<std::uint8_t> kLabels{2, 0, 1, 2, 1};
std::uint8_t pixel(std::uint32_t i, std::uint32_t y, std::uint32_t x) { return static_cast<std::uint8_t>(40 * i + 5 * y + x); }
std::string images_body() {
  std::string s;
  for (std::uint32_t i = 0; i < kN; ++i)
    for (std::uint32_t y = 0; y < kRows; ++y)
      for (std::uint32_t x = 0; x < kCols; ++x) s += static_cast<char>(pixel(i, y, x));
  return s;
}
std::string images_file() { return idx_bytes({kN, kRows, kCols}, images_body()); }
std::string labels_file(const std::vector<std::uint8_t>& labels = kLabels) {
  return idx_bytes({static_cast<std::uint32_t>(labels.size())}, std::string(labels.begin(), labels.end()));
}
void check_contents(const Dataset& d, const std::string& images_name) {
  REQUIRE(d.size() == kN);
  CHECK(d.shape() == ImageShape{1, kRows, kCols});
  for (std::uint32_t i = 0; i < kN; ++i) {
    CHECK(d.label(i) == kLabels[i]);
    CHECK(d.keys[i] == images_name + "[" + std::to_string(i) + "]");
    for (std::uint32_t y = 0; y < kRows; ++y)
      for (std::uint32_t x = 0; x < kCols; ++x) REQUIRE(int(d.image(i)[y * kCols + x]) == int(pixel(i, y, x)));
  }
}
}  // namespace

TEST_CASE("IDX: plain files read exactly, classes numbered from the largest label", "[data][idx]") {
  TempDir dir;
  write_bytes(dir / "train-images-idx3-ubyte", images_file());
  write_bytes(dir / "train-labels-idx1-ubyte", labels_file());
  const Dataset d = load_idx(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte");
  check_contents(d, "train-images-idx3-ubyte");
  CHECK(d.class_names == std::vector<std::string>{"0", "1", "2"});
  CHECK(d.report.loaded == kN);
  // Named classes; a count for a split that lacks the top class.
  IdxOptions named;
  named.class_names = {"cat", "dog", "eel", "fox"};
  CHECK(load_idx(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte", named).class_names == named.class_names);
  IdxOptions ten;
  ten.num_classes = 10;
  CHECK(load_idx(dir / "train-images-idx3-ubyte", dir / "train-labels-idx1-ubyte", ten).num_classes() == 10);
}

TEST_CASE("IDX: gzip-compressed files read like plain ones; find_idx_files finds MNIST's names", "[data][idx]") {
  TempDir dir;
  write_bytes(dir / "t10k-images-idx3-ubyte", images_file());
  write_bytes(dir / "t10k-labels-idx1-ubyte", labels_file());
  const IdxFiles plain = find_idx_files(dir.path, "test");  // "test" also finds t10k-*
  CHECK(plain.images == dir / "t10k-images-idx3-ubyte");
  CHECK(plain.labels == dir / "t10k-labels-idx1-ubyte");
  check_contents(load_idx_split(dir.path, "test"), "t10k-images-idx3-ubyte");
  CHECK(has_idx_files(dir.path));
#if defined(MOODNET_HAVE_ZLIB)
  test::write_gzip(dir / "train-images-idx3-ubyte.gz", images_file());
  test::write_gzip(dir / "train-labels-idx1-ubyte.gz", labels_file());
  const IdxFiles gz = find_idx_files(dir.path, "train");
  CHECK(gz.images == dir / "train-images-idx3-ubyte.gz");
  CHECK(gz.labels == dir / "train-labels-idx1-ubyte.gz");
  check_contents(load_idx_split(dir.path, "train"), "train-images-idx3-ubyte.gz");
  // Plain beside gzipped (after gunzip -k): the plain file is used. EMNIST-style prefixes match too.
  write_bytes(dir / "train-images-idx3-ubyte", images_file());
  write_bytes(dir / "train-labels-idx1-ubyte", labels_file());
  CHECK(find_idx_files(dir.path, "train").images == dir / "train-images-idx3-ubyte");
  TempDir emnist;
  test::write_gzip(emnist / "emnist-digits-train-images-idx3-ubyte.gz", images_file());
  test::write_gzip(emnist / "emnist-digits-train-labels-idx1-ubyte.gz", labels_file());
  CHECK(load_idx_split(emnist.path, "train").size() == kN);
#else
  WARN("built without zlib: the gzip cases are tested by idx_no_zlib");
#endif
}

TEST_CASE("IDX: conversion to 3 channels and another size", "[data][idx]") {
  TempDir dir;
  write_bytes(dir / "i", images_file());
  write_bytes(dir / "l", labels_file());
  IdxOptions o;
  o.channels = 3;
  const Dataset rgb = load_idx(dir / "i", dir / "l", o);
  CHECK(rgb.shape() == ImageShape{3, kRows, kCols});
  for (std::uint32_t c = 0; c < 3; ++c) CHECK(int(rgb.image(4)[c * kRows * kCols + 2 * kCols + 1]) == int(pixel(4, 2, 1)));
  o.height = 14, o.width = 6;  // the same aspect: crop and stretch agree, each pixel doubled
  o.resize = ResizeMode::stretch;
  const Dataset big = load_idx(dir / "i", dir / "l", o);
  CHECK(big.shape() == ImageShape{3, 14, 6});
  CHECK(big.report.resized == kN);
  CHECK(big.labels[3] == kLabels[3]);
  CHECK(int(big.image(1)[2 * 14 * 6 + 0]) == int(pixel(1, 0, 0)));
}

TEST_CASE("IDX: every bad file is an error naming it", "[data][idx]") {
  TempDir dir;
  const auto img = dir / "train-images-idx3-ubyte", lab = dir / "train-labels-idx1-ubyte";
  write_bytes(img, images_file());
  write_bytes(lab, labels_file());
  auto bad_images = [&](const std::string& bytes, const std::vector<std::string>& says) {
    write_bytes(dir / "bad", bytes);
    auto parts = says;
    parts.insert(parts.begin(), (dir / "bad").string());
    require_error_naming([&] { load_idx(dir / "bad", lab); }, parts);
  };
  SECTION("not IDX, wrong element type, wrong rank, no items, too large, too short") {
    bad_images(std::string("\x89PNG\r\n\x1a\n", 8) + std::string(40, 'x'), {"not an IDX file", "0x89504E47"});
    bad_images(idx_bytes({kN, kRows, kCols}, std::string(kN * kRows * kCols * 4, '\0'), 0x0D), {"0x0D", "float32"});
    bad_images(labels_file(), {"1 dimensions, expected 3"});
    bad_images(idx_bytes({0, kRows, kCols}, ""), {"no items"});
    bad_images(idx_bytes({1, 20000, 3}, ""), {"20000x3", "within"});
    bad_images(std::string("\0\0", 2), {"truncated", "shorter than an IDX header"});
    bad_images(images_file().substr(0, 9), {"truncated", "header"});
    require_error_naming([&] { load_idx(img, img); }, {lab.parent_path().string(), "3 dimensions, expected 1"});
  }
  SECTION("counts that disagree, truncated data, trailing data") {
    write_bytes(dir / "short-labels", labels_file({2, 0, 1, 2}));
    require_error_naming([&] { load_idx(img, dir / "short-labels"); },
                         {img.string(), "5 images", (dir / "short-labels").string(), "4 labels"});
    bad_images(images_file().substr(0, images_file().size() - 10), {"truncated", "5x7x3 pixels", "105 bytes", "only 95"});
    bad_images(images_file() + "xyz", {"3 bytes after"});
    write_bytes(dir / "cut-labels", labels_file().substr(0, 11));
    require_error_naming([&] { load_idx(img, dir / "cut-labels"); }, {(dir / "cut-labels").string(), "truncated"});
  }
  SECTION("labels outside the classes") {
    IdxOptions o;
    o.class_names = {"a", "b"};
    require_error_naming([&] { load_idx(img, lab, o); }, {lab.string(), "item 0 has label 2", "2 classes"});
    IdxOptions k;
    k.num_classes = 2;
    require_error_naming([&] { load_idx(img, lab, k); }, {lab.string(), "label 2", "num_classes"});
  }
  SECTION("a dataset larger than memory is refused before it is read") {
    bad_images(idx_bytes({4000000000u, 16000, 16000}, ""), {"4000000000 images of 1x16000x16000", "N*C*H*W"});
  }
  SECTION("missing files and folders") {
    require_error_naming([&] { load_idx(dir / "nope", lab); }, {(dir / "nope").string(), "no such file"});
    require_error_naming([&] { find_idx_files(dir.path, "val"); }, {dir.path.string(), "split 'val'"});
    std::filesystem::remove(lab);
    require_error_naming([&] { find_idx_files(dir.path, "train"); }, {"no labels file", "train-labels-idx1-ubyte"});
    write_bytes(dir / "a-train-images-idx3-ubyte", images_file());
    write_bytes(dir / "b-train-images-idx3-ubyte", images_file());
    require_error_naming([&] { find_idx_files(dir.path, "train"); }, {"3 images files", "a-train-images-idx3-ubyte"});
  }
#if defined(MOODNET_HAVE_ZLIB)
  SECTION("gzip: a corrupt stream and a cut-off one") {
    test::write_gzip(dir / "good.gz", images_file());
    const std::string gz = test::read_bytes(dir / "good.gz");
    std::string corrupt = gz;
    for (std::size_t i = 10; i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(0xA5 ^ i);
    write_bytes(dir / "corrupt.gz", corrupt);
    require_error_naming([&] { load_idx(dir / "corrupt.gz", lab); }, {(dir / "corrupt.gz").string()});
    write_bytes(dir / "cut.gz", gz.substr(0, gz.size() / 2));
    require_error_naming([&] { load_idx(dir / "cut.gz", lab); }, {(dir / "cut.gz").string()});
  }
#endif
}
