#pragma once
// The __metadata__ of a weights file (DESIGN.md contract 2), all values strings:
//
//   "model"        a registered model name (models/registry.hpp): "mobilenet", "customnet", ...
//                  (the names pytorch_models.build() takes)
//   size args      one key per size argument of that model, as the twin's keyword arguments:
//                  "alpha" = "0.5" (MobileNet), "w" = "32" (CustomNet)
//   "input_shape"  "1,48,48"   channels, height, width of one image (files written before it
//                  existed are read as 1,48,48)
//   "class_names"  "angry,disgust,fear,happy,neutral,sad,surprise"   (index order, comma-separated)
//   "input_mean"   "0.5"   the network sees (pixel / 255 - input_mean) / input_std
//   "input_std"    "0.25"
//
// Any other keys (e.g. "epoch", "val_accuracy") round-trip through `extra`.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/shape.hpp"
#include "moodnet/data/fer2013_classes.hpp"
#include "moodnet/io/json.hpp"
#include "moodnet/io/safetensors.hpp"
#include "moodnet/models/registry.hpp"

namespace moodnet::io {

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

// "1,48,48" for [1, 48, 48] and back.
inline std::string format_input_shape(const Shape& s) {
  std::string out;
  for (int i = 0; i < s.rank(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out;
}
inline Shape parse_input_shape(const std::string& text, const std::string& file) {
  std::int64_t d[3] = {0, 0, 0};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 3; ++i) {
    const auto r = std::from_chars(p, end, d[i]);
    const bool last = i == 2;
    if (r.ec != std::errc() || d[i] < 1 || (last ? r.ptr != end : (r.ptr == end || *r.ptr != ',')))
      fail("checkpoint ", file, ": __metadata__ \"input_shape\" is \"", text,
           "\", expected three positive integers channels,height,width (e.g. 1,48,48)");
    p = r.ptr + 1;
  }
  return Shape{d[0], d[1], d[2]};
}

struct ModelMetadata {
  std::string model;  // a registered name: "mobilenet", "customnet", ...
  SizeArgs size;      // the model's size arguments by key: {{"alpha", 0.5}} or {{"w", 32}}
  Shape input = default_input_shape();  // [C, H, W] of one image
  std::vector<std::string> class_names = data::fer2013_class_names();  // the twins' default 7 classes
  double input_mean = 0.0, input_std = 1.0;
  Metadata extra;  // other keys, kept as they are

  // The spec that builds this network (models/registry.hpp build_model), initialised from `seed`.
  ModelSpec spec(std::uint64_t seed = 0) const {
    ModelSpec s;
    s.input = input;
    s.num_classes = static_cast<int>(class_names.size());
    s.seed = seed;
    s.size = size;
    return s;
  }

  Metadata to_map() const {
    const ModelInfo* info = try_find_model(model);
    MOODNET_CHECK(info != nullptr, "model metadata: unknown model \"", model, "\" (registered: ", model_names(), ")");
    const SizeArgs resolved = resolve_size_args(*info, size);
    Metadata m = extra;
    m["model"] = model;
    for (const auto& a : info->size_args) {
      const double v = resolved.at(a.key);
      m[a.key] = a.integer ? std::to_string(static_cast<long long>(std::llround(v))) : format_double(v);
    }
    m["input_shape"] = format_input_shape(input);
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
    const ModelInfo* info = try_find_model(md.model);
    if (!info)
      fail("checkpoint ", file, ": __metadata__ \"model\" is \"", md.model, "\", expected one of ", model_names());
    for (const auto& a : info->size_args) {
      const double v = detail::parse_metadata_double(m, a.key, file);
      if (!a.accepts(v))
        fail("checkpoint ", file, ": __metadata__ \"", a.key, "\" is \"", m.at(a.key), "\", expected ", a.expected());
      md.size[a.key] = v;
    }
    const auto shape = m.find("input_shape");
    if (shape != m.end()) md.input = parse_input_shape(shape->second, file);
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
      if (k != "model" && !info->find_arg(k) && k != "input_shape" && k != "class_names" && k != "input_mean" &&
          k != "input_std")
        md.extra[k] = v;
    return md;
  }
};

}  // namespace moodnet::io
