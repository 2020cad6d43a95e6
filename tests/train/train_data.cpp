// The trainer's data phase (train/train_data.hpp) on the bundled FER-2013 sample and on datasets
// made by the test: which split validates and which is reported, the shapes and classes every split
// is read with, the log lines, and the errors of every data flag.
#include "moodnet/train/train_data.hpp"

#include <catch2/catch.hpp>

#include <sstream>

#include "../data/support.hpp"

using namespace moodnet;
using namespace moodnet::train;
using moodnet::test::require_error_naming;
using moodnet::test::TempDir;
using moodnet::test::write_bytes;

namespace {
const std::string kSample = std::string(MOODNET_SOURCE_DIR) + "/data/fer2013-sample";

void write_split(const std::filesystem::path& root, const std::string& split, const std::vector<std::string>& classes,
                 int n, int side = 20) {
  test::write_class_folders(root, split, classes, n, side);
}
}  // namespace

TEST_CASE("train data: FER-2013 keeps PublicTest validation, PrivateTest and Public+Private, and its log",
          "[train][data]") {
  DataConfig c;
  c.path = kSample;
  std::ostringstream log;
  const TrainData t = load_train_data(c, 1, log);
  CHECK(t.is_fer2013());
  CHECK(t.train.size() == 140);
  CHECK(t.val.size() == 35);
  CHECK(t.val_from == "PublicTest");
  CHECK(t.validation_is_public);
  REQUIRE(t.tests.size() == 2);
  CHECK(t.tests[0].name == "PrivateTest");
  CHECK(t.tests[0].set.size() == 35);
  CHECK(t.tests[1].name == "Public+Private");
  CHECK(t.tests[1].set.size() == 70);
  CHECK(t.train.shape() == data::kFer2013Shape);
  const data::Normalization n = data::compute_normalization(data::load_fer2013(kSample, data::Split::train));
  CHECK(t.norm.mean == n.mean);
  std::ostringstream want;
  want << "data: " << kSample << " (--data)\ntrain 140 images, validation 35 (PublicTest), PrivateTest 35, "
       << "Public+Private 70; input mean " << n.mean[0] << " std " << n.std[0] << "\n";
  CHECK(log.str() == want.str());

  // --validation train: a stratified slice of train; at another shape every split is converted.
  c.validation = "train";
  c.channels = 3, c.input_size = 32;
  std::ostringstream log2;
  const TrainData s = load_train_data(c, 1, log2);
  CHECK(s.val_from == "held-out slice of train");
  CHECK(s.train.size() + s.val.size() == 140);
  CHECK(s.val.size() == 14);
  CHECK(s.tests[0].set.shape() == data::ImageShape{3, 32, 32});
  CHECK(s.norm.channels() == 3);
  CHECK_THAT(log2.str(), Catch::Contains("; images 3x32x32"));
}

TEST_CASE("train data: image folders (with val/, without test/, flat) and IDX files", "[train][data]") {
  TempDir dir("train-data");
  write_split(dir / "pets", "train", {"cat", "dog"}, 10);
  write_split(dir / "pets", "val", {"cat", "dog"}, 2);
  write_split(dir / "pets", "test", {"cat", "dog"}, 3);
  DataConfig c;
  c.path = (dir / "pets").string();
  std::ostringstream log;
  const TrainData t = load_train_data(c, 1, log);
  CHECK_FALSE(t.is_fer2013());
  CHECK(t.train.size() == 20);
  CHECK(t.val_from == "split val");
  CHECK(t.val.size() == 4);
  CHECK(t.test_from == "split test");
  REQUIRE(t.tests.size() == 1);
  CHECK(t.tests[0].name == "Test");
  CHECK(t.tests[0].set.size() == 6);
  CHECK(t.train.shape() == data::ImageShape{1, 20, 20});
  CHECK_THAT(log.str(), Catch::Contains("data: " + c.path + " (image folder with splits test,train,val)"));
  CHECK_THAT(log.str(), Catch::Contains("train 20 images of 1x20x20 in 2 classes (cat, dog), validation 4 (split val), test 6 (split test)"));
  // --validation train ignores val/ and holds out a slice; --input-size resizes every split.
  c.validation = "train";
  c.input_size = 16;
  std::ostringstream log2;
  const TrainData u = load_train_data(c, 1, log2);
  CHECK(u.val_from == "held-out slice of train");
  CHECK(u.train.size() == 18);
  CHECK(u.tests[0].set.shape() == data::ImageShape{1, 16, 16});

  // No test split: validation and test are two disjoint slices of train.
  write_split(dir / "flat", "", {"a", "b", "c"}, 10);
  DataConfig f;
  f.path = (dir / "flat").string();
  std::ostringstream log3;
  const TrainData g = load_train_data(f, 1, log3);
  CHECK(g.test_from == "held-out slice of train");
  CHECK(g.tests[0].set.size() == 3);
  CHECK(g.val.size() == 3);
  CHECK(g.train.size() == 24);
  for (const auto& k : g.val.keys)
    for (const auto& l : g.tests[0].set.keys) REQUIRE(k != l);

  // IDX: numbered classes, or named with --class-names; t10k is the test split.
  test::write_idx_split(dir / "digits", "train", std::string("\0\1\2\0\1\2\0\1\2\0\1\2", 12));
  test::write_idx_split(dir / "digits", "t10k", std::string("\2\1\0", 3));
  DataConfig i;
  i.path = (dir / "digits").string();
  std::ostringstream log4;
  const TrainData d = load_train_data(i, 1, log4);
  CHECK(d.train.class_names == std::vector<std::string>{"0", "1", "2"});
  CHECK(d.tests[0].set.size() == 3);
  i.class_names = {"x", "y", "z"};
  const TrainData named = load_train_data(i, 1, log4);
  CHECK(named.train.class_names == i.class_names);
  CHECK(named.tests[0].set.class_names == i.class_names);
}

TEST_CASE("train data: every bad data flag is a one-line error naming it", "[train][data]") {
  TempDir dir("train-data-bad");
  write_split(dir / "pets", "train", {"cat", "dog"}, 4);
  write_split(dir / "pets", "test", {"cat", "dog"}, 1);
  test::write_idx_split(dir / "digits", "train", std::string("\0\1\2\3", 4));
  std::ostringstream log;
  auto with = [&](auto edit) {
    DataConfig c;
    c.path = (dir / "pets").string();
    edit(c);
    return [c, &log] { load_train_data(c, 1, log, "train_customnet"); };
  };
  require_error_naming(with([](DataConfig& c) { c.channels = 2; }), {"--channels", "got 2"});
  require_error_naming(with([](DataConfig& c) { c.input_size = -1; }), {"--input-size", "got -1"});
  require_error_naming(with([](DataConfig& c) { c.resize = "zoom"; }), {"--resize", "zoom"});
  require_error_naming(with([](DataConfig& c) { c.validation = "test"; }), {"--validation", "test"});
  require_error_naming(with([](DataConfig& c) { c.val_fraction = 1; }), {"--val-fraction", "got 1"});
  require_error_naming(with([](DataConfig& c) { c.validation = "public"; }), {"--validation public", "FER-2013"});
  require_error_naming(with([](DataConfig& c) { c.class_names = {"a", "b"}; }), {"--class-names is for IDX"});
  require_error_naming(with([](DataConfig& c) { c.fer2013_only = true; }),
                       {"train_customnet trains on FER-2013", "train --model"});
  require_error_naming(with([&](DataConfig& c) { c.path = (dir / "nothing").string(); }), {"--data", "does not exist"});
  require_error_naming(with([&](DataConfig& c) {
                         c.path = (dir / "digits").string();
                         c.class_names = {"a", "b", "c"};
                       }),
                       {"--class-names has 3 names", "labels of", "are 0..3 (4 classes)"});
  write_split(dir / "other", "first", {"cat", "dog"}, 1);
  write_split(dir / "other", "second", {"cat", "dog"}, 1);
  require_error_naming(with([&](DataConfig& c) { c.path = (dir / "other").string(); }),
                       {"splits first,second", "has no split named train"});
  require_error_naming(with([&](DataConfig& c) { c.path = (dir / "pets" / "test").string(); }),  // flat, 1 per class
                       {"too small for a training, a validation and a test split"});
  require_error_naming(with([&](DataConfig& c) { c.path = kSample; c.class_names = {"a"}; }), {"--class-names is for IDX"});
  CHECK(parse_class_names("a,b") == std::vector<std::string>{"a", "b"});
  require_error_naming([] { parse_class_names("a,,b"); }, {"--class-names 'a,,b' has an empty name"});
  require_error_naming([] { parse_class_names("a,b,a"); }, {"names 'a' twice"});
}
