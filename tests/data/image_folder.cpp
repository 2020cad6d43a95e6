// Image-folder datasets built by the test in a temporary folder: layout, keys, labels, splits,
// resizing, and every bad-input case under the strict and skip policies.
#include "moodnet/data/image_folder.hpp"

#include <catch2/catch.hpp>

#include "moodnet/data/fer2013.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::require_error_naming;
using moodnet::test::TempDir;
using moodnet::test::write_bytes;

namespace {
// root/train/<class>/Training_<k>.pgm and root/test/<class>/{PublicTest,PrivateTest}_<k>.pgm for
// the 7 FER classes; pixel value = 10 * class + k so each image is identifiable.
void make_tree(const TempDir& root, int train_per_class = 3) {
  const auto& classes = fer2013_class_names();
  for (int c = 0; c < 7; ++c) {
    for (int k = 0; k < train_per_class; ++k)
      write_bytes(root / ("train/" + classes[c] + "/Training_" + std::to_string(k) + ".pgm"),
                  test::pgm48(static_cast<std::uint8_t>(10 * c + k)));
    write_bytes(root / ("test/" + classes[c] + "/PublicTest_1.pgm"), test::pgm48(static_cast<std::uint8_t>(100 + c)));
    write_bytes(root / ("test/" + classes[c] + "/PrivateTest_1.pgm"), test::pgm48(static_cast<std::uint8_t>(200 + c)));
  }
}
FolderOptions skip_quietly() {
  FolderOptions o;
  o.bad_items = BadItemPolicy::skip;
  o.warn = false;
  return o;
}
}  // namespace

TEST_CASE("image folder: classes alphabetical, keys relative and unique, labels follow folders", "[data][folder]") {
  TempDir root;
  make_tree(root);
  // The same file name in two class folders (as FER-2013's Training_8475486.jpg) stays two images.
  write_bytes(root / "train/surprise/Training_0x.pgm", test::pgm48(250));
  write_bytes(root / "train/angry/Training_0x.pgm", test::pgm48(251));
  write_bytes(root / "train/angry/.DS_Store", "junk that is ignored");
  const Dataset d = load_fer2013(root.path, Split::train);
  REQUIRE(d.size() == 7 * 3 + 2);
  CHECK(d.class_names == fer2013_class_names());
  CHECK(d.class_counts() == std::vector<std::int64_t>{4, 3, 3, 3, 3, 3, 4});
  CHECK(d.report.loaded == 23);
  CHECK(d.report.resized == 0);
  CHECK(d.report.skipped.empty());
  CHECK(d.keys[0] == "train/angry/Training_0.pgm");
  CHECK(d.keys[1] == "train/angry/Training_0x.pgm");
  CHECK(d.keys.back() == "train/surprise/Training_2.pgm");
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const auto& key = d.keys[static_cast<std::size_t>(i)];
    const int c = d.label(i);
    INFO(key);
    CHECK(key.find("/" + fer2013_class_names()[static_cast<std::size_t>(c)] + "/") != std::string::npos);
    const std::uint8_t expected = key.find("0x") != std::string::npos ? (c == 0 ? 251 : 250)
                                                                       : static_cast<std::uint8_t>(10 * c + (key[key.size() - 5] - '0'));
    CHECK(int(d.image(i)[0]) == expected);
    CHECK(int(d.image(i)[kImagePixels - 1]) == expected);
  }
}

TEST_CASE("image folder: PublicTest/PrivateTest split by file-name prefix", "[data][folder]") {
  TempDir root;
  make_tree(root);
  const Dataset pub = load_fer2013(root.path, Split::public_test);
  const Dataset priv = load_fer2013(root.path, Split::private_test);
  const Dataset all = load_fer2013(root.path, Split::test);
  CHECK(pub.size() == 7);
  CHECK(priv.size() == 7);
  CHECK(all.size() == 14);
  for (std::int64_t i = 0; i < 7; ++i) {
    CHECK(pub.label(i) == i);
    CHECK(int(pub.image(i)[5]) == 100 + i);
    CHECK(int(priv.image(i)[5]) == 200 + i);
    CHECK(pub.keys[static_cast<std::size_t>(i)].find("PublicTest_") != std::string::npos);
  }
}

TEST_CASE("image folder: images of other sizes are resized and counted", "[data][folder]") {
  TempDir root;
  make_tree(root);
  write_bytes(root / "train/happy/big.pgm", test::pgm(96, 96, std::vector<std::uint8_t>(96 * 96, 77)));
  write_bytes(root / "train/happy/small.pgm", test::pgm(24, 30, std::vector<std::uint8_t>(24 * 30, 33)));
  const Dataset d = load_fer2013(root.path, Split::train);
  CHECK(d.report.resized == 2);
  std::int64_t seen = 0;
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const auto& k = d.keys[static_cast<std::size_t>(i)];
    if (k == "train/happy/big.pgm" || k == "train/happy/small.pgm") {
      const int v = k.find("big") != std::string::npos ? 77 : 33;
      for (std::int64_t p = 0; p < kImagePixels; ++p) REQUIRE(int(d.image(i)[p]) == v);
      ++seen;
    }
  }
  CHECK(seen == 2);
}

TEST_CASE("image folder: every bad file is an error naming it, or skipped and counted", "[data][folder]") {
  const std::string good = test::pgm48(5);
  struct Case {
    const char* name;
    std::string bytes;
    const char* says;
  };
  const std::vector<Case> cases{
      {"zero.jpg", "", "0 bytes"},
      {"truncated.pgm", good.substr(0, good.size() / 2), "truncated"},
      {"corrupt.jpg", std::string("\xFF\xD8\xFF\xE0", 4) + std::string(300, '\x13'), "cannot decode"},
      {"notes.txt", "these are my notes, not an image\n", "cannot decode"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      TempDir root;
      make_tree(root);
      write_bytes(root / (std::string("train/fear/") + c.name), c.bytes);
      require_error_naming([&] { load_fer2013(root.path, Split::train); }, {std::string("train/fear/") + c.name, c.says});
      const Dataset d = load_image_folder(root.path, "train", skip_quietly());
      CHECK(d.size() == 21);
      REQUIRE(d.report.skipped.size() == 1);
      CHECK(d.report.skipped[0].key == std::string("train/fear/") + c.name);
      CHECK(d.report.skipped[0].reason.find(c.says) != std::string::npos);
      CHECK(d.class_counts() == std::vector<std::int64_t>(7, 3));
      for (std::int64_t i = 0; i < d.size(); ++i)  // labels still follow their images after compaction
        CHECK(int(d.image(i)[0]) / 10 == d.label(i));
    }
  }
  SECTION("unreadable entries: a dangling link and a folder named like an image") {
    TempDir root;
    make_tree(root);
    std::filesystem::create_symlink(root / "does-not-exist.jpg", root / "train/sad/dangling.jpg");
    std::filesystem::create_directories(root / "train/sad/folder.jpg");
    require_error_naming([&] { load_fer2013(root.path, Split::train); }, {"train/sad/dangling.jpg"});
    const Dataset d = load_image_folder(root.path, "train", skip_quietly());
    CHECK(d.size() == 21);
    CHECK(d.report.skipped.size() == 2);
  }
}

TEST_CASE("image folder: structural errors name the folder", "[data][folder]") {
  SECTION("missing train and test folders") {
    TempDir root;
    require_error_naming([&] { load_fer2013(root.path, Split::train); }, {(root / "train").string(), "does not exist"});
    require_error_naming([&] { load_fer2013(root.path, Split::test); }, {(root / "test").string(), "does not exist"});
  }
  SECTION("empty class folder: strict error, skip warns") {
    TempDir root;
    make_tree(root);
    for (const auto& e : std::filesystem::directory_iterator(root / "train/disgust")) std::filesystem::remove(e.path());
    require_error_naming([&] { load_fer2013(root.path, Split::train); }, {"train/disgust", "no images"});
    const Dataset d = load_image_folder(root.path, "train", skip_quietly());
    CHECK(d.size() == 18);
    CHECK(d.class_names.size() == 7);
    CHECK(d.class_counts()[1] == 0);
    REQUIRE(d.report.warnings.size() == 1);
    CHECK(d.report.warnings[0].find("disgust") != std::string::npos);
  }
  SECTION("wrong class folders") {
    TempDir root;
    make_tree(root);
    std::filesystem::rename(root / "test/sad", root / "test/sadness");
    require_error_naming([&] { load_fer2013(root.path, Split::test); }, {"sadness", "expected"});
  }
  SECTION("no class folders at all") {
    TempDir root;
    write_bytes(root / "train/loose.pgm", test::pgm48(1));
    require_error_naming([&] { load_image_folder(root.path, "train"); }, {"no class sub-folders"});
  }
}
