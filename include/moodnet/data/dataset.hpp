#pragma once
// Dataset: a labelled set of images held in memory.
//
//   images  uint8 [N, C, H, W]  one contiguous buffer, C = 1 (gray) or 3 (RGB), planar; its size
//                               is N*C*H*W bytes, checked before allocating (memory.hpp)
//   labels  int32 [N]           class index into class_names
//   keys    N strings           where each image came from: "train/happy/Training_123.jpg",
//                               "csv line 17" or "train-images-idx3-ubyte[5]"; unique within a dataset
//
// plus the class names in index order and a LoadReport (counts of loaded, resized and skipped items).
// FER-2013 is held at 1 x 48 x 48 (kFer2013Shape): all of it is 83 MB.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/data/image_shape.hpp"
#include "moodnet/data/memory.hpp"

namespace moodnet::data {

// FER-2013's stored side and pixels per image (kFer2013Shape). Only FER-2013 code and the
// FER-only call sites use these; everything else reads the shape from the Dataset.
inline constexpr int kImageSize = kFer2013Shape.height;
inline constexpr std::int64_t kImagePixels = kFer2013Shape.numel();

// What to do with an item that cannot be read (unreadable/corrupt image, bad CSV row):
// strict throws moodnet::Error naming it; skip leaves it out and reports it (Dataset::report; the
// readers print nothing unless asked: their `warn` option, or warn_skipped).
enum class BadItemPolicy { strict, skip };

struct SkippedItem {
  std::string key;     // relative path or "csv line N"
  std::string reason;  // the error message
};

struct LoadReport {
  std::string source;                 // folder or file loaded
  std::int64_t loaded = 0;            // images in the dataset
  std::int64_t resized = 0;           // images not stored at the dataset's size, resized to it
  std::vector<SkippedItem> skipped;   // items left out under BadItemPolicy::skip
  std::vector<std::string> warnings;  // e.g. empty class folders under the skip policy
  double seconds = 0;                 // wall time of the load
};

// Prints the skipped items and warnings of a report to `out` (at most `max_lines` of each).
inline void warn_skipped(const LoadReport& r, std::ostream& out, std::size_t max_lines = 20) {
  for (std::size_t i = 0; i < r.skipped.size() && i < max_lines; ++i)
    out << "moodnet: warning: skipped " << r.skipped[i].key << ": " << r.skipped[i].reason << "\n";
  if (r.skipped.size() > max_lines) out << "moodnet: warning: ... and " << r.skipped.size() - max_lines << " more\n";
  if (!r.skipped.empty())
    out << "moodnet: warning: " << r.skipped.size() << " bad item(s) skipped while loading " << r.source << "\n";
  for (const auto& w : r.warnings) out << "moodnet: warning: " << w << "\n";
}

struct Dataset {
  Tensor<std::uint8_t> images;  // [N, C, H, W]
  Tensor<std::int32_t> labels;  // [N]
  std::vector<std::string> keys;
  std::vector<std::string> class_names;
  LoadReport report;

  std::int64_t size() const { return static_cast<std::int64_t>(keys.size()); }
  int num_classes() const { return static_cast<int>(class_names.size()); }
  // The stored shape of every image ({0, 0, 0} for a default-constructed Dataset).
  ImageShape shape() const {
    if (images.rank() != 4) return {0, 0, 0};
    return {static_cast<int>(images.dim(1)), static_cast<int>(images.dim(2)), static_cast<int>(images.dim(3))};
  }
  int channels() const { return shape().channels; }
  // Bytes of one image: C * H * W.
  std::int64_t image_numel() const { return images.rank() == 4 ? images.dim(1) * images.dim(2) * images.dim(3) : 0; }
  // Pixels of image i, planar [C, H, W].
  const std::uint8_t* image(std::int64_t i) const { return images.data() + i * image_numel(); }
  std::uint8_t* image(std::int64_t i) { return images.data() + i * image_numel(); }
  int label(std::int64_t i) const { return labels[i]; }

  // Images per class, indexed by class.
  std::vector<std::int64_t> class_counts() const {
    std::vector<std::int64_t> c(class_names.size(), 0);
    for (std::int64_t i = 0; i < size(); ++i) ++c[static_cast<std::size_t>(labels[i])];
    return c;
  }

  // A new dataset holding items `indices` (in that order), the same shape and class names.
  Dataset subset(const std::vector<std::int64_t>& indices) const {
    Dataset d = with_capacity(class_names, static_cast<std::int64_t>(indices.size()), shape(), report.source);
    const std::int64_t m = image_numel();
    for (std::size_t k = 0; k < indices.size(); ++k) {
      const std::int64_t i = indices[k];
      MOODNET_CHECK(i >= 0 && i < size(), "subset index ", i, " out of range for a dataset of ", size(), " images");
      std::copy_n(image(i), m, d.images.data() + static_cast<std::int64_t>(k) * m);
      d.labels[static_cast<std::int64_t>(k)] = labels[i];
      d.keys[k] = keys[i];
    }
    d.report.source = report.source;
    d.report.loaded = d.size();
    return d;
  }

  // An empty-valued dataset of n images of `shape` (zero pixels, label 0, empty keys) to be filled
  // in. Checks N*C*H*W against memory first (checked_dataset_bytes; `source` names the dataset in
  // the error) and turns an allocation failure into moodnet::Error too.
  static Dataset with_capacity(std::vector<std::string> class_names, std::int64_t n,
                               const ImageShape& shape = kFer2013Shape, const std::string& source = "in memory") {
    if (n > 0) shape.validate("dataset " + source);  // an empty subset of an empty Dataset keeps {0, 0, 0}
    const std::int64_t bytes = checked_dataset_bytes(n, shape, source);
    Dataset d;
    try {
      d.images = Tensor<std::uint8_t>({n, shape.channels, shape.height, shape.width});
      d.labels = Tensor<std::int32_t>({n});
      d.keys.resize(static_cast<std::size_t>(n));
    } catch (const std::bad_alloc&) {
      fail("dataset ", source, ": cannot allocate ", format_bytes(static_cast<double>(bytes)), " for ", n,
           " images of ", shape.str(), " (out of memory)");
    }
    d.class_names = std::move(class_names);
    d.report.source = source;
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
