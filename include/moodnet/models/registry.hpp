#pragma once
// The model registry: every network moodnet can build, by name. Nothing outside models/ switches on
// a model's name: the trainers, the weights files (io/), the benchmarks and the examples look it up
// here.
//
//   const ModelInfo& info = find_model("customnet");          // throws on an unknown name
//   ModelSpec spec;  spec.size = {{"w", 32}};  spec.num_classes = 7;  spec.input = {1, 48, 48};
//   Model<float> m = build_model<float>("customnet", spec);     // fills defaults, checks ranges
//
// Adding a model:
//   1. Write models/<name>.hpp: `make_<name>(...)` building the network (exactly its PyTorch twin
//      in ../shared/reference/pytorch_models.py, state_dict names included) and a
//      `template <class T> Model<T> <name>_from_spec(const ModelSpec&)` reading its size arguments
//      from the spec (customnet.hpp is the example to copy).
//   2. Include it below and add one entry to the table in model_registry() (copy an entry; the
//      fields are explained in models/model_spec.hpp): name (the twin's build() name), title,
//      description, size arguments, default recipe, and the float and double builders.
// The trainer (train/train_cli.hpp), io::make_model, the training-step benchmark and the tests in
// tests/models/registry.cpp then pick it up.
#include <sstream>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/models/customnet.hpp"
#include "moodnet/models/mobilenet_v1.hpp"
#include "moodnet/models/model_spec.hpp"
#include "moodnet/models/resnet.hpp"

namespace moodnet {

inline const std::vector<ModelInfo>& model_registry() {
  static const std::vector<ModelInfo> models = {
      {.name = "mobilenet",
       .title = "MobileNet-V1-48",
       .description = "MobileNet-V1 for 48x48 inputs: 13 depthwise-separable blocks, width alpha",
       .size_args = {{.key = "alpha", .flag = "width", .default_value = 1.0, .min = 0.01, .max = 4,
                      .help = "width multiplier alpha"}},
       .recipe = {.size = {{"alpha", 0.5}}, .epochs = 60, .batch_size = 64, .lr = 0.1, .weight_decay = 1e-4},
       .build_float = mobilenet_v1_48_from_spec<float>,
       .build_double = mobilenet_v1_48_from_spec<double>},
      {.name = "customnet",
       .title = "CustomNet-48",
       .description = "four plain convolution stages (BatchNorm / GroupNorm), no skip connections",
       .size_args = {{.key = "w", .flag = "width", .default_value = 64, .integer = true, .min = 8, .max = 1024,
                      .help = "channel width w (stages w, 2w, 4w, 8w)", .multiple_of = 8}},
       .recipe = {.size = {{"w", 32}}, .epochs = 60, .batch_size = 64, .lr = 0.05, .weight_decay = 5e-4},
       .build_float = customnet_48_from_spec<float>,
       .build_double = customnet_48_from_spec<double>},
      {.name = "resnet",
       .title = "ResNet-48",
       .description = "basic residual blocks at CustomNet's widths w, 2w, 4w, 8w (blocks 1: ResNet-10, 2: ResNet-18)",
       .size_args = {{.key = "w", .flag = "width", .default_value = 32, .integer = true, .min = 1, .max = 1024,
                      .help = "channel width w (stages w, 2w, 4w, 8w)"},
                     {.key = "blocks", .flag = "blocks", .default_value = 1, .integer = true, .min = 1, .max = 16,
                      .help = "residual blocks per stage"}},
       .recipe = {.size = {{"w", 32}, {"blocks", 1}}, .epochs = 60, .batch_size = 64, .lr = 0.05, .weight_decay = 5e-4},
       .build_float = resnet_48_from_spec<float>,
       .build_double = resnet_48_from_spec<double>},
      {.name = "resnext",
       .title = "ResNeXt-48",
       .description = "bottleneck residual blocks with a grouped 3x3 (cardinality x group_width), stages w..8w",
       .size_args = {{.key = "cardinality", .flag = "cardinality", .default_value = 8, .integer = true, .min = 1,
                      .max = 256, .help = "groups of the 3x3 convolutions"},
                     {.key = "group_width", .flag = "group-width", .default_value = 4, .integer = true, .min = 1,
                      .max = 1024, .help = "channels per group in the first stage (doubling per stage)"},
                     {.key = "w", .flag = "width", .default_value = 64, .integer = true, .min = 1, .max = 1024,
                      .help = "output width w (stages w, 2w, 4w, 8w)"},
                     {.key = "blocks", .flag = "blocks", .default_value = 2, .integer = true, .min = 1, .max = 16,
                      .help = "residual blocks per stage"}},
       .recipe = {.size = {{"cardinality", 8}, {"group_width", 4}, {"w", 64}, {"blocks", 2}},
                  .epochs = 60,
                  .batch_size = 64,
                  .lr = 0.05,
                  .weight_decay = 5e-4},
       .build_float = resnext_48_from_spec<float>,
       .build_double = resnext_48_from_spec<double>},
  };
  return models;
}

// "mobilenet, customnet": the registered names, for messages and --help.
inline std::string model_names() {
  std::string s;
  for (const auto& m : model_registry()) s += (s.empty() ? "" : ", ") + m.name;
  return s;
}

// The entry called `name`, or nullptr.
inline const ModelInfo* try_find_model(const std::string& name) {
  for (const auto& m : model_registry())
    if (m.name == name) return &m;
  return nullptr;
}

// The entry called `name`; throws naming it and the registered models when there is none.
inline const ModelInfo& find_model(const std::string& name) {
  const ModelInfo* m = try_find_model(name);
  if (!m) fail("unknown model '", name, "' (registered: ", model_names(), ")");
  return *m;
}

// Throws unless `a` accepts `v`; `what` names the value ("--width", "CustomNet-48 size argument w").
inline void check_size_arg(const SizeArg& a, double v, const std::string& what) {
  if (!a.accepts(v)) fail(what, " must be ", a.expected(), ", got ", v);
}

// `given` completed with the defaults of the arguments it lacks, every value checked; throws on a key
// the model does not have ("CustomNet-48 has no size argument 'alpha' (it takes: w)").
inline SizeArgs resolve_size_args(const ModelInfo& info, const SizeArgs& given) {
  for (const auto& [key, v] : given) {
    if (info.find_arg(key)) continue;
    std::string keys;
    for (const auto& a : info.size_args) keys += (keys.empty() ? "" : ", ") + a.key;
    fail(info.title, " has no size argument '", key, "' (it takes: ", keys.empty() ? "none" : keys, ")");
  }
  SizeArgs out;
  for (const auto& a : info.size_args) {
    const auto it = given.find(a.key);
    out[a.key] = it == given.end() ? a.default_value : it->second;
    check_size_arg(a, out[a.key], info.title + " size argument " + a.key);
  }
  return out;
}

// "w 32", "alpha 0.5": size arguments in the model's order, as people read them.
inline std::string size_args_text(const ModelInfo& info, const SizeArgs& size) {
  std::ostringstream s;
  for (const auto& a : info.size_args) {
    const auto it = size.find(a.key);
    if (it != size.end()) s << (s.tellp() > 0 ? " " : "") << a.key << " " << it->second;
  }
  return s.str();
}

// Builds the model `name` from `spec` (its size arguments completed and checked first).
template <class T = float>
inline Model<T> build_model(const std::string& name, ModelSpec spec = {}) {
  const ModelInfo& info = find_model(name);
  spec.size = resolve_size_args(info, spec.size);
  return info.builder<T>()(spec);
}

}  // namespace moodnet
