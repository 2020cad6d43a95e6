#pragma once
// Dataset: a labelled set of 48x48 grayscale images held in memory.
//
//   images  uint8 [N, 48, 48]   one contiguous buffer (all of FER-2013 is ~83 MB)
//   labels  int32 [N]           class index into class_names
//   keys    N strings           where each image came from: "train/happy/Training_123.jpg" or
//                               "csv line 17"; unique within a dataset
//
// plus the class names in index order and a LoadReport (counts of loaded, resized and skipped items).
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"

namespace moodnet::data {

inline constexpr int kImageSize = 48;  // FER-2013 images are 48x48
inline constexpr std::int64_t kImagePixels = std::int64_t{kImageSize} * kImageSize;

// FER-2013's classes in moodnet's index order (alphabetical folder order, DESIGN.md contract 3).
inline const std::vector<std::string>& fer2013_class_names() {
  static const std::vector<std::string> names{"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  return names;
}

// What to do with an item that cannot be read (unreadable/corrupt image, bad CSV row):
// strict throws moodnet::Error naming it; skip warns on stderr, leaves it out and reports it.
enum class BadItemPolicy { strict, skip };

struct SkippedItem {
  std::string key;     // relative path or "csv line N"
  std::string reason;  // the error message
};

struct LoadReport {
  std::string source;                 // folder or file loaded
  std::int64_t loaded = 0;            // images in the dataset
  std::int64_t resized = 0;           // images that were not 48x48 and were resized
  std::vector<SkippedItem> skipped;   // items left out under BadItemPolicy::skip
  std::vector<std::string> warnings;  // e.g. empty class folders under the skip policy
  double seconds = 0;                 // wall time of the load
};

// Prints the skipped items and warnings of a report to stderr (at most `max_lines` of each).
inline void warn_skipped(const LoadReport& r, std::size_t max_lines = 20) {
  for (std::size_t i = 0; i < r.skipped.size() && i < max_lines; ++i)
    std::cerr << "moodnet: warning: skipped " << r.skipped[i].key << ": " << r.skipped[i].reason << "\n";
  if (r.skipped.size() > max_lines) std::cerr << "moodnet: warning: ... and " << r.skipped.size() - max_lines << " more\n";
  if (!r.skipped.empty())
    std::cerr << "moodnet: warning: " << r.skipped.size() << " bad item(s) skipped while loading " << r.source << "\n";
  for (const auto& w : r.warnings) std::cerr << "moodnet: warning: " << w << "\n";
}

struct Dataset {
  Tensor<std::uint8_t> images;  // [N, 48, 48]
  Tensor<std::int32_t> labels;  // [N]
  std::vector<std::string> keys;
  std::vector<std::string> class_names;
  LoadReport report;

  std::int64_t size() const { return static_cast<std::int64_t>(keys.size()); }
  int num_classes() const { return static_cast<int>(class_names.size()); }
  // Pixels of image i, row-major 48x48.
  const std::uint8_t* image(std::int64_t i) const { return images.data() + i * kImagePixels; }
  int label(std::int64_t i) const { return labels[i]; }

  // Images per class, indexed by class.
  std::vector<std::int64_t> class_counts() const {
    std::vector<std::int64_t> c(class_names.size(), 0);
    for (std::int64_t i = 0; i < size(); ++i) ++c[static_cast<std::size_t>(labels[i])];
    return c;
  }

  // A new dataset holding items `indices` (in that order) and the same class names.
  Dataset subset(const std::vector<std::int64_t>& indices) const {
    Dataset d = with_capacity(class_names, static_cast<std::int64_t>(indices.size()));
    for (std::size_t k = 0; k < indices.size(); ++k) {
      const std::int64_t i = indices[k];
      MOODNET_CHECK(i >= 0 && i < size(), "subset index ", i, " out of range for a dataset of ", size(), " images");
      std::copy_n(image(i), kImagePixels, d.images.data() + static_cast<std::int64_t>(k) * kImagePixels);
      d.labels[static_cast<std::int64_t>(k)] = labels[i];
      d.keys[k] = keys[i];
    }
    d.report.source = report.source;
    d.report.loaded = d.size();
    return d;
  }

  // An empty-valued dataset of n images (zero pixels, label 0, empty keys) to be filled in.
  static Dataset with_capacity(std::vector<std::string> class_names, std::int64_t n) {
    Dataset d;
    d.images = Tensor<std::uint8_t>({n, kImageSize, kImageSize});
    d.labels = Tensor<std::int32_t>({n});
    d.keys.resize(static_cast<std::size_t>(n));
    d.class_names = std::move(class_names);
    return d;
  }
};

// Splits `d` into (rest, held_out): `fraction` of each class (rounded, at least one image when a
// class has two or more) goes to held_out, chosen by `seed`. Both keep the original order.
// Used for a validation slice of train/ (e.g. 0.1), stratified so rare classes (disgust) appear.
inline std::pair<Dataset, Dataset> split_stratified(const Dataset& d, double fraction, std::uint64_t seed) {
  MOODNET_CHECK(fraction >= 0.0 && fraction < 1.0, "validation fraction must be in [0, 1), got ", fraction);
  std::vector<std::vector<std::int64_t>> by_class(d.class_names.size());
  for (std::int64_t i = 0; i < d.size(); ++i) by_class[static_cast<std::size_t>(d.labels[i])].push_back(i);
  std::vector<char> held(static_cast<std::size_t>(d.size()), 0);
  for (std::size_t c = 0; c < by_class.size(); ++c) {
    auto& idx = by_class[c];
    auto take = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(idx.size())));
    if (fraction > 0 && take == 0 && idx.size() >= 2) take = 1;
    Rng rng(seed, c);  // one stream per class: the slice of a class does not depend on the others
    for (std::size_t k = 0; k < take; ++k) {  // partial Fisher-Yates: the first `take` are the slice
      const std::size_t j = k + static_cast<std::size_t>(rng.uniform_int(idx.size() - k));
      std::swap(idx[k], idx[j]);
      held[static_cast<std::size_t>(idx[k])] = 1;
    }
  }
  std::vector<std::int64_t> rest, val;
  for (std::int64_t i = 0; i < d.size(); ++i) (held[static_cast<std::size_t>(i)] ? val : rest).push_back(i);
  return {d.subset(rest), d.subset(val)};
}

}  // namespace moodnet::data
