#pragma once
// The __metadata__ of a weights file (DESIGN.md contract 2), all values strings:
//
//   "model"        a registered model name (models/registry.hpp): "mobilenet", "customnet", ...
//                  (the names pytorch_models.build() takes)
//   size args      one key per size argument of that model, as the twin's keyword arguments:
//                  "alpha" = "0.5" (MobileNet), "w" = "32" (CustomNet)
//   "input_shape"  "3,32,32"   channels, height, width of the network's input (files written before
//                  it existed are FER-2013's: read as 1,48,48)
//   "class_names"  "angry,disgust,fear,happy,neutral,sad,surprise"   (index order, comma-separated;
//                  one per output of the classifier)
//   "input_mean"   "0.5" or "0.49,0.48,0.45"   the network sees (pixel/255 - mean[c]) / std[c]:
//   "input_std"    "0.25" or "0.25,0.24,0.26"  one value for every channel (gray models, files
//                  written before per-channel normalisation) or one per input channel
//   "resize"       "crop" | "stretch"   the aspect rule (data/resize.hpp) that brings an image to
//                  the stored size; files without it are read as "stretch" (how FER-2013 and predict
//                  always read images — FER-2013's are all 48x48, so it never changed a pixel there)
//   "image_size"   "36,36"     optional: height,width an image is stored (resized) at before the
//                  centre crop to input_shape's height,width — a model trained on random crops
//                  (data::LoaderOptions::crop); absent = input_shape's height,width
//
// Any other keys (e.g. "epoch", "val_accuracy") round-trip through `extra`. Every value is checked
// when read (from_map) and when written (to_map): one-line errors naming the key and the value.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/shape.hpp"
#include "moodnet/data/fer2013_classes.hpp"
#include "moodnet/data/image_shape.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/data/resize.hpp"
#include "moodnet/io/json.hpp"
#include "moodnet/io/safetensors.hpp"
#include "moodnet/models/registry.hpp"

namespace moodnet::io {

namespace detail {
// The numbers of a comma-separated list ("0.5" or "0.49,0.48,0.45"); false when any item is not a
// finite number.
inline bool parse_number_list(const std::string& s, std::vector<double>& out) {
  out.clear();
  const char* p = s.data();
  const char* end = s.data() + s.size();
  for (;;) {
    double d = 0;
    const auto r = std::from_chars(p, end, d);
    if (r.ec != std::errc() || !std::isfinite(d)) return false;
    out.push_back(d);
    if (r.ptr == end) return true;
    if (*r.ptr != ',') return false;
    p = r.ptr + 1;
  }
}

inline double parse_metadata_double(const Metadata& m, const std::string& key, const std::string& file) {
  const auto it = m.find(key);
  if (it == m.end()) fail("checkpoint ", file, ": __metadata__ has no \"", key, "\"");
  std::vector<double> v;
  if (!parse_number_list(it->second, v) || v.size() != 1)
    fail("checkpoint ", file, ": __metadata__ \"", key, "\" is \"", it->second, "\", not a number");
  return v[0];
}

// Positive integers "a,b,c" (exactly `count` of them) into out; false when the text is anything else.
inline bool parse_dims(const std::string& text, int count, std::int64_t* out) {
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < count; ++i) {
    const auto r = std::from_chars(p, end, out[i]);
    const bool last = i == count - 1;
    if (r.ec != std::errc() || out[i] < 1 || (last ? r.ptr != end : (r.ptr == end || *r.ptr != ','))) return false;
    p = r.ptr + 1;
  }
  return true;
}
}  // namespace detail

// "1,48,48" for [1, 48, 48] and back.
inline std::string format_input_shape(const Shape& s) {
  std::string out;
  for (int i = 0; i < s.rank(); ++i) {
    if (i) out += ',';
    out += std::to_string(s[i]);
  }
  return out;
}
inline Shape parse_input_shape(const std::string& text, const std::string& file) {
  std::int64_t d[3] = {0, 0, 0};
  if (!detail::parse_dims(text, 3, d))
    fail("checkpoint ", file, ": __metadata__ \"input_shape\" is \"", text,
         "\", expected three positive integers channels,height,width (e.g. 1,48,48)");
  return Shape{d[0], d[1], d[2]};
}

// One statistic of the input normalisation — the mean or the std of pixel/255 — with one value for
// every channel or one per input channel. A number converts to the one-value form, as old files
// store it.
struct ChannelValues {
  std::vector<double> values{0.0};

  ChannelValues() = default;
  ChannelValues(double v) : values{v} {}  // NOLINT(google-explicit-constructor): 0.5 = 0.5 for every channel
  ChannelValues(std::initializer_list<double> v) : values(v) {}
  explicit ChannelValues(std::vector<double> v) : values(std::move(v)) {}
  explicit ChannelValues(const std::vector<float>& v) : values(v.begin(), v.end()) {}

  std::size_t size() const { return values.size(); }
  bool operator==(const ChannelValues&) const = default;
  std::vector<float> floats() const { return std::vector<float>(values.begin(), values.end()); }
  // "0.5" or "0.49,0.48,0.45", each value in the shortest form that reads back exactly.
  std::string str() const {
    std::string s;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) s += ',';
      s += format_double(values[i]);
    }
    return s;
  }
  friend std::ostream& operator<<(std::ostream& os, const ChannelValues& v) { return os << v.str(); }
};

struct ModelMetadata {
  // Bounds on the normalisation (validate): pixel/255 is in [0, 1], so real means are in [0, 1] and
  // stds in (0, 0.5]; these only refuse the absurd.
  static constexpr double kMaxAbsMean = 1000, kMinStd = 1e-6, kMaxStd = 1000;

  std::string model;  // a registered name: "mobilenet", "customnet", ...
  SizeArgs size;      // the model's size arguments by key: {{"alpha", 0.5}} or {{"w", 32}}
  Shape input = default_input_shape();  // [C, H, W] the network takes
  std::vector<std::string> class_names = data::fer2013_class_names();  // the twins' default 7 classes
  ChannelValues input_mean = 0.0, input_std = 1.0;  // one value, or one per channel of `input`
  data::ResizeMode resize = data::ResizeMode::stretch;  // aspect rule to the stored size
  std::int64_t image_height = 0, image_width = 0;       // stored size before the centre crop; 0 = input's
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

  // How images are stored before they reach the network: [C, image_height, image_width] (the
  // input's own size unless a centre crop follows).
  data::ImageShape stored_shape() const {
    return {static_cast<int>(input[0]), static_cast<int>(image_height ? image_height : input[1]),
            static_cast<int>(image_width ? image_width : input[2])};
  }
  // The centre crop from the stored size to the input (0 = none): the input's side.
  int centre_crop() const {
    const data::ImageShape s = stored_shape();
    return s.height == input[1] && s.width == input[2] ? 0 : static_cast<int>(input[1]);
  }
  // The normalisation the network was trained with, as data::Normalization (a one-value mean or
  // std beside a per-channel other is repeated for every channel).
  data::Normalization normalization() const {
    std::vector<float> mean = input_mean.floats(), std = input_std.floats();
    if (mean.size() == 1 && std.size() > 1) mean.resize(std.size(), mean[0]);
    if (std.size() == 1 && mean.size() > 1) std.resize(mean.size(), std[0]);
    return {std::move(mean), std::move(std)};
  }
  void set_normalization(const data::Normalization& n) {
    input_mean = ChannelValues(n.mean);
    input_std = ChannelValues(n.std);
  }

  // Throws moodnet::Error unless every value is usable; messages start with `where`
  // ("checkpoint best.safetensors: __metadata__" or "model metadata").
  void validate(const std::string& where) const {
    if (input.rank() != 3 || input[0] < 1 || input[1] < 1 || input[2] < 1)
      fail(where, " \"input_shape\" is \"", format_input_shape(input), "\", expected channels,height,width");
    if (class_names.empty()) fail(where, " \"class_names\" is empty");
    for (std::size_t i = 0; i < class_names.size(); ++i) {
      const std::string& n = class_names[i];
      if (n.empty() || n.find(',') != std::string::npos)
        fail(where, " \"class_names\": class ", i, " \"", n, "\" must be non-empty and without commas");
      if (std::find(class_names.begin(), class_names.begin() + static_cast<std::ptrdiff_t>(i), n) !=
          class_names.begin() + static_cast<std::ptrdiff_t>(i))
        fail(where, " \"class_names\" names class \"", n, "\" twice");
    }
    const std::int64_t channels = input[0];
    for (const auto* v : {&input_mean, &input_std}) {
      const bool is_mean = v == &input_mean;
      const char* key = is_mean ? "input_mean" : "input_std";
      if (v->size() != 1 && static_cast<std::int64_t>(v->size()) != channels)
        fail(where, " \"", key, "\" is \"", v->str(), "\": ", v->size(), " values for an input of ", channels,
             " channel(s) (input_shape ", format_input_shape(input), "), expected 1",
             channels > 1 ? " or " + std::to_string(channels) : "");
      for (double x : v->values) {
        if (!std::isfinite(x) || (!is_mean && !(x > 0)))
          fail(where, " \"", key, "\" is \"", v->str(), "\": ",
               is_mean ? "every mean must be a finite number" : "every std must be a finite number > 0");
        // pixel/255 lies in [0, 1]: a mean of 1e30 or a std of 1e-30 is no normalisation any data gives
        // (and turns every input into +-inf or 0).
        if (is_mean ? std::abs(x) > kMaxAbsMean : (x < kMinStd || x > kMaxStd))
          fail(where, " \"", key, "\" is \"", v->str(), "\": ",
               is_mean ? "every mean must be in [-1000, 1000]" : "every std must be in [1e-06, 1000]",
               " (inputs are (pixel/255 - mean) / std)");
      }
    }
    if ((image_height == 0) != (image_width == 0) ||
        (image_height != 0 && (image_height < input[1] || image_width < input[2])))
      fail(where, " \"image_size\" is \"", image_height, ",", image_width,
           "\", expected height,width at least the input's ", input[1], "x", input[2]);
    if (image_height != 0 && (image_height != input[1] || image_width != input[2]) && input[1] != input[2])
      fail(where, " \"image_size\" ", image_height, ",", image_width, " needs a square centre crop, but the input is ",
           input[1], "x", input[2]);
  }

  Metadata to_map() const {
    const ModelInfo* info = try_find_model(model);
    MOODNET_CHECK(info != nullptr, "model metadata: unknown model \"", model, "\" (registered: ", model_names(), ")");
    validate("model metadata");
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
      if (i) names += ',';
      names += class_names[i];
    }
    m["class_names"] = names;
    m["input_mean"] = input_mean.str();
    m["input_std"] = input_std.str();
    m["resize"] = data::resize_mode_name(resize);
    if (centre_crop() != 0) m["image_size"] = std::to_string(image_height) + "," + std::to_string(image_width);
    return m;
  }

  // Reads the keys above from a file's metadata; `file` names the checkpoint in errors.
  static ModelMetadata from_map(const Metadata& m, const std::string& file) {
    const std::string where = "checkpoint " + file + ": __metadata__";
    // A trainer's training-state file (io/training_state.hpp) has a "model" too; say what it is
    // rather than that it lacks a size argument.
    if (const auto f = m.find("format"); f != m.end() && f->second.rfind("moodnet-training-state", 0) == 0)
      fail("checkpoint ", file, " is a training-state file (\"format\" ", f->second, "), not a weights file: use "
           "the weights saved beside it (last.safetensors or best.safetensors)");
    ModelMetadata md;
    const auto model = m.find("model");
    if (model == m.end()) fail(where, " has no \"model\"");
    md.model = model->second;
    const ModelInfo* info = try_find_model(md.model);
    if (!info) fail(where, " \"model\" is \"", md.model, "\", expected one of ", model_names());
    for (const auto& a : info->size_args) {
      const double v = detail::parse_metadata_double(m, a.key, file);
      if (!a.accepts(v)) fail(where, " \"", a.key, "\" is \"", m.at(a.key), "\", expected ", a.expected());
      md.size[a.key] = v;
    }
    const auto shape = m.find("input_shape");
    if (shape != m.end()) md.input = parse_input_shape(shape->second, file);
    for (auto [key, out] : {std::pair{"input_mean", &md.input_mean}, std::pair{"input_std", &md.input_std}}) {
      const auto it = m.find(key);
      if (it == m.end()) fail(where, " has no \"", key, "\"");
      if (!detail::parse_number_list(it->second, out->values))
        fail(where, " \"", key, "\" is \"", it->second, "\", expected a number or one number per channel (e.g. 0.5 or ",
             "0.49,0.48,0.45)");
    }
    const auto names = m.find("class_names");
    if (names == m.end()) fail(where, " has no \"class_names\"");
    md.class_names.clear();
    std::size_t start = 0;
    const std::string& s = names->second;
    for (;;) {
      const auto comma = s.find(',', start);
      md.class_names.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (md.class_names.back().empty()) fail(where, " \"class_names\" has an empty name: \"", s, "\"");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (const auto r = m.find("resize"); r != m.end()) {
      if (r->second != "crop" && r->second != "stretch")
        fail(where, " \"resize\" is \"", r->second, "\", expected crop or stretch");
      md.resize = data::parse_resize_mode(r->second);
    }
    if (const auto is = m.find("image_size"); is != m.end()) {
      std::int64_t hw[2] = {0, 0};
      if (!detail::parse_dims(is->second, 2, hw))
        fail(where, " \"image_size\" is \"", is->second, "\", expected two positive integers height,width (e.g. 36,36)");
      md.image_height = hw[0], md.image_width = hw[1];
    }
    md.validate(where);
    for (const auto& [k, v] : m)
      if (k != "model" && !info->find_arg(k) && !is_known_key(k)) md.extra[k] = v;
    return md;
  }

 private:
  static bool is_known_key(const std::string& k) {
    for (const char* known : {"input_shape", "class_names", "input_mean", "input_std", "resize", "image_size"})
      if (k == known) return true;
    return false;
  }
};

}  // namespace moodnet::io
