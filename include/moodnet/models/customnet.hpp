#pragma once
// CustomNet-48(w): four plain convolution stages, no skip connections — layer for layer the PyTorch
// twin CustomNet48 in ../shared/reference/pytorch_models.py:
//
//   stage(c), c = w, 2w, 4w, 8w:  conv3x3 BN ReLU conv3x3 GroupNorm(8) ReLU MaxPool2x2 Dropout(0.25)
//   pool (global average) -> flatten -> head: Linear(8w -> 256) ReLU Dropout(0.5) Linear(256 -> 7)
//   spatial 48 -> 24 -> 12 -> 6 -> 3
//
// Other inputs [C, H, W] and class counts give the same network with in_ch, num_classes changed
// (global average pooling makes the head independent of H, W); H, W >= 16 for the four poolings.
//
// Parameter names are the twin's state_dict keys ("features.0.weight", ..., "head.0.weight").
// Parameters: 4,819,271 (w 64), 1,240,231 (w 32).
#include <cstdint>
#include <memory>
#include <string>

#include "moodnet/layers/activations.hpp"
#include "moodnet/layers/batchnorm2d.hpp"
#include "moodnet/layers/conv2d.hpp"
#include "moodnet/layers/dropout.hpp"
#include "moodnet/layers/flatten.hpp"
#include "moodnet/layers/groupnorm.hpp"
#include "moodnet/layers/linear.hpp"
#include "moodnet/layers/pooling.hpp"
#include "moodnet/layers/sequential.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/models/model_spec.hpp"

namespace moodnet {

template <class T = float>
inline Model<T> make_customnet_48(std::int64_t w = 64, std::uint64_t seed = 0, int num_classes = kDefaultNumClasses,
                                  Shape input = default_input_shape(), std::int64_t groups = 8) {
  MOODNET_CHECK(w >= 1 && w <= 1024, "CustomNet-48: width w must be in [1, 1024], got ", w);
  MOODNET_CHECK(num_classes >= 1, "CustomNet-48: num_classes must be >= 1, got ", num_classes);
  check_image_input(input, 16, "CustomNet-48", "four 2x2 max-poolings");
  auto features = std::make_unique<Sequential<T>>();
  std::int64_t cin = input[0];
  for (std::int64_t c : {w, 2 * w, 4 * w, 8 * w}) {
    features->template emplace<Conv2d<T>>(cin, c, 3, 1, 1);
    features->template emplace<BatchNorm2d<T>>(c);
    features->template emplace<ReLU<T>>();
    features->template emplace<Conv2d<T>>(c, c, 3, 1, 1);
    features->template emplace<GroupNorm<T>>(groups, c);
    features->template emplace<ReLU<T>>();
    features->template emplace<MaxPool2d<T>>(2);
    features->template emplace<Dropout<T>>(0.25);
    cin = c;
  }
  auto head = std::make_unique<Sequential<T>>();
  head->template emplace<Linear<T>>(8 * w, 256);
  head->template emplace<ReLU<T>>();
  head->template emplace<Dropout<T>>(0.5);
  head->template emplace<Linear<T>>(256, num_classes);

  auto net = std::make_unique<Sequential<T>>();
  net->add(std::move(features), "features");
  net->add(std::make_unique<GlobalAvgPool<T>>(), "pool");
  net->add(std::make_unique<Flatten<T>>(), "flatten");
  net->add(std::move(head), "head");
  return Model<T>(std::move(net), input, seed, {{"model", "customnet"}, {"w", std::to_string(w)}});
}

// The registry's builder (models/registry.hpp): size argument "w".
template <class T>
inline Model<T> customnet_48_from_spec(const ModelSpec& s) {
  return make_customnet_48<T>(s.int_arg("w"), s.seed, s.num_classes, s.input);
}

}  // namespace moodnet
