// --data detection (data/dataset_source.hpp) on datasets made by the test: FER-2013 as CSV and as
// folders, a generic split folder (also FER-2013's layout with other classes), a flat class folder,
// IDX files; splits, loading a split at a chosen shape with given classes, and every bad path.
#include "moodnet/data/dataset_source.hpp"

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::pgm;
using moodnet::test::pgm48;
using moodnet::test::require_error_naming;
using moodnet::test::TempDir;
using moodnet::test::write_bytes;

namespace {
void write_split(const std::filesystem::path& root, const std::string& split, const std::vector<std::string>& classes,
                 int per_class, const std::string& prefix = "") {
  test::write_class_folders(root, split, classes, per_class, 48, prefix);
}
}  // namespace

TEST_CASE("detect_dataset: FER-2013 folders and CSV, split folders, class folders, IDX", "[data][source]") {
  TempDir dir("source");
  // FER-2013's layout: its seven classes, PublicTest_/PrivateTest_ files in test/.
  write_split(dir / "fer", "train", fer2013_class_names(), 1, "Training_");
  write_split(dir / "fer", "test", fer2013_class_names(), 1, "PublicTest_");
  write_split(dir / "fer", "test", fer2013_class_names(), 2, "PrivateTest_");
  const DatasetSource fer = detect_dataset(dir / "fer");
  CHECK(fer.format == DatasetFormat::fer2013_folders);
  CHECK(fer.is_fer2013());
  CHECK(fer.splits == std::vector<std::string>{"train", "public", "private", "test"});
  const Dataset priv = load_split(fer, "private");
  CHECK(priv.size() == 14);
  CHECK(priv.shape() == kFer2013Shape);
  CHECK(load_split(fer, "public").size() == 7);
  CHECK(load_split(fer, "test").size() == 21);
  // At another shape: 3 x 32 x 32, gray replicated.
  ReadOptions rgb;
  rgb.channels = 3, rgb.height = 32, rgb.width = 32;
  CHECK(load_split(fer, "train", rgb).shape() == ImageShape{3, 32, 32});

  // The same layout with other classes is a generic split folder; its splits are the folder names.
  write_split(dir / "pets", "train", {"cat", "dog"}, 3);
  write_split(dir / "pets", "test", {"cat", "dog"}, 1);
  write_split(dir / "pets", "val", {"cat", "dog"}, 1);
  const DatasetSource pets = detect_dataset(dir / "pets");
  CHECK(pets.format == DatasetFormat::image_splits);
  CHECK_FALSE(pets.is_fer2013());
  CHECK(pets.splits == std::vector<std::string>{"test", "train", "val"});
  CHECK(pets.describe() == "image folder with splits test,train,val");
  const Dataset pets_train = load_split(pets, "train");
  CHECK(pets_train.size() == 6);
  CHECK(pets_train.class_names == std::vector<std::string>{"cat", "dog"});

  // root/<class>/: one split, "all".
  for (const char* c : {"b", "a"})
    for (int k = 0; k < 2; ++k) write_bytes(dir / "flat" / c / (std::to_string(k) + ".pgm"), pgm(5, 7, std::vector<std::uint8_t>(35, 9)));
  const DatasetSource flat = detect_dataset(dir / "flat");
  CHECK(flat.format == DatasetFormat::image_classes);
  CHECK(flat.splits == std::vector<std::string>{"all"});
  const Dataset all = load_split(flat, "all");
  CHECK(all.size() == 4);
  CHECK(all.shape() == ImageShape{1, 7, 5});  // as stored

  // IDX: train-* and MNIST's t10k-* (= test).
  test::write_idx_split(dir / "mnist", "train", std::string("\0\1\2\1", 4), 6);
  test::write_idx_split(dir / "mnist", "t10k", std::string("\1\0", 2), 6);
  const DatasetSource mnist = detect_dataset(dir / "mnist");
  CHECK(mnist.format == DatasetFormat::idx);
  CHECK(mnist.splits == std::vector<std::string>{"test", "train"});
  ReadOptions named;
  named.class_names = {"zero", "one", "two"};
  named.channels = 3, named.height = 8, named.width = 8;
  const Dataset test = load_split(mnist, "test", named);
  CHECK(test.size() == 2);
  CHECK(test.class_names == named.class_names);
  CHECK(test.shape() == ImageShape{3, 8, 8});

  // fer2013.csv (only the extension is looked at until it is read).
  write_bytes(dir / "fer2013.csv", "emotion,pixels,Usage\n");
  CHECK(detect_dataset(dir / "fer2013.csv").format == DatasetFormat::fer2013_csv);
}

TEST_CASE("detect_dataset and load_split: bad paths, unknown splits, other classes", "[data][source]") {
  TempDir dir("source-bad");
  require_error_naming([&] { detect_dataset(dir / "nothing"); }, {"--data", "nothing", "does not exist"});
  write_bytes(dir / "notes.txt", "x");
  require_error_naming([&] { detect_dataset(dir / "notes.txt", "--test-data"); },
                       {"--test-data", "notes.txt", "is a file but not a .csv", "IDX"});
  write_bytes(dir / "loose" / "a.pgm", pgm48(1));  // images but no class folders
  require_error_naming([&] { detect_dataset(dir / "loose"); }, {"loose", "no sub-folders and no IDX files"});

  write_split(dir / "pets", "train", {"cat", "dog"}, 1);
  write_split(dir / "pets", "test", {"cat", "dog"}, 1);
  const DatasetSource pets = detect_dataset(dir / "pets");
  require_error_naming([&] { load_split(pets, "val"); }, {"pets", "has no split 'val'", "its splits: test,train"});
  ReadOptions other;
  other.class_names = {"cat", "cow"};
  require_error_naming([&] { load_split(pets, "test", other); }, {"class folders", "{cat,dog}", "expected {cat,cow}"});

  test::write_idx_split(dir / "mnist", "train", std::string("\0\3", 2), 4);
  ReadOptions two;
  two.class_names = {"a", "b"};
  require_error_naming([&] { load_split(detect_dataset(dir / "mnist"), "train", two); }, {"label 3", "2 classes"});
  require_error_naming([&] { load_split(detect_dataset(dir / "mnist"), "test"); }, {"no split 'test'", "train"});
}
