// End-to-end training pieces: a small CNN overfits 32 real FER-2013 images (the bundled sample)
// to 100% training accuracy, and a training step gives bit-identical weights on 1 and 2 threads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/kernels/cross_entropy.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models.hpp"
#include "moodnet/optim/optimizer.hpp"

using namespace moodnet;

namespace {

// The first 32 images of the bundled sample's train split, normalised: x [32, 1, 48, 48], labels [32].
struct FixedBatch {
  Tensor<float> x;
  std::vector<std::int32_t> labels;
};
FixedBatch sample_batch(std::int64_t n) {
  const data::Dataset d =
      data::load_fer2013(std::string(MOODNET_SOURCE_DIR) + "/data/fer2013-sample", data::Split::train);
  REQUIRE(d.size() >= n);
  // Spread over classes: take every (size/n)-th image.
  FixedBatch b{Tensor<float>({n, 1, 48, 48}), {}};
  const data::Normalization norm = data::compute_normalization(d);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t src = i * (d.size() / n);
    data::normalize_pixels(d.image(src), b.x.data() + i * data::kImagePixels, data::kImagePixels, norm);
    b.labels.push_back(d.label(src));
  }
  return b;
}

double accuracy(TensorView<const float> logits, const std::vector<std::int32_t>& labels) {
  std::vector<std::int32_t> pred(labels.size());
  kernels::argmax_rows(logits.data(), logits.dim(0), logits.dim(1), pred.data());
  std::int64_t ok = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) ok += pred[i] == labels[i];
  return double(ok) / double(labels.size());
}

}  // namespace

TEST_CASE("A small CNN overfits 32 real FER images to 100% training accuracy", "[models][training]") {
  const FixedBatch batch = sample_batch(32);
  std::set<int> classes(batch.labels.begin(), batch.labels.end());
  REQUIRE(classes.size() == 7);

  auto net = std::make_unique<Sequential<float>>();
  net->emplace<Conv2d<float>>(1, 8, 3, 1, 1);
  net->emplace<BatchNorm2d<float>>(8);
  net->emplace<ReLU<float>>();
  net->emplace<MaxPool2d<float>>(2);
  net->emplace<Conv2d<float>>(8, 16, 3, 2, 1);
  net->emplace<GroupNorm<float>>(4, 16);
  net->emplace<ReLU<float>>();
  net->emplace<GlobalAvgPool<float>>();
  net->emplace<Flatten<float>>();
  net->emplace<Linear<float>>(16, 7);
  Model<float> model(std::move(net), Shape{1, 48, 48}, 1);
  OptimizerConfig oc;
  oc.name = "adam";
  oc.lr = 0.02;
  oc.weight_decay = 0;
  Optimizer<float> opt(model.arena(), oc);
  CrossEntropyLoss<float> loss;

  model.train();
  double first_loss = 0, last_loss = 0, acc = 0;
  int steps = 0;
  for (; steps < 400 && acc < 1.0; ++steps) {
    model.zero_grad();
    const double l = loss.forward_backward(model.forward(batch.x), batch.labels.data());
    model.backward(loss.gradient());
    opt.step();
    if (steps == 0) first_loss = l;
    last_loss = l;
    if (steps % 10 == 9) {
      model.eval();
      acc = accuracy(model.forward(batch.x), batch.labels);
      model.train();
    }
  }
  INFO("steps " << steps << ", loss " << first_loss << " -> " << last_loss);
  CHECK(acc == 1.0);
  CHECK(last_loss < 0.5 * first_loss);
}

TEST_CASE("A training step gives the same weights with 1 and 2 threads", "[models][training]") {
  const FixedBatch batch = sample_batch(8);
  auto run = [&](int threads, const std::string& optimizer) {
    set_num_threads(threads);
    Model<float> m = make_customnet_48(8, 5);
    OptimizerConfig oc;
    oc.name = optimizer;
    oc.lr = 0.01;
    oc.clip_grad_norm = 5.0;
    Optimizer<float> opt(m.arena(), oc);
    CrossEntropyLoss<float> loss(0.1);
    m.train();
    for (std::uint64_t step = 0; step < 2; ++step) {
      m.set_step(step);
      m.zero_grad();
      loss.forward_backward(m.forward(batch.x), batch.labels.data());
      m.backward(loss.gradient());
      opt.step();
    }
    std::vector<float> w(m.parameter_values().begin(), m.parameter_values().end());
    for (auto& b : m.named_buffers())
      if (!b.buffer.counter) w.insert(w.end(), b.buffer.values.begin(), b.buffer.values.end());
    return w;
  };
  for (const std::string optimizer : {"sgd", "adamw"}) {
    const std::vector<float> one = run(1, optimizer), two = run(2, optimizer);
    set_num_threads(2);
    REQUIRE(one.size() == two.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < one.size(); ++i) differ += one[i] != two[i];
    CHECK(differ == 0);
    // And the step really changed the weights.
    Model<float> fresh = make_customnet_48(8, 5);
    std::size_t moved = 0;
    for (std::int64_t i = 0; i < fresh.num_parameters(); ++i) moved += fresh.parameter_values()[i] != one[i];
    CHECK(moved > std::size_t(fresh.num_parameters() / 2));
  }
}
