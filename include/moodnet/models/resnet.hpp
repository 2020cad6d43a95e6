#pragma once
// ResNet-48(w, blocks) and ResNeXt-48(cardinality, group_width, w, blocks): residual networks for
// 48x48 inputs — layer for layer the PyTorch twins ResNet48 and ResNeXt48 in
// ../shared/reference/pytorch_models.py, with torchvision's state_dict names:
//
//   conv1 (3x3, in -> stem) bn1 relu                                   at 48x48, stride 1, no max-pool
//   layer1 .. layer4: `blocks` blocks each; the first block of layers 2-4 has stride 2 (48, 24, 12, 6)
//   pool (global average) -> flatten -> dropout(0.2) -> fc
//
//   BasicBlock (ResNet), c = w, 2w, 4w, 8w:            Bottleneck (ResNeXt), stage i = 0..3:
//     conv1 3x3/s bn1 relu conv2 3x3 bn2                 conv1 1x1 (-> width) bn1 relu
//     + downsample (conv 1x1/s, bn) or identity          conv2 3x3/s, `cardinality` groups bn2 relu
//     then relu                                          conv3 1x1 (-> c) bn3 + downsample, then relu
//                                                        c = w * 2^i, width = cardinality * group_width * 2^i
//   ResNet stem: w channels.                           ResNeXt stem: max(1, w / 2) channels.
//
// A block is a Residual (layers/residual.hpp) whose body's layers are named directly under the block
// ("layer1.0.conv1.weight") and whose shortcut is "downsample" ("layer2.0.downsample.0.weight"),
// joined by add + ReLU. A projection shortcut is used where the shape changes (stride 2 or other
// channels), the identity elsewhere.
//
// Parameters: ResNet-10-48 (w 32, blocks 1) 1,227,623; ResNet-18-48 (w 24, blocks 2) 1,574,191;
// ResNeXt-48 8x4d (w 64, blocks 2) 992,743. Other inputs [C, H, W] and class counts give the same
// networks with in_ch and num_classes changed (global average pooling makes fc independent of H, W).
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/layers/activations.hpp"
#include "moodnet/layers/batchnorm2d.hpp"
#include "moodnet/layers/conv2d.hpp"
#include "moodnet/layers/dropout.hpp"
#include "moodnet/layers/flatten.hpp"
#include "moodnet/layers/linear.hpp"
#include "moodnet/layers/pooling.hpp"
#include "moodnet/layers/residual.hpp"
#include "moodnet/layers/sequential.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/models/model_spec.hpp"

namespace moodnet {

namespace resnet_detail {

// Projection shortcut (1x1 conv + BN, children "0", "1") where the shape changes, else nullptr (identity).
template <class T>
inline std::unique_ptr<Sequential<T>> downsample(std::int64_t cin, std::int64_t cout, std::int64_t stride) {
  if (stride == 1 && cin == cout) return nullptr;
  auto s = std::make_unique<Sequential<T>>();
  s->template emplace<Conv2d<T>>(cin, cout, 1, stride);
  s->template emplace<BatchNorm2d<T>>(cout);
  return s;
}

// The block: body layers named under the block itself, shortcut "downsample", add + ReLU.
template <class T>
inline LayerPtr<T> block(std::unique_ptr<Sequential<T>> body, std::int64_t cin, std::int64_t cout,
                         std::int64_t stride) {
  ResidualOptions o;
  o.body_name = "", o.shortcut_name = "downsample", o.relu_after = true;
  return std::make_unique<Residual<T>>(std::move(body), downsample<T>(cin, cout, stride), o);
}

// torchvision's BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). groups > 1 makes
// conv2 grouped (not used by ResNet-48; the tests use it to put a grouped layer in a block).
template <class T>
inline LayerPtr<T> basic_block(std::int64_t cin, std::int64_t cout, std::int64_t stride, std::int64_t groups = 1) {
  auto b = std::make_unique<Sequential<T>>();
  b->add(std::make_unique<Conv2d<T>>(cin, cout, 3, stride, 1), "conv1");
  b->add(std::make_unique<BatchNorm2d<T>>(cout), "bn1");
  b->add(std::make_unique<ReLU<T>>(), "relu");
  b->add(std::make_unique<Conv2d<T>>(cout, cout, 3, 1, 1, groups), "conv2");
  b->add(std::make_unique<BatchNorm2d<T>>(cout), "bn2");
  return block<T>(std::move(b), cin, cout, stride);
}

// torchvision's Bottleneck with groups: 1x1 -> width, grouped 3x3 (stride), 1x1 -> cout.
template <class T>
inline LayerPtr<T> bottleneck(std::int64_t cin, std::int64_t cout, std::int64_t stride, std::int64_t width,
                              std::int64_t cardinality) {
  auto b = std::make_unique<Sequential<T>>();
  b->add(std::make_unique<Conv2d<T>>(cin, width, 1), "conv1");
  b->add(std::make_unique<BatchNorm2d<T>>(width), "bn1");
  b->add(std::make_unique<ReLU<T>>(), "relu1");
  b->add(std::make_unique<Conv2d<T>>(width, width, 3, stride, 1, cardinality), "conv2");
  b->add(std::make_unique<BatchNorm2d<T>>(width), "bn2");
  b->add(std::make_unique<ReLU<T>>(), "relu2");
  b->add(std::make_unique<Conv2d<T>>(width, cout, 1), "conv3");
  b->add(std::make_unique<BatchNorm2d<T>>(cout), "bn3");
  return block<T>(std::move(b), cin, cout, stride);
}

// The twins' _Residual48: stem, layer1..layer4 (`make_block(stage, index, cin)` returns a block and
// its output channels), pool, flatten, dropout, fc.
template <class T, class MakeBlock>
inline Model<T> residual_48(std::int64_t stem, std::int64_t blocks, MakeBlock&& make_block, std::uint64_t seed,
                            int num_classes, const Shape& input, double dropout,
                            std::map<std::string, std::string> metadata) {
  auto net = std::make_unique<Sequential<T>>();
  net->add(std::make_unique<Conv2d<T>>(input[0], stem, 3, 1, 1), "conv1");
  net->add(std::make_unique<BatchNorm2d<T>>(stem), "bn1");
  net->add(std::make_unique<ReLU<T>>(), "relu");
  std::int64_t cin = stem;
  for (int i = 0; i < 4; ++i) {
    auto layer = std::make_unique<Sequential<T>>();
    for (std::int64_t j = 0; j < blocks; ++j) {
      auto [b, cout] = make_block(i, j, cin);
      layer->add(std::move(b));
      cin = cout;
    }
    net->add(std::move(layer), "layer" + std::to_string(i + 1));
  }
  net->add(std::make_unique<GlobalAvgPool<T>>(), "pool");
  net->add(std::make_unique<Flatten<T>>(), "flatten");
  net->add(std::make_unique<Dropout<T>>(dropout), "dropout");
  net->add(std::make_unique<Linear<T>>(cin, num_classes), "fc");
  return Model<T>(std::move(net), input, seed, std::move(metadata));
}

inline void check_common(const char* model, std::int64_t w, std::int64_t blocks, int num_classes, const Shape& input) {
  MOODNET_CHECK(w >= 1 && w <= 1024, model, ": width w must be in [1, 1024], got ", w);
  MOODNET_CHECK(blocks >= 1 && blocks <= 16, model, ": blocks per stage must be in [1, 16], got ", blocks);
  MOODNET_CHECK(num_classes >= 1, model, ": num_classes must be >= 1, got ", num_classes);
  check_image_input(input, 1, model, "a non-empty image");
}

}  // namespace resnet_detail

// ResNet-48(w, blocks): basic blocks at widths w, 2w, 4w, 8w (blocks 1: ResNet-10-48, 2: ResNet-18-48).
template <class T = float>
inline Model<T> make_resnet_48(std::int64_t w = 32, std::int64_t blocks = 1, std::uint64_t seed = 0,
                               int num_classes = kDefaultNumClasses, Shape input = default_input_shape(),
                               double dropout = 0.2) {
  resnet_detail::check_common("ResNet-48", w, blocks, num_classes, input);
  auto make_block = [&](int stage, std::int64_t j, std::int64_t cin) {
    const std::int64_t c = w << stage, stride = j == 0 && stage > 0 ? 2 : 1;
    return std::pair{resnet_detail::basic_block<T>(cin, c, stride), c};
  };
  return resnet_detail::residual_48<T>(
      w, blocks, make_block, seed, num_classes, input, dropout,
      {{"model", "resnet"}, {"w", std::to_string(w)}, {"blocks", std::to_string(blocks)}});
}

// ResNeXt-48(cardinality, group_width, w, blocks): bottleneck blocks, stage i outputs w * 2^i channels
// through a grouped 3x3 of cardinality * group_width * 2^i channels (defaults: 8x4d, w 64, 2 blocks).
template <class T = float>
inline Model<T> make_resnext_48(std::int64_t cardinality = 8, std::int64_t group_width = 4, std::int64_t w = 64,
                                std::int64_t blocks = 2, std::uint64_t seed = 0, int num_classes = kDefaultNumClasses,
                                Shape input = default_input_shape(), double dropout = 0.2) {
  resnet_detail::check_common("ResNeXt-48", w, blocks, num_classes, input);
  MOODNET_CHECK(cardinality >= 1 && cardinality <= 256, "ResNeXt-48: cardinality must be in [1, 256], got ",
                cardinality);
  MOODNET_CHECK(group_width >= 1 && group_width <= 1024, "ResNeXt-48: group_width must be in [1, 1024], got ",
                group_width);
  auto make_block = [&](int stage, std::int64_t j, std::int64_t cin) {
    const std::int64_t c = w << stage, width = (cardinality * group_width) << stage;
    const std::int64_t stride = j == 0 && stage > 0 ? 2 : 1;
    return std::pair{resnet_detail::bottleneck<T>(cin, c, stride, width, cardinality), c};
  };
  return resnet_detail::residual_48<T>(std::max<std::int64_t>(1, w / 2), blocks, make_block, seed, num_classes,
                                       input, dropout,
                                       {{"model", "resnext"},
                                        {"cardinality", std::to_string(cardinality)},
                                        {"group_width", std::to_string(group_width)},
                                        {"w", std::to_string(w)},
                                        {"blocks", std::to_string(blocks)}});
}

// The registry's builders (models/registry.hpp): size arguments "w", "blocks" (and "cardinality",
// "group_width").
template <class T>
inline Model<T> resnet_48_from_spec(const ModelSpec& s) {
  return make_resnet_48<T>(s.int_arg("w"), s.int_arg("blocks"), s.seed, s.num_classes, s.input);
}
template <class T>
inline Model<T> resnext_48_from_spec(const ModelSpec& s) {
  return make_resnext_48<T>(s.int_arg("cardinality"), s.int_arg("group_width"), s.int_arg("w"), s.int_arg("blocks"),
                            s.seed, s.num_classes, s.input);
}

}  // namespace moodnet
