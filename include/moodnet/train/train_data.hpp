#pragma once
// The trainer's data phase for any dataset: the --data path read into a training split, a
// validation split, the test split(s) reported at the end and the per-channel normalisation of the
// training split, each described for the log.
//
//   dataset               validation (picks the best epoch)             test (reported)
//   FER-2013              PublicTest, or a stratified slice of train     PrivateTest and Public+Private
//   splits with val/      the val (or validation) split                  the test split, if any
//   other splits / IDX    a stratified slice of train                    the test split (IDX: test, t10k)
//   no test split         a stratified slice of train                    another stratified slice of train
//
// DESIGN.md contract 4: the validation split is never the one reported as test. All splits are read
// at the training split's shape (channels 0 = as stored, colour kept when any image is colour; size
// 0 = as stored, else input_size x input_size by the aspect rule) and must have its classes.
#include <cstdint>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/dataset_source.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/normalize.hpp"

namespace moodnet::train {

// What the data flags of a trainer say (train_cli.hpp registers them).
struct DataConfig {
  std::string path;         // --data: any dataset (data/dataset_source.hpp); "" = FER-2013's lookup
  // That lookup's folders (data::resolve_data_dir); the programs put ../shared/fer2013 first
  // (cli/data_folders.hpp).
  std::vector<std::string> default_folders = data::kDefaultDataFolders;
  std::string validation = "auto";  // public (FER-2013's PublicTest) | train (a slice of train) | auto (the table)
  double val_fraction = 0.1;  // of each class, for a slice of train (validation, and test when there is none)
  int channels = 0;           // 0 = as stored, 1 or 3
  int input_size = 0;         // stored side (square); 0 = as stored (FER-2013: 48)
  std::string resize;         // crop | stretch | "" = the reader's default (FER-2013 stretch, others crop)
  std::vector<std::string> class_names;  // IDX: names of labels 0..K-1 (else numbered)
  bool fer2013_only = false;  // the FER-2013 presets (train_customnet, ...) refuse other datasets
};

// One split reported at the end of a run.
struct TestSplit {
  std::string name;  // "PrivateTest", "Public+Private", "Test"
  data::Dataset set;
};

struct TrainData {
  data::DatasetSource source;
  data::Dataset train, val;
  std::vector<TestSplit> tests;  // FER-2013: PrivateTest, Public+Private; else one "Test"
  data::Normalization norm;      // of the training split, per channel
  std::string val_from;          // "PublicTest", "held-out slice of train", "split val"
  std::string test_from;         // "split test", "held-out slice of train"
  bool validation_is_public = false;  // FER-2013's PublicTest picked the best epoch
  data::ResizeMode resize = data::ResizeMode::crop;  // the aspect rule the splits were read with

  bool is_fer2013() const { return source.is_fer2013(); }
};

// "a,b,c" -> {"a", "b", "c"} for --class-names (empty text: no names).
inline std::vector<std::string> parse_class_names(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (out.back().empty()) fail("--class-names '", text, "' has an empty name");
    for (std::size_t i = 0; i + 1 < out.size(); ++i)
      if (out[i] == out.back()) fail("--class-names '", text, "' names '", out.back(), "' twice");
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

// One-line checks of the data flags that need no file.
inline void validate(const DataConfig& c) {
  if (c.validation != "auto" && c.validation != "public" && c.validation != "train")
    fail("--validation must be auto, public or train, got '", c.validation, "'");
  if (!(c.val_fraction > 0 && c.val_fraction < 1)) fail("--val-fraction must be in (0, 1), got ", c.val_fraction);
  if (c.channels != 0 && c.channels != 1 && c.channels != 3)
    fail("--channels must be 1 (gray), 3 (RGB) or 0 (as stored), got ", c.channels);
  if (c.input_size < 0 || c.input_size > data::kMaxImageSide)
    fail("--input-size must be 0 (as stored) or in 1..", data::kMaxImageSide, ", got ", c.input_size);
  if (!c.resize.empty() && c.resize != "crop" && c.resize != "stretch")
    fail("--resize must be crop or stretch, got '", c.resize, "'");
}

namespace detail {
inline std::string class_list(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < 10; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > 10) s += ", ... (" + std::to_string(names.size()) + ")";
  return s;
}

// FER-2013, read exactly as the FER trainers always have (the log lines too).
inline TrainData load_fer2013_splits(const DataConfig& c, const data::DataLocation& where, std::uint64_t seed,
                                     std::ostream& log) {
  if (where.is_sample)
    log << "notice: using the small bundled sample at " << where.path.string()
        << " (set --data or $MOODNET_DATA to the full FER-2013 for real accuracy)\n";
  log << "data: " << where.path.string() << " (" << where.source << ")\n";
  if (!c.class_names.empty()) fail("--class-names is for IDX datasets; FER-2013 names its seven classes");
  TrainData t;
  t.source.path = where.path;
  t.source.format = where.format == data::DataFormat::csv ? data::DatasetFormat::fer2013_csv
                                                          : data::DatasetFormat::fer2013_folders;
  t.source.splits = {"train", "public", "private", "test"};
  data::LoadOptions lo;
  lo.shape = {c.channels ? c.channels : data::kFer2013Shape.channels, c.input_size ? c.input_size : data::kFer2013Shape.height,
              c.input_size ? c.input_size : data::kFer2013Shape.width};
  if (!c.resize.empty()) lo.resize = data::parse_resize_mode(c.resize);
  t.resize = lo.resize;
  t.train = data::load_fer2013(where, data::Split::train, lo);
  if (c.validation == "train") {
    auto [rest, held] = data::split_stratified(t.train, c.val_fraction, seed);
    t.train = std::move(rest);
    t.val = std::move(held);
    t.val_from = "held-out slice of train";
  } else {
    t.val = data::load_fer2013(where, data::Split::public_test, lo);
    t.val_from = "PublicTest";
    t.validation_is_public = true;
  }
  t.tests.push_back({"PrivateTest", data::load_fer2013(where, data::Split::private_test, lo)});
  t.tests.push_back({"Public+Private", data::load_fer2013(where, data::Split::test, lo)});
  t.norm = data::compute_normalization(t.train);
  log << "train " << t.train.size() << " images, validation " << t.val.size() << " (" << t.val_from << "), PrivateTest "
      << t.tests[0].set.size() << ", Public+Private " << t.tests[1].set.size() << "; input mean " << t.norm.mean.at(0)
      << " std " << t.norm.std.at(0);
  if (t.train.shape() != data::kFer2013Shape) log << "; images " << t.train.shape().str();
  log << "\n";
  return t;
}
}  // namespace detail

// Reads the splits of the table above. `seed` chooses the held-out slices; `program` names the
// trainer in the FER-2013-only error. Errors name the path, split, flag and value.
inline TrainData load_train_data(const DataConfig& c, std::uint64_t seed, std::ostream& log,
                                 const std::string& program = "train") {
  validate(c);
  // FER-2013 where the FER trainers look (--data empty: $MOODNET_DATA, c.default_folders, the sample).
  if (c.path.empty()) return detail::load_fer2013_splits(c, data::resolve_data_dir({}, c.default_folders), seed, log);
  const data::DatasetSource source = data::detect_dataset(c.path, "--data");
  if (source.is_fer2013())
    return detail::load_fer2013_splits(c, data::resolve_data_dir(c.path), seed, log);
  if (c.fer2013_only)
    fail(program, " trains on FER-2013; --data '", c.path, "' is not FER-2013 (", source.describe(),
         "): use `train --model <name> --data ", c.path, "` for other datasets");
  if (c.validation == "public")
    fail("--validation public is FER-2013's PublicTest; ", c.path, " is not FER-2013 (", source.describe(), ")");
  if (!c.class_names.empty() && source.format != data::DatasetFormat::idx)
    fail("--class-names is for IDX datasets; ", c.path, " is not one (", source.describe(),
         ": its folder names are the classes)");

  TrainData t;
  t.source = source;
  log << "data: " << c.path << " (" << source.describe() << ")\n";
  const bool flat = source.format == data::DatasetFormat::image_classes;
  if (!flat && !source.has_split("train"))
    fail("dataset '", c.path, "' (", source.describe(), ") has no split named train");
  data::ReadOptions ro;
  ro.channels = c.channels;
  ro.height = ro.width = c.input_size;
  if (!c.resize.empty()) ro.resize = data::parse_resize_mode(c.resize), ro.resize_set = true;
  t.resize = ro.resize;
  t.train = data::load_split(source, flat ? "all" : "train", ro);
  if (!c.class_names.empty()) {  // IDX, read with numbered classes 0..max label
    if (t.train.num_classes() != static_cast<int>(c.class_names.size()))
      fail("--class-names has ", c.class_names.size(), " names, but the labels of ", t.train.report.source, " are 0..",
           t.train.num_classes() - 1, " (", t.train.num_classes(), " classes)");
    t.train.class_names = c.class_names;
  }

  // The other splits at the training split's shape, with its classes.
  const data::ImageShape shape = t.train.shape();
  ro.channels = shape.channels, ro.height = shape.height, ro.width = shape.width;
  ro.class_names = t.train.class_names;
  const std::string val_split = source.has_split("val") ? "val" : source.has_split("validation") ? "validation" : "";
  if (source.has_split("test")) {
    t.tests.push_back({"Test", data::load_split(source, "test", ro)});
    t.test_from = "split test";
  } else {
    auto [rest, held] = data::split_stratified(t.train, c.val_fraction, seed ^ 0x7e57);  // another slice than val's
    t.train = std::move(rest);
    t.tests.push_back({"Test", std::move(held)});
    t.test_from = "held-out slice of train";
  }
  if (c.validation != "train" && !val_split.empty()) {
    t.val = data::load_split(source, val_split, ro);
    t.val_from = "split " + val_split;
  } else {
    auto [rest, held] = data::split_stratified(t.train, c.val_fraction, seed);
    t.train = std::move(rest);
    t.val = std::move(held);
    t.val_from = "held-out slice of train";
  }
  if (t.val.size() == 0 || t.tests[0].set.size() == 0 || t.train.size() == 0)
    fail("dataset '", c.path, "' is too small for a training, a validation and a test split (", t.train.size(), ", ",
         t.val.size(), " and ", t.tests[0].set.size(), " images): add images or change --val-fraction");
  t.norm = data::compute_normalization(t.train);
  log << "train " << t.train.size() << " images of " << shape.str() << " in " << t.train.num_classes() << " classes ("
      << detail::class_list(t.train.class_names) << "), validation " << t.val.size() << " (" << t.val_from << "), test "
      << t.tests[0].set.size() << " (" << t.test_from << "); input mean/std " << t.norm.str() << "\n";
  return t;
}

}  // namespace moodnet::train
