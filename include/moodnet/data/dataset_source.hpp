#pragma once
// One --data path, any supported dataset: which reader it needs (found from what is on disk),
// which splits it has, and one split loaded at a chosen shape. What predict's, evaluate's and the
// trainers' --data flag accept:
//
//   format           what is on disk                                          splits
//   fer2013_csv      a .csv file (FER-2013's emotion,pixels,Usage)            train public private test
//   fer2013_folders  train/ + test/ with FER-2013's seven class folders and   train public private test
//                    PublicTest_* / PrivateTest_* files in test/
//   idx              *-images-idx3-ubyte[.gz] + *-labels-idx1-ubyte[.gz]       the files' prefixes (train, test;
//                    (MNIST style)                                            MNIST's t10k is test)
//   image_splits     root/<split>/<class>/<image>                              the split folders (train, test, ...)
//   image_classes    root/<class>/<image>                                      all
//
// FER-2013's splits: public = PublicTest (its validation split), private = PrivateTest (the
// headline test), test = both (Public+Private). FER-2013 is recognised only by its layout; the
// same folder can be read as a plain image_splits dataset with load_image_folder.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/idx.hpp"
#include "moodnet/data/image_folder.hpp"

namespace moodnet::data {

enum class DatasetFormat { fer2013_csv, fer2013_folders, idx, image_splits, image_classes };

struct DatasetSource {
  std::filesystem::path path;
  DatasetFormat format = DatasetFormat::image_classes;
  std::vector<std::string> splits;  // in the order of the table above (image/IDX splits sorted)

  bool is_fer2013() const { return format == DatasetFormat::fer2013_csv || format == DatasetFormat::fer2013_folders; }
  bool has_split(const std::string& s) const { return std::find(splits.begin(), splits.end(), s) != splits.end(); }
  // "FER-2013 folders", "IDX files", "image folder with splits test, train", ...
  std::string describe() const {
    switch (format) {
      case DatasetFormat::fer2013_csv: return "FER-2013 CSV";
      case DatasetFormat::fer2013_folders: return "FER-2013 folders";
      case DatasetFormat::idx: return "IDX files (splits " + detail::joined(splits) + ")";
      case DatasetFormat::image_splits: return "image folder with splits " + detail::joined(splits);
      case DatasetFormat::image_classes: return "image folder of classes (no splits)";
    }
    return "?";
  }
};

// How to read a split. channels 0 and height x width 0 x 0 mean as stored (see each reader:
// image folders keep colour when any image is colour, FER-2013 reads 1 x 48 x 48, IDX 1 channel).
struct ReadOptions {
  int channels = 0;
  int height = 0, width = 0;
  // Aspect rule to height x width: crop (keep the aspect, centre crop), or stretch; FER-2013 is read
  // with stretch unless `resize_set` (all its images are 48x48, so it only matters at another size).
  ResizeMode resize = ResizeMode::crop;
  bool resize_set = false;
  // When not empty: the classes the data must have (image folders: exactly these folders; IDX: the
  // names of labels 0..K-1) — e.g. a trained model's class names.
  std::vector<std::string> class_names;
  int num_classes = 0;  // IDX without class_names: K (0 = the largest label + 1)
  BadItemPolicy bad_items = BadItemPolicy::strict;
  bool warn = false;  // also print skipped items to stderr (they are in Dataset::report either way)
};

namespace detail {
inline bool has_visible_subfolder(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (!n.empty() && n[0] != '.' && e.is_directory(ec)) return true;
  }
  return false;
}
inline std::vector<std::string> visible_subfolders(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (!n.empty() && n[0] != '.' && e.is_directory(ec)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}
// FER-2013's folder layout: train/ and test/ with its seven classes, and test files named by its
// PublicTest_/PrivateTest_ prefixes.
inline bool is_fer2013_folder(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root / "train", ec) || !fs::is_directory(root / "test", ec)) return false;
  if (visible_subfolders(root / "train") != fer2013_class_names() ||
      visible_subfolders(root / "test") != fer2013_class_names())
    return false;
  for (const auto& c : fer2013_class_names())
    for (const auto& e : fs::directory_iterator(root / "test" / c, ec)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("PublicTest_", 0) == 0 || n.rfind("PrivateTest_", 0) == 0) return true;
    }
  return false;
}
// The split names of the IDX images files in `dir`: "train" for train-images-idx3-ubyte.gz and
// emnist-digits-train-images-idx3-ubyte, "test" for t10k-images-idx3-ubyte.
inline std::vector<std::string> idx_splits(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.size() > 3 && n.compare(n.size() - 3, 3, ".gz") == 0) n.resize(n.size() - 3);
    for (const char* tail : {"-images-idx3-ubyte", "-images.idx3-ubyte"}) {
      const std::string t = tail;
      if (n.size() <= t.size() || n.compare(n.size() - t.size(), t.size(), t) != 0) continue;
      std::string prefix = n.substr(0, n.size() - t.size());
      prefix = prefix.substr(prefix.rfind('-') == std::string::npos ? 0 : prefix.rfind('-') + 1);
      if (prefix == "t10k") prefix = "test";
      if (std::find(out.begin(), out.end(), prefix) == out.end()) out.push_back(prefix);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}
inline Split fer2013_split(const std::string& s) {
  return s == "train" ? Split::train : s == "public" ? Split::public_test : s == "private" ? Split::private_test : Split::test;
}
}  // namespace detail

// What `path` holds (the table above). `what` names the path in errors ("--data"): a path that
// does not exist, a file that is not a .csv, or a folder that fits no layout.
inline DatasetSource detect_dataset(const std::filesystem::path& path, const std::string& what = "--data") {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string layouts =
      "expected fer2013.csv, a FER-2013 folder, a folder of IDX files (*-images-idx3-ubyte[.gz]), "
      "root/<class>/<image> or root/<split>/<class>/<image> (docs/data.md)";
  if (!fs::exists(path, ec)) fail(what, " '", path.string(), "' does not exist");
  DatasetSource s;
  s.path = path;
  if (!fs::is_directory(path, ec)) {
    if (path.extension() != ".csv") fail(what, " '", path.string(), "' is a file but not a .csv: ", layouts);
    s.format = DatasetFormat::fer2013_csv;
    s.splits = {"train", "public", "private", "test"};
    return s;
  }
  if (detail::is_fer2013_folder(path)) {
    s.format = DatasetFormat::fer2013_folders;
    s.splits = {"train", "public", "private", "test"};
    return s;
  }
  if (has_idx_files(path)) {
    s.format = DatasetFormat::idx;
    s.splits = detail::idx_splits(path);
    return s;
  }
  const std::vector<std::string> sub = detail::visible_subfolders(path);
  if (sub.empty()) fail(what, " '", path.string(), "' holds no sub-folders and no IDX files: ", layouts);
  // root/<split>/<class>/: every sub-folder holds folders; else root/<class>/.
  const bool splits = std::all_of(sub.begin(), sub.end(), [&](const std::string& d) {
    return detail::has_visible_subfolder(path / d);
  });
  s.format = splits ? DatasetFormat::image_splits : DatasetFormat::image_classes;
  s.splits = splits ? sub : std::vector<std::string>{"all"};
  return s;
}

// The dataset a --data flag names (detect_dataset), or with an empty flag FER-2013 where
// resolve_data_dir finds it ($MOODNET_DATA, `default_folders`, else the bundled sample: see
// resolve_data_dir to tell the user).
inline DatasetSource find_dataset(const std::string& flag_value, const std::string& what = "--data",
                                  const std::vector<std::string>& default_folders = kDefaultDataFolders) {
  return flag_value.empty() ? detect_dataset(resolve_data_dir({}, default_folders).path, what)
                            : detect_dataset(flag_value, what);
}

// Loads split `split` of `source` (one of source.splits; otherwise an error listing them).
inline Dataset load_split(const DatasetSource& source, const std::string& split, const ReadOptions& o = {}) {
  if (!source.has_split(split))
    fail("dataset '", source.path.string(), "' (", source.describe(), ") has no split '", split,
         "'; its splits: ", detail::joined(source.splits));
  if (source.is_fer2013()) {
    LoadOptions lo;
    lo.bad_items = o.bad_items;
    lo.warn = o.warn;
    lo.shape = {o.channels ? o.channels : kFer2013Shape.channels, o.height ? o.height : kFer2013Shape.height,
                o.height ? o.width : kFer2013Shape.width};
    if (o.resize_set) lo.resize = o.resize;
    const DataLocation where{source.path, source.format == DatasetFormat::fer2013_csv ? DataFormat::csv : DataFormat::folders,
                             false, "--data"};
    if (!o.class_names.empty() && o.class_names != fer2013_class_names())  // before reading it
      fail("dataset '", source.path.string(), "' (", source.describe(), ") has the classes {",
           detail::joined(fer2013_class_names()), "}, expected {", detail::joined(o.class_names), "}");
    return load_fer2013(where, detail::fer2013_split(split), lo);
  }
  if (source.format == DatasetFormat::idx) {
    IdxOptions io;
    io.class_names = o.class_names;
    io.num_classes = o.num_classes;
    io.channels = o.channels;
    io.height = o.height, io.width = o.width;
    io.resize = o.resize;
    return load_idx_split(source.path, split, io);
  }
  FolderOptions fo;
  fo.bad_items = o.bad_items;
  fo.warn = o.warn;
  fo.expected_classes = o.class_names;
  fo.channels = o.channels;
  fo.height = o.height, fo.width = o.width;
  fo.resize = o.resize;
  return load_image_folder(source.path, source.format == DatasetFormat::image_splits ? split : "", fo);
}

}  // namespace moodnet::data
