#pragma once
// The __metadata__ of a weights file (DESIGN.md contract 2), all values strings:
//
//   "model"        "mobilenet" | "customnet"    (the names pytorch_models.build() takes)
//   "alpha" / "w"  width: "0.5" for MobileNet (alpha), "32" for CustomNet (w)
//   "class_names"  "angry,disgust,fear,happy,neutral,sad,surprise"   (index order, comma-separated)
//   "input_mean"   "0.5"   the network sees (pixel / 255 - input_mean) / input_std
//   "input_std"    "0.25"
//
// Any other keys (e.g. "epoch", "val_accuracy") round-trip through `extra`.
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/io/json.hpp"
#include "moodnet/io/safetensors.hpp"

namespace moodnet::io {

// The FER-2013 classes in index order (alphabetical folder order, DESIGN.md contract 3).
inline const std::vector<std::string>& fer2013_class_names() {
  static const std::vector<std::string> names = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  return names;
}

namespace detail {
inline double parse_metadata_double(const Metadata& m, const std::string& key, const std::string& file) {
  const auto it = m.find(key);
  if (it == m.end()) fail("checkpoint ", file, ": __metadata__ has no \"", key, "\"");
  double d = 0;
  const std::string& s = it->second;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(d))
    fail("checkpoint ", file, ": __metadata__ \"", key, "\" is \"", s, "\", not a number");
  return d;
}
}  // namespace detail

struct ModelMetadata {
  std::string model;  // "mobilenet" or "customnet"
  double width = 1.0;  // alpha (mobilenet) or w (customnet)
  std::vector<std::string> class_names = fer2013_class_names();
  double input_mean = 0.0, input_std = 1.0;
  Metadata extra;  // other keys, kept as they are

  // The key the width is stored under for this model.
  std::string width_key() const { return model == "customnet" ? "w" : "alpha"; }

  Metadata to_map() const {
    MOODNET_CHECK(model == "mobilenet" || model == "customnet", "model metadata: unknown model \"", model,
                  "\" (expected mobilenet or customnet)");
    Metadata m = extra;
    m["model"] = model;
    m[width_key()] = model == "customnet" ? std::to_string(static_cast<long long>(std::llround(width)))
                                          : format_double(width);
    std::string names;
    for (std::size_t i = 0; i < class_names.size(); ++i) {
      MOODNET_CHECK(!class_names[i].empty() && class_names[i].find(',') == std::string::npos,
                    "model metadata: class name \"", class_names[i], "\" must be non-empty and without commas");
      names += (i ? "," : "") + class_names[i];
    }
    m["class_names"] = names;
    m["input_mean"] = format_double(input_mean);
    m["input_std"] = format_double(input_std);
    return m;
  }

  // Reads the keys above from a file's metadata; `file` names the checkpoint in errors.
  static ModelMetadata from_map(const Metadata& m, const std::string& file) {
    ModelMetadata md;
    const auto model = m.find("model");
    if (model == m.end()) fail("checkpoint ", file, ": __metadata__ has no \"model\"");
    md.model = model->second;
    if (md.model != "mobilenet" && md.model != "customnet")
      fail("checkpoint ", file, ": __metadata__ \"model\" is \"", md.model, "\", expected mobilenet or customnet");
    md.width = detail::parse_metadata_double(m, md.width_key(), file);
    if (!(md.width > 0) || (md.model == "customnet" && md.width != std::floor(md.width)))
      fail("checkpoint ", file, ": __metadata__ \"", md.width_key(), "\" is \"", m.at(md.width_key()),
           "\", expected a positive ", md.model == "customnet" ? "integer" : "number");
    md.input_mean = detail::parse_metadata_double(m, "input_mean", file);
    md.input_std = detail::parse_metadata_double(m, "input_std", file);
    if (!(md.input_std > 0)) fail("checkpoint ", file, ": __metadata__ \"input_std\" must be > 0");
    const auto names = m.find("class_names");
    if (names == m.end()) fail("checkpoint ", file, ": __metadata__ has no \"class_names\"");
    md.class_names.clear();
    std::size_t start = 0;
    const std::string& s = names->second;
    for (;;) {
      const auto comma = s.find(',', start);
      md.class_names.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (md.class_names.back().empty())
        fail("checkpoint ", file, ": __metadata__ \"class_names\" has an empty name: \"", s, "\"");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    for (const auto& [k, v] : m)
      if (k != "model" && k != md.width_key() && k != "class_names" && k != "input_mean" && k != "input_std")
        md.extra[k] = v;
    return md;
  }
};

}  // namespace moodnet::io
