#pragma once
// Image-folder datasets: one sub-folder per class, any image format stb_image reads.
//
//   root/<split>/<class>/<file>    e.g. root/train/cat/1.jpg + root/test/cat/7.png (split named by
//                                  the caller: "train", "test", "val", ...)
//   root/<class>/<file>            no split folders: pass subdir "" (and hold out a slice of it
//                                  with split_stratified)
//
// Class names are the sub-folder names in sorted order (DESIGN.md contract 3); a test split
// must have its train split's classes (FolderOptions::expected_classes). Each image is keyed by
// its path relative to root ("train/angry/Training_8475486.jpg"): FER-2013 has two file names that
// occur in two class folders, so bare file names are not unique. Names starting with '.'
// (.DS_Store, ._foo) are ignored; every other entry of a class folder must be a decodable image.
//
// The stored shape is chosen by FolderOptions: channels 1 or 3, or 0 = 3 when any image is colour;
// a size, or 0 x 0 = the images' own size (then they must all have the same size). Images of
// another size are resized by the aspect rule in resize.hpp (default: centre crop to the target
// aspect, then resize). When channels or size is 0 the headers of all files are read first.
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
  // Also print skipped items and warnings to stderr (under BadItemPolicy::skip); they are in
  // Dataset::report either way (warn_skipped prints a report to any stream).
  bool warn = false;
  // Stored channels: 1 (gray; colour files by BT.601 luma), 3 (RGB; gray files replicated), or 0
  // (3 when any image of the split is colour, else 1).
  int channels = 0;
  // Stored size; 0 x 0 = the size the images have (all must agree, else an error names the first
  // image that differs).
  int height = 0, width = 0;
  ResizeMode resize = ResizeMode::crop;  // aspect rule for images of another size
  // Most bytes the parallel decodes hold at once (0 = default_decode_budget_bytes(): an eighth of
  // physical memory, 256 MiB to 4 GiB; data/memory_budget.hpp).
  std::uint64_t decode_budget_bytes = 0;
};

// Decodes one image file into `shape` (channels, then size by `mode`); returns true when it was
// resized. `name` appears in errors.
inline bool load_image_as(const std::filesystem::path& path, const std::string& name, const ImageShape& shape,
                          ResizeMode mode, std::uint8_t* out) {
  const auto bytes = read_file_bytes(path);
  const Image img = decode_image(bytes.data(), bytes.size(), name, shape.channels);
  resize_image(img.pixels.data(), img.channels, img.height, img.width, out, shape.height, shape.width, mode);
  return img.height != shape.height || img.width != shape.width;
}

// FER-2013's form: gray, stretched to 48x48 (kFer2013Shape).
inline bool load_image_48(const std::filesystem::path& path, const std::string& name, std::uint8_t* out) {
  return load_image_as(path, name, kFer2013Shape, ResizeMode::stretch, out);
}

namespace detail {
inline std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) {
    if (!s.empty()) s += ',';
    s += n;
  }
  return s;
}

struct FolderItem {
  std::filesystem::path path;
  std::string key;
  std::int32_t label;
};

// The shape to store: options where given, else from the headers of every item (in parallel).
// Items whose header cannot be read follow the policy: strict throws the first (in item order),
// skip records them in d.report.skipped and removes them from `items`.
inline ImageShape folder_shape(std::vector<FolderItem>& items, const FolderOptions& o, LoadReport& report) {
  if (o.channels != 0 && o.height != 0) return {o.channels, o.height, o.width};
  const std::int64_t n = static_cast<std::int64_t>(items.size());
  std::vector<ImageInfo> info(items.size());
  std::vector<std::string> errors(items.size());
#pragma omp parallel for num_threads(io_threads()) schedule(dynamic, 64)
  for (std::int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    try {
      info[k] = probe_image_file(items[k].path, items[k].path.string());
    } catch (const std::exception& e) {
      errors[k] = e.what();
    }
  }
  std::vector<FolderItem> kept;
  int colour = 1;
  const FolderItem* first = nullptr;
  ImageInfo first_info;
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (!errors[k].empty()) {
      if (o.bad_items == BadItemPolicy::strict) throw Error(errors[k]);
      report.skipped.push_back({items[k].key, errors[k]});
      continue;
    }
    colour = std::max(colour, info[k].channels);
    if (o.height == 0) {
      if (!first) {
        first = &items[k];
        first_info = info[k];
      } else if (info[k].height != first_info.height || info[k].width != first_info.width) {
        fail("images of mixed sizes: '", items[k].path.string(), "' is ", info[k].width, "x", info[k].height,
             " (width x height) but '", first->path.string(), "' is ", first_info.width, "x", first_info.height,
             "; choose a size to resize them to (the trainers' --input-size, FolderOptions height/width)");
      }
    }
    kept.push_back(items[k]);
  }
  MOODNET_CHECK(!kept.empty(), "no readable images (", report.skipped.size(), " skipped)");
  items = std::move(kept);
  return {o.channels != 0 ? o.channels : colour, o.height != 0 ? o.height : first_info.height,
          o.height != 0 ? o.width : first_info.width};
}

inline Dataset load_image_folder_impl(const std::filesystem::path& root, const std::string& subdir,
                                      const FolderOptions& options) {
  namespace fs = std::filesystem;
  MOODNET_CHECK(options.channels == 0 || options.channels == 1 || options.channels == 3,
                "image folder: channels must be 0 (as stored), 1 or 3, got ", options.channels);
  MOODNET_CHECK((options.height == 0 && options.width == 0) ||
                    (options.height >= 1 && options.width >= 1 && options.height <= kMaxImageSide &&
                     options.width <= kMaxImageSide),
                "image folder: size ", options.height, "x", options.width, " must be 0x0 (as stored) or within 1..",
                kMaxImageSide);
  const fs::path dir = subdir.empty() ? root : root / subdir;
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
    if (classes != expected)
      fail("class folders of '", dir.string(), "' are {", joined(classes), "}, expected {", joined(expected), "}");
  }

  std::vector<FolderItem> items;
  LoadReport report;
  report.source = dir.string() + (options.file_prefix.empty() ? "" : "/*/" + options.file_prefix + "*");
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
      report.warnings.push_back(msg);
    }
    const fs::path rel = subdir.empty() ? fs::path(classes[c]) : fs::path(subdir) / classes[c];
    for (auto& f : files) items.push_back({f, (rel / f.filename()).generic_string(), static_cast<std::int32_t>(c)});
  }
  MOODNET_CHECK(!items.empty(), "dataset folder '", dir.string(), "' has no images",
                options.file_prefix.empty() ? "" : " named " + options.file_prefix + "*");

  ImageShape shape;
  try {
    shape = folder_shape(items, options, report);
  } catch (const Error& e) {
    fail("dataset folder '", dir.string(), "': ", e.what());
  }
  Dataset d = Dataset::with_capacity(classes, static_cast<std::int64_t>(items.size()), shape, report.source);
  for (std::size_t i = 0; i < items.size(); ++i) {
    d.keys[i] = items[i].key;
    d.labels[static_cast<std::int64_t>(i)] = items[i].label;
  }
  d.report = std::move(report);
  decode_items(d, options.bad_items, io_threads(), [&](std::int64_t i, std::uint8_t* out) {
    const auto& it = items[static_cast<std::size_t>(i)];
    return load_image_as(it.path, it.path.string(), shape, options.resize, out);
  }, options.decode_budget_bytes);
  if (options.warn) warn_skipped(d.report, std::cerr);
  return d;
}
}  // namespace detail

// Loads root/subdir/<class>/* (subdir e.g. "train"; "" for root/<class>/*). Throws moodnet::Error
// naming the folder when it is missing or has no class folders, when the classes differ from
// options.expected_classes, or when images have mixed sizes and no size was chosen; an empty class
// folder (after the prefix filter) and any bad file follow options.bad_items.
inline Dataset load_image_folder(const std::filesystem::path& root, const std::string& subdir,
                                 const FolderOptions& options = {}) {
  try {
    return detail::load_image_folder_impl(root, subdir, options);
  } catch (const std::filesystem::filesystem_error& e) {  // e.g. a folder we may not list
    fail("cannot list dataset folder '", (subdir.empty() ? root : root / subdir).string(), "': ", e.what());
  }
}

}  // namespace moodnet::data
