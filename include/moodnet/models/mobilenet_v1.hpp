#pragma once
// MobileNetV1-48(alpha): MobileNet-V1 for 1x48x48 inputs, layer for layer the PyTorch twin
// MobileNetV1_48 in ../shared/reference/pytorch_models.py:
//
//   features: conv3x3(1 -> 32a, s1) BN ReLU, then 13 x [dw3x3(s) BN ReLU, pw1x1 BN ReLU]
//   pool (global average) -> flatten -> dropout(0.2) -> fc(1024a -> 7)
//   spatial 48 -> 24 -> 12 -> 6 -> 3 (the stem keeps 48x48: stride 1)
//
// Other inputs [C, H, W] and class counts give the same network with in_ch, num_classes changed
// (global average pooling makes the head independent of H, W; every padded stride-2 layer maps a
// side of 1 to 1, so any H, W >= 1 works).
//
// Channel counts are max(1, int(c * alpha)). Parameter names are the twin's state_dict keys
// ("features.0.weight", "features.1.running_mean", ..., "fc.weight").
// Parameters: 3,213,575 (alpha 1), 821,895 (alpha 0.5).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "moodnet/layers/activations.hpp"
#include "moodnet/layers/batchnorm2d.hpp"
#include "moodnet/layers/conv2d.hpp"
#include "moodnet/layers/depthwise_conv2d.hpp"
#include "moodnet/layers/dropout.hpp"
#include "moodnet/layers/flatten.hpp"
#include "moodnet/layers/linear.hpp"
#include "moodnet/layers/pooling.hpp"
#include "moodnet/layers/sequential.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/models/model_spec.hpp"

namespace moodnet {

// (in, out, stride) of the 13 depthwise-separable blocks before scaling by alpha.
inline constexpr int kMobileNetBlocks[13][3] = {
    {32, 64, 1},   {64, 128, 2},  {128, 128, 1}, {128, 256, 2}, {256, 256, 1}, {256, 512, 2},  {512, 512, 1},
    {512, 512, 1}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1}, {512, 1024, 2}, {1024, 1024, 1}};

inline std::int64_t mobilenet_channels(int c, double alpha) {
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(c * alpha));
}

template <class T = float>
inline Model<T> make_mobilenet_v1_48(double alpha = 1.0, std::uint64_t seed = 0, int num_classes = kDefaultNumClasses,
                                     Shape input = default_input_shape(), double dropout = 0.2) {
  MOODNET_CHECK(alpha > 0 && alpha <= 4, "MobileNetV1-48: alpha must be in (0, 4], got ", alpha);
  MOODNET_CHECK(num_classes >= 1, "MobileNetV1-48: num_classes must be >= 1, got ", num_classes);
  check_image_input(input, 1, "MobileNetV1-48", "a non-empty image");
  auto features = std::make_unique<Sequential<T>>();
  const std::int64_t c0 = mobilenet_channels(32, alpha);
  features->template emplace<Conv2d<T>>(input[0], c0, 3, 1, 1);
  features->template emplace<BatchNorm2d<T>>(c0);
  features->template emplace<ReLU<T>>();
  for (const auto& b : kMobileNetBlocks) {
    const std::int64_t ci = mobilenet_channels(b[0], alpha), co = mobilenet_channels(b[1], alpha);
    features->template emplace<DepthwiseConv2d<T>>(ci, 3, b[2], 1);
    features->template emplace<BatchNorm2d<T>>(ci);
    features->template emplace<ReLU<T>>();
    features->template emplace<Conv2d<T>>(ci, co, 1);
    features->template emplace<BatchNorm2d<T>>(co);
    features->template emplace<ReLU<T>>();
  }
  auto net = std::make_unique<Sequential<T>>();
  net->add(std::move(features), "features");
  net->add(std::make_unique<GlobalAvgPool<T>>(), "pool");
  net->add(std::make_unique<Flatten<T>>(), "flatten");
  net->add(std::make_unique<Dropout<T>>(dropout), "dropout");
  net->add(std::make_unique<Linear<T>>(mobilenet_channels(1024, alpha), num_classes), "fc");
  std::string width = std::to_string(alpha);
  width.erase(width.find_last_not_of('0') + 1);
  if (width.back() == '.') width += '0';
  return Model<T>(std::move(net), input, seed, {{"model", "mobilenet"}, {"alpha", width}});
}

// The registry's builder (models/registry.hpp): size argument "alpha".
template <class T>
inline Model<T> mobilenet_v1_48_from_spec(const ModelSpec& s) {
  return make_mobilenet_v1_48<T>(s.arg("alpha"), s.seed, s.num_classes, s.input);
}

}  // namespace moodnet
