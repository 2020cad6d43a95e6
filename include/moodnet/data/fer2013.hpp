#pragma once
// FER-2013 in either of its two forms (image folders or fer2013.csv), by split, and the lookup of
// where the data lives.
//
//   Split::train         train/ or Usage Training                         28,709 images
//   Split::public_test   test/*/PublicTest_* or Usage PublicTest           3,589  (validation)
//   Split::private_test  test/*/PrivateTest_* or Usage PrivateTest         3,589  (headline test)
//   Split::test          all of test/ or both test usages                  7,178
//
// Data lookup order (resolve_data_dir): the --data flag, then $MOODNET_DATA, then the default
// folders (./data/fer2013; the programs put ../shared/fer2013 first, cli/data_folders.hpp), else
// the bundled sample data/fer2013-sample (DataLocation::is_sample: the caller says so).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/convert.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/fer2013_classes.hpp"
#include "moodnet/data/fer2013_csv.hpp"
#include "moodnet/data/image_folder.hpp"

namespace moodnet::data {

enum class Split { train, test, public_test, private_test };

inline const char* split_name(Split s) {
  switch (s) {
    case Split::train: return "train";
    case Split::test: return "test";
    case Split::public_test: return "public_test";
    case Split::private_test: return "private_test";
  }
  return "?";
}

struct LoadOptions {
  BadItemPolicy bad_items = BadItemPolicy::strict;
  bool warn = false;  // also print skipped items to stderr (they are in Dataset::report either way)
  // The stored shape: FER-2013's own 1x48x48 by default; another shape converts every image
  // (convert.hpp: gray replicated to RGB, resized by `resize`).
  ImageShape shape = kFer2013Shape;
  ResizeMode resize = ResizeMode::stretch;
};

enum class DataFormat { folders, csv };

struct DataLocation {
  std::filesystem::path path;  // the dataset root folder, or the .csv file
  DataFormat format = DataFormat::folders;
  bool is_sample = false;      // the small bundled sample, not the full dataset
  std::string source;          // how it was found: "--data", "$MOODNET_DATA", "default", "sample"
};

inline constexpr const char* kDataEnvVar = "MOODNET_DATA";
// The folders resolve_data_dir tries by default (relative to the working directory).
inline const std::vector<std::string> kDefaultDataFolders{"data/fer2013"};

namespace detail {
// A folder with train/ and test/ sub-folders, or a .csv file.
inline bool looks_like_fer2013(const std::filesystem::path& p) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(p, ec)) return p.extension() == ".csv";
  return std::filesystem::is_directory(p / "train", ec) && std::filesystem::is_directory(p / "test", ec);
}
inline DataLocation located(const std::filesystem::path& p, bool sample, const char* source) {
  std::error_code ec;
  return {p, std::filesystem::is_regular_file(p, ec) ? DataFormat::csv : DataFormat::folders, sample, source};
}
}  // namespace detail

// Finds the FER-2013 data. A non-empty flag_value (the --data flag) or $MOODNET_DATA must name a
// dataset folder (with train/ and test/) or a .csv file — otherwise moodnet::Error names it, so a
// typo never silently trains on something else. Without either, the first existing of
// `default_folders` (relative to the working directory) is used, else the bundled sample
// (./data/fer2013-sample, or the source tree's copy) with is_sample set: it prints nothing, the
// caller tells its user (the trainers log a notice, evaluate prints one).
inline DataLocation resolve_data_dir(const std::string& flag_value = {},
                                     const std::vector<std::string>& default_folders = kDefaultDataFolders) {
  namespace fs = std::filesystem;
  auto explicit_path = [](const std::string& value, const char* source) {
    MOODNET_CHECK(detail::looks_like_fer2013(value), source, " names '", value,
                  "', which is neither a folder with train/ and test/ sub-folders nor a .csv file");
    return detail::located(value, false, source);
  };
  if (!flag_value.empty()) return explicit_path(flag_value, "--data");
  if (const char* env = std::getenv(kDataEnvVar); env && *env) return explicit_path(env, "$MOODNET_DATA");
  std::string tried;
  for (const std::string& p : default_folders) {
    if (detail::looks_like_fer2013(p)) return detail::located(p, false, "default");
    tried += ", " + p;
  }
  std::vector<fs::path> samples{"data/fer2013-sample"};
#ifdef MOODNET_SOURCE_DIR
  samples.emplace_back(fs::path(MOODNET_SOURCE_DIR) / "data" / "fer2013-sample");
#endif
  for (const auto& p : samples)
    if (detail::looks_like_fer2013(p)) return detail::located(p, true, "sample");
  fail("FER-2013 not found: pass --data <folder or fer2013.csv>, set $", kDataEnvVar,
       tried.empty() ? "" : ", or put it in one of " + tried.substr(2), " (see docs/data.md)");
}

// Loads one split from an image-folder root or a fer2013.csv (see the table above) at
// options.shape (1x48x48 by default). Folder datasets must have FER-2013's seven class folders.
inline Dataset load_fer2013(const DataLocation& where, Split split, const LoadOptions& options = {}) {
  if (where.format == DataFormat::csv) {
    std::vector<std::string> usages;
    switch (split) {
      case Split::train: usages = {"Training"}; break;
      case Split::public_test: usages = {"PublicTest"}; break;
      case Split::private_test: usages = {"PrivateTest"}; break;
      case Split::test: usages = {"PublicTest", "PrivateTest"}; break;
    }
    Dataset d = load_fer2013_csv(where.path, usages, {options.bad_items, options.warn});
    return options.shape == kFer2013Shape ? std::move(d) : convert_dataset(d, options.shape, options.resize);
  }
  FolderOptions fo;
  fo.bad_items = options.bad_items;
  fo.warn = options.warn;
  fo.channels = options.shape.channels;
  fo.height = options.shape.height;
  fo.width = options.shape.width;
  fo.resize = options.resize;
  fo.expected_classes = fer2013_class_names();
  if (split == Split::public_test) fo.file_prefix = "PublicTest_";
  if (split == Split::private_test) fo.file_prefix = "PrivateTest_";
  return load_image_folder(where.path, split == Split::train ? "train" : "test", fo);
}

// Convenience: a dataset root folder or .csv path.
inline Dataset load_fer2013(const std::filesystem::path& path, Split split, const LoadOptions& options = {}) {
  return load_fer2013(detail::located(path, false, "path"), split, options);
}

}  // namespace moodnet::data
