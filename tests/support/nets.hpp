#pragma once
// Small networks built from the public layers, shared by the plan and fusion tests.
#include <cstdint>
#include <memory>

#include "moodnet/layers.hpp"

namespace moodnet::test {

// A torchvision-style basic block: conv1 bn1 relu conv2 bn2 (+ downsample) then add + ReLU, with
// the names at the block's level ("conv1", "downsample.0"). groups > 1 makes conv2 grouped.
template <class T>
inline std::unique_ptr<Residual<T>> basic_block(std::int64_t cin, std::int64_t cout, std::int64_t stride,
                                                std::int64_t groups = 1) {
  auto body = std::make_unique<Sequential<T>>();
  body->add(std::make_unique<Conv2d<T>>(cin, cout, 3, stride, 1), "conv1");
  body->add(std::make_unique<BatchNorm2d<T>>(cout), "bn1");
  body->add(std::make_unique<ReLU<T>>(), "relu");
  body->add(std::make_unique<Conv2d<T>>(cout, cout, 3, 1, 1, groups), "conv2");
  body->add(std::make_unique<BatchNorm2d<T>>(cout), "bn2");
  std::unique_ptr<Sequential<T>> shortcut;
  if (stride != 1 || cin != cout) {
    shortcut = std::make_unique<Sequential<T>>();
    shortcut->template emplace<Conv2d<T>>(cin, cout, 1, stride);
    shortcut->template emplace<BatchNorm2d<T>>(cout);
  }
  ResidualOptions o;
  o.body_name = "", o.shortcut_name = "downsample", o.relu_after = true;
  return std::make_unique<Residual<T>>(std::move(body), std::move(shortcut), o);
}

// A small residual network on [in, H, W] inputs: stem, an identity block, a strided projection
// block with a grouped convolution, GroupNorm + ReLU, pooling, dropout, fc.
template <class T>
inline std::unique_ptr<Sequential<T>> small_resnet(std::int64_t in = 1, std::int64_t classes = 7) {
  auto net = std::make_unique<Sequential<T>>();
  net->add(std::make_unique<Conv2d<T>>(in, 8, 3, 1, 1), "conv1");
  net->add(std::make_unique<BatchNorm2d<T>>(8), "bn1");
  net->add(std::make_unique<ReLU<T>>(), "relu");
  auto layer1 = std::make_unique<Sequential<T>>();
  layer1->add(basic_block<T>(8, 8, 1));
  net->add(std::move(layer1), "layer1");
  auto layer2 = std::make_unique<Sequential<T>>();
  layer2->add(basic_block<T>(8, 16, 2, 4));
  net->add(std::move(layer2), "layer2");
  net->add(std::make_unique<GroupNorm<T>>(4, 16), "gn");
  net->add(std::make_unique<ReLU<T>>(), "gn_relu");
  net->add(std::make_unique<MaxPool2d<T>>(2), "maxpool");
  net->add(std::make_unique<GlobalAvgPool<T>>(), "pool");
  net->add(std::make_unique<Flatten<T>>(), "flatten");
  net->add(std::make_unique<Dropout<T>>(0.2), "dropout");
  net->add(std::make_unique<Linear<T>>(16, classes), "fc");
  return net;
}

}  // namespace moodnet::test
