#pragma once
// Image-folder datasets (the Kaggle "msambare/fer2013" layout):
//
//   root/train/<class>/<file>      class names = sub-folder names in alphabetical order
//   root/test/<class>/PublicTest_<id>.jpg, PrivateTest_<id>.jpg
//
// Each image is keyed by its path relative to root ("train/angry/Training_8475486.jpg"): FER-2013
// has two file names that occur in two class folders, so bare file names are not unique.
// Files whose names start with '.' (.DS_Store, ._foo) are ignored; every other entry of a class
// folder must be a decodable image. Images that are not 48x48 are resized (see resize.hpp).
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/image_decode.hpp"
#include "moodnet/data/parallel_load.hpp"
#include "moodnet/data/resize.hpp"

namespace moodnet::data {

struct FolderOptions {
  BadItemPolicy bad_items = BadItemPolicy::strict;
  // Only files whose names start with this prefix are loaded ("PublicTest_"); others are ignored.
  std::string file_prefix;
  // When not empty, the class folders must be exactly these names (in this order once sorted
  // alphabetically) — e.g. test/ must have the classes of train/.
  std::vector<std::string> expected_classes;
  // Print skipped items and warnings to stderr (under BadItemPolicy::skip).
  bool warn = true;
};

// Decodes one image file to 48x48, resizing if needed; returns true when it was resized.
inline bool load_image_48(const std::filesystem::path& path, const std::string& name, std::uint8_t* out) {
  const auto bytes = read_file_bytes(path);
  const GrayImage g = decode_gray(bytes.data(), bytes.size(), name);
  resize_gray(g.pixels.data(), g.height, g.width, out, kImageSize, kImageSize);
  return g.height != kImageSize || g.width != kImageSize;
}

namespace detail {
inline Dataset load_image_folder_impl(const std::filesystem::path& root, const std::string& subdir,
                                      const FolderOptions& options) {
  namespace fs = std::filesystem;
  const fs::path dir = root / subdir;
  std::error_code ec;
  MOODNET_CHECK(fs::is_directory(dir, ec), "dataset folder '", dir.string(), "' does not exist or is not a folder",
                subdir == "train" || subdir == "test" ? " (expected root/train/<class>/ and root/test/<class>/)" : "");
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!name.empty() && name[0] != '.' && e.is_directory()) classes.push_back(name);
  }
  std::sort(classes.begin(), classes.end());
  MOODNET_CHECK(!classes.empty(), "dataset folder '", dir.string(), "' has no class sub-folders");
  if (!options.expected_classes.empty()) {
    auto expected = options.expected_classes;
    std::sort(expected.begin(), expected.end());
    if (classes != expected) {
      auto joined = [](const std::vector<std::string>& names) {
        std::string s;
        for (const auto& n : names) {
          if (!s.empty()) s += ',';
          s += n;
        }
        return s;
      };
      const std::string have = joined(classes), want = joined(expected);
      fail("class folders of '", dir.string(), "' are {", have, "}, expected {", want, "}");
    }
  }

  struct Item {
    fs::path path;
    std::string key;
    std::int32_t label;
  };
  std::vector<Item> items;
  std::vector<std::string> warnings;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir / classes[c])) {
      const std::string name = e.path().filename().string();
      if (name.empty() || name[0] == '.') continue;
      if (name.rfind(options.file_prefix, 0) != 0) continue;
      files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());  // same order on every machine
    if (files.empty()) {
      const std::string msg = "class folder '" + (dir / classes[c]).string() + "' has no images" +
                              (options.file_prefix.empty() ? "" : " named " + options.file_prefix + "*");
      if (options.bad_items == BadItemPolicy::strict) throw Error(msg);
      warnings.push_back(msg);
    }
    for (auto& f : files)
      items.push_back({f, (fs::path(subdir) / classes[c] / f.filename()).generic_string(), static_cast<std::int32_t>(c)});
  }
  MOODNET_CHECK(!items.empty(), "dataset folder '", dir.string(), "' has no images",
                options.file_prefix.empty() ? "" : " named " + options.file_prefix + "*");

  Dataset d = Dataset::with_capacity(classes, static_cast<std::int64_t>(items.size()));
  for (std::size_t i = 0; i < items.size(); ++i) {
    d.keys[i] = items[i].key;
    d.labels[static_cast<std::int64_t>(i)] = items[i].label;
  }
  d.report.source = dir.string() + (options.file_prefix.empty() ? "" : "/*/" + options.file_prefix + "*");
  d.report.warnings = std::move(warnings);
  decode_items(d, options.bad_items, io_threads(), [&](std::int64_t i, std::uint8_t* out) {
    const auto& it = items[static_cast<std::size_t>(i)];
    return load_image_48(it.path, it.path.string(), out);
  });
  if (options.warn) warn_skipped(d.report);
  return d;
}
}  // namespace detail

// Loads root/subdir/<class>/* (subdir e.g. "train"). Throws moodnet::Error naming the folder when
// root/subdir is missing or has no class folders, when the classes differ from
// options.expected_classes; an empty class folder (after the prefix filter) and any bad file follow
// options.bad_items.
inline Dataset load_image_folder(const std::filesystem::path& root, const std::string& subdir,
                                 const FolderOptions& options = {}) {
  try {
    return detail::load_image_folder_impl(root, subdir, options);
  } catch (const std::filesystem::filesystem_error& e) {  // e.g. a folder we may not list
    fail("cannot list dataset folder '", (root / subdir).string(), "': ", e.what());
  }
}

}  // namespace moodnet::data
