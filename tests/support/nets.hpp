#pragma once
// Small networks built from the public layers and models/resnet.hpp's basic block, shared by the
// plan and fusion tests.
#include <cstdint>
#include <memory>

#include "moodnet/layers.hpp"
#include "moodnet/models/resnet.hpp"

namespace moodnet::test {

// A small residual network on [in, H, W] inputs: stem, an identity block, a strided projection
// block with a grouped convolution, GroupNorm + ReLU, pooling, dropout, fc.
template <class T>
inline std::unique_ptr<Sequential<T>> small_resnet(std::int64_t in = 1, std::int64_t classes = 7) {
  auto net = std::make_unique<Sequential<T>>();
  net->add(std::make_unique<Conv2d<T>>(in, 8, 3, 1, 1), "conv1");
  net->add(std::make_unique<BatchNorm2d<T>>(8), "bn1");
  net->add(std::make_unique<ReLU<T>>(), "relu");
  auto layer1 = std::make_unique<Sequential<T>>();
  layer1->add(resnet_detail::basic_block<T>(8, 8, 1));
  net->add(std::move(layer1), "layer1");
  auto layer2 = std::make_unique<Sequential<T>>();
  layer2->add(resnet_detail::basic_block<T>(8, 16, 2, 4));
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
