// training_fingerprint: a hash of every bit a few training steps produce, to tell whether a change
// to the execution path (the plan, a pass, a kernel reordering) is bit-identical.
//
// Builds, from the public layers only, a CustomNet-48 w 8, a MobileNet-V1-48 alpha 0.25 and a
// residual network (identity and projection blocks with the join ReLU, a grouped convolution,
// GroupNorm, dropout), then for each: 3 training steps (forward, cross-entropy, backward, plain
// SGD over the parameter arena) and one eval forward, printing a 64-bit FNV-1a hash of the logits,
// the gradients, the weights and the batchnorm buffers after each step. Two builds of the same
// flags that print the same lines computed the same bits.
//
//   g++ -O3 -march=native -fopenmp -std=c++20 -I include -I /usr/include/eigen3 -I /usr/include/stb \
//       tools/training_fingerprint.cpp -o /tmp/fingerprint && /tmp/fingerprint
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/core/hash.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/model.hpp"

using namespace moodnet;

namespace {

// FNV-1a (core/hash.hpp) from the basis this tool has always started at, a digit short of FNV-1a's
// (14695981039346656037): kept, so that its lines still compare with those of older trees.
std::uint64_t fnv(const void* data, std::size_t bytes, std::uint64_t h = 1469598103934665603ull) {
  return fnv1a_bytes(data, bytes, h);
}

std::unique_ptr<Sequential<float>> customnet(std::int64_t w) {
  auto f = std::make_unique<Sequential<float>>();
  std::int64_t cin = 1;
  for (std::int64_t c : {w, 2 * w, 4 * w, 8 * w}) {
    f->emplace<Conv2d<float>>(cin, c, 3, 1, 1);
    f->emplace<BatchNorm2d<float>>(c);
    f->emplace<ReLU<float>>();
    f->emplace<Conv2d<float>>(c, c, 3, 1, 1);
    f->emplace<GroupNorm<float>>(8, c);
    f->emplace<ReLU<float>>();
    f->emplace<MaxPool2d<float>>(2);
    f->emplace<Dropout<float>>(0.25);
    cin = c;
  }
  auto net = std::make_unique<Sequential<float>>();
  net->add(std::move(f), "features");
  net->add(std::make_unique<GlobalAvgPool<float>>(), "pool");
  net->add(std::make_unique<Flatten<float>>(), "flatten");
  auto head = std::make_unique<Sequential<float>>();
  head->emplace<Linear<float>>(8 * w, 32);
  head->emplace<ReLU<float>>();
  head->emplace<Dropout<float>>(0.5);
  head->emplace<Linear<float>>(32, 7);
  net->add(std::move(head), "head");
  return net;
}

std::unique_ptr<Sequential<float>> mobilenet() {
  const int blocks[][3] = {{8, 16, 1}, {16, 32, 2}, {32, 32, 1}, {32, 64, 2}, {64, 128, 2}, {128, 256, 2}};
  auto f = std::make_unique<Sequential<float>>();
  f->emplace<Conv2d<float>>(1, 8, 3, 1, 1);
  f->emplace<BatchNorm2d<float>>(8);
  f->emplace<ReLU<float>>();
  for (const auto& b : blocks) {
    f->emplace<DepthwiseConv2d<float>>(b[0], 3, b[2], 1);
    f->emplace<BatchNorm2d<float>>(b[0]);
    f->emplace<ReLU<float>>();
    f->emplace<Conv2d<float>>(b[0], b[1], 1);
    f->emplace<BatchNorm2d<float>>(b[1]);
    f->emplace<ReLU<float>>();
  }
  auto net = std::make_unique<Sequential<float>>();
  net->add(std::move(f), "features");
  net->add(std::make_unique<GlobalAvgPool<float>>(), "pool");
  net->add(std::make_unique<Flatten<float>>(), "flatten");
  net->add(std::make_unique<Dropout<float>>(0.2), "dropout");
  net->add(std::make_unique<Linear<float>>(256, 7), "fc");
  return net;
}

std::unique_ptr<Sequential<float>> basic_block(std::int64_t cin, std::int64_t cout, std::int64_t stride, std::int64_t groups) {
  auto body = std::make_unique<Sequential<float>>();
  body->add(std::make_unique<Conv2d<float>>(cin, cout, 3, stride, 1), "conv1");
  body->add(std::make_unique<BatchNorm2d<float>>(cout), "bn1");
  body->add(std::make_unique<ReLU<float>>(), "relu");
  body->add(std::make_unique<Conv2d<float>>(cout, cout, 3, 1, 1, groups), "conv2");
  body->add(std::make_unique<BatchNorm2d<float>>(cout), "bn2");
  std::unique_ptr<Sequential<float>> shortcut;
  if (stride != 1 || cin != cout) {
    shortcut = std::make_unique<Sequential<float>>();
    shortcut->emplace<Conv2d<float>>(cin, cout, 1, stride);
    shortcut->emplace<BatchNorm2d<float>>(cout);
  }
  auto block = std::make_unique<Sequential<float>>();
  block->add(std::make_unique<Residual<float>>(std::move(body), std::move(shortcut)), "join");
  block->add(std::make_unique<ReLU<float>>(), "relu");
  return block;
}

std::unique_ptr<Sequential<float>> resnet() {
  auto net = std::make_unique<Sequential<float>>();
  net->add(std::make_unique<Conv2d<float>>(1, 16, 3, 1, 1), "conv1");
  net->add(std::make_unique<BatchNorm2d<float>>(16), "bn1");
  net->add(std::make_unique<ReLU<float>>(), "relu");
  net->add(basic_block(16, 16, 1, 1), "layer1");
  net->add(basic_block(16, 32, 2, 4), "layer2");
  net->add(basic_block(32, 32, 1, 8), "layer3");
  net->add(std::make_unique<GroupNorm<float>>(4, 32), "gn");
  net->add(std::make_unique<MaxPool2d<float>>(2), "pool0");
  net->add(std::make_unique<GlobalAvgPool<float>>(), "pool");
  net->add(std::make_unique<Flatten<float>>(), "flatten");
  net->add(std::make_unique<Dropout<float>>(0.3), "dropout");
  net->add(std::make_unique<Linear<float>>(32, 7), "fc");
  return net;
}

void run(const char* name, std::unique_ptr<Sequential<float>> net) {
  Model<float> model(std::move(net), Shape{1, 48, 48}, /*seed=*/7);
  const std::int64_t n = 6;
  Tensor<float> x({n, 1, 48, 48});
  Rng rng(11);
  for (float& v : x) v = static_cast<float>(rng.uniform() * 2 - 1);
  std::vector<std::int32_t> labels(n);
  for (std::int64_t i = 0; i < n; ++i) labels[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 7);
  CrossEntropyLoss<float> loss(0.1);
  model.train();
  for (int step = 0; step < 3; ++step) {
    model.zero_grad();
    model.set_step(static_cast<std::uint64_t>(step));
    const TensorView<const float> logits = model.forward(x);
    std::uint64_t h = fnv(logits.data(), sizeof(float) * logits.numel());
    const double l = loss.forward_backward(logits, labels.data());
    model.backward(loss.gradient());
    TensorView<float> w = model.parameter_values(), g = model.parameter_grads();
    h = fnv(g.data(), sizeof(float) * g.numel(), h);
    for (std::int64_t i = 0; i < w.numel(); ++i) w[i] -= 0.05f * g[i];
    h = fnv(w.data(), sizeof(float) * w.numel(), h);
    for (auto& b : model.named_buffers())
      h = b.buffer.counter ? fnv(b.buffer.counter, sizeof(std::int64_t), h)
                           : fnv(b.buffer.values.data(), sizeof(float) * b.buffer.values.numel(), h);
    std::printf("%-10s train step %d  loss %.9g  hash %016llx\n", name, step, l, static_cast<unsigned long long>(h));
  }
  model.eval();
  const TensorView<const float> logits = model.forward(x);
  std::printf("%-10s eval          hash %016llx\n", name,
              static_cast<unsigned long long>(fnv(logits.data(), sizeof(float) * logits.numel())));
}

}  // namespace

int main() {
  run("customnet", customnet(8));
  run("mobilenet", mobilenet());
  run("resnet", resnet());
}
