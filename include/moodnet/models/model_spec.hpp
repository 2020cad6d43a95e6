#pragma once
// What a model registry entry (models/registry.hpp) is made of, and what its builder takes.
//
//   ModelSpec   input shape [C, H, W], class count, seed and size arguments ("w" -> 32): everything
//               a builder needs to make one network
//   SizeArg     one size argument of a model: its __metadata__ key, CLI flag, default, range, help
//   Recipe      the model's default training recipe (what train_<model> runs without flags)
//   ModelInfo   one registry entry: name, title, description, size arguments, recipe, builders
//
// The defaults (1x48x48 grayscale, 7 classes) are the PyTorch twins' (IN_CH, IMG and NUM_CLASSES
// in ../shared/reference/pytorch_models.py); a dataset with other images or classes passes its own.
#include <cmath>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/shape.hpp"
#include "moodnet/models/model.hpp"

namespace moodnet {

inline constexpr std::int64_t kDefaultInChannels = 1;  // pytorch_models.py IN_CH
inline constexpr std::int64_t kDefaultInputSize = 48;  // pytorch_models.py IMG
inline constexpr int kDefaultNumClasses = 7;           // pytorch_models.py NUM_CLASSES

// [C, H, W] of one input image: the twins' default 1x48x48.
inline Shape default_input_shape() { return Shape{kDefaultInChannels, kDefaultInputSize, kDefaultInputSize}; }

// Checks that `input` is [C, H, W] with C >= 1 and H, W >= min_hw; `model` names the network in the
// message ("CustomNet-48 needs inputs of at least 16x16 (four 2x2 poolings), got [1, 8, 8]").
inline void check_image_input(const Shape& input, std::int64_t min_hw, const char* model, const char* why) {
  MOODNET_CHECK(input.rank() == 3, model, ": the input shape must be [channels, height, width], got ", input.str());
  MOODNET_CHECK(input[0] >= 1, model, ": the input needs at least one channel, got ", input.str());
  MOODNET_CHECK(input[1] >= min_hw && input[2] >= min_hw, model, " needs inputs of at least ", min_hw, "x", min_hw,
                " (", why, "), got ", input.str());
}

// Size arguments by metadata key, e.g. {{"w", 32}} or {{"alpha", 0.5}}. Integer arguments hold
// whole numbers.
using SizeArgs = std::map<std::string, double>;

struct SizeArg {
  std::string key;   // __metadata__ key and the twin's keyword argument: "w", "alpha", "blocks"
  std::string flag;  // the trainers' flag without "--": "width" for the main width, else usually the key
  double default_value = 1;  // what the builder uses when the argument is not given
  bool integer = false;      // whole numbers only (channel widths, block counts)
  double min = 0, max = 0;   // inclusive range
  std::string help;          // one line for --help
  std::int64_t multiple_of = 1;  // integer arguments: a multiple of this (CustomNet's w: of its 8 groups)

  // Whether `v` is a valid value: finite, in [min, max], and for integers a whole multiple_of.
  bool accepts(double v) const {
    if (!std::isfinite(v) || v < min || v > max) return false;
    return !integer || (v == std::floor(v) && static_cast<std::int64_t>(v) % multiple_of == 0);
  }
  // "a whole number in [1, 1024]", "a multiple of 8 in [8, 1024]", "a number in [0.01, 4]".
  std::string expected() const {
    std::ostringstream s;
    s << (!integer ? "a number" : multiple_of > 1 ? "a multiple of " + std::to_string(multiple_of) : "a whole number")
      << " in [" << min << ", " << max << "]";
    return s.str();
  }
};

// A model's default training recipe: the train_<model> defaults (docs/results.md).
struct Recipe {
  SizeArgs size;  // size arguments trained by default (may differ from the builder defaults)
  int epochs = 30;
  std::int64_t batch_size = 64;
  double lr = 0.05;
  double weight_decay = 5e-4;
};

// Everything a builder needs. Size arguments not given take their registry default
// (models/registry.hpp resolve_size_args fills and checks them before a builder sees them).
struct ModelSpec {
  Shape input = default_input_shape();  // [C, H, W] of one image
  int num_classes = kDefaultNumClasses;
  std::uint64_t seed = 0;  // initialisation
  SizeArgs size;

  // Size argument `key`; throws naming the key when it is missing (a builder asks for its own).
  double arg(const std::string& key) const {
    const auto it = size.find(key);
    MOODNET_CHECK(it != size.end(), "model spec: size argument \"", key, "\" is missing");
    return it->second;
  }
  std::int64_t int_arg(const std::string& key) const { return static_cast<std::int64_t>(arg(key)); }
};

template <class T>
using ModelBuilder = Model<T> (*)(const ModelSpec&);

// One registry entry.
struct ModelInfo {
  std::string name;         // registry and __metadata__ "model" value, as pytorch_models.build() takes it
  std::string title;        // "CustomNet-48"
  std::string description;  // one line
  std::vector<SizeArg> size_args;
  Recipe recipe;
  ModelBuilder<float> build_float = nullptr;
  ModelBuilder<double> build_double = nullptr;

  template <class T>
  ModelBuilder<T> builder() const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "models are built in float or double");
    if constexpr (std::is_same_v<T, float>) return build_float;
    else return build_double;
  }
  // The size argument with metadata key `key` / trainer flag `flag` ("width": the main width), or nullptr.
  const SizeArg* find_arg(const std::string& key) const {
    for (const auto& a : size_args)
      if (a.key == key) return &a;
    return nullptr;
  }
  const SizeArg* find_flag(const std::string& flag) const {
    for (const auto& a : size_args)
      if (a.flag == flag) return &a;
    return nullptr;
  }
};

}  // namespace moodnet
