// The README's "training step by hand", as a program: builds CustomNet-48 (w 8), takes three SGD
// steps on one random batch, prints the loss of each and saves the weights.
#include <moodnet/moodnet.hpp>

#include <cstdio>
#include <iostream>
#include <vector>

using namespace moodnet;

int main() {
  set_num_threads(2);
  Model<float> model = make_customnet_48(8, /*seed=*/1);
  std::cout << model.summary(16);

  OptimizerConfig oc;
  oc.lr = 0.05;
  Optimizer<float> opt(model.arena(), oc);
  CrossEntropyLoss<float> loss(/*label_smoothing=*/0.1);

  Tensor<float> x({16, 1, 48, 48});
  fill_normal(x.view(), 7, 0.0, 1.0);
  std::vector<std::int32_t> labels(16);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int32_t>(i % 7);

  model.train();
  for (int step = 0; step < 3; ++step) {
    model.set_step(step);
    model.zero_grad();
    const double l = loss.forward_backward(model.forward(x), labels.data());
    model.backward(loss.gradient());
    opt.step();
    std::printf("step %d: loss %.4f\n", step, l);
  }
  io::ModelMetadata metadata;  // the registered name and size build the same network on load
  metadata.model = "customnet";
  metadata.size = {{"w", 8}};
  io::save_weights("training_step.safetensors", model, metadata);
  std::printf("saved training_step.safetensors\n");
}
