// A whole small network — conv, BN, depthwise, GN, max-pool, residual (identity and projection, and a
// basic block whose join is add + ReLU),
// average pool, global pool, dropout (off), linear — passes a finite-difference gradient check in
// double: every parameter and the input, through the cross-entropy loss.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "../support/check.hpp"
#include "../support/nets.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/model.hpp"

using namespace moodnet;

namespace {

std::unique_ptr<Sequential<double>> small_network() {
  auto net = std::make_unique<Sequential<double>>();
  net->emplace<Conv2d<double>>(2, 4, 3, 1, 1, 1, true);
  net->emplace<BatchNorm2d<double>>(4);
  net->emplace<LeakyReLU<double>>(0.1);
  net->emplace<DepthwiseConv2d<double>>(4, 3, 2, 1);
  net->emplace<GroupNorm<double>>(2, 4);
  net->emplace<ReLU6<double>>();
  auto body = std::make_unique<Sequential<double>>();
  body->emplace<Conv2d<double>>(4, 4, 3, 1, 1);
  body->emplace<BatchNorm2d<double>>(4);
  net->add(std::make_unique<Residual<double>>(std::move(body)));  // identity shortcut
  auto body2 = std::make_unique<Sequential<double>>();
  body2->emplace<Conv2d<double>>(4, 6, 3, 1, 1, 2);  // grouped
  net->add(std::make_unique<Residual<double>>(std::move(body2), std::make_unique<Conv2d<double>>(4, 6, 1)));
  net->add(resnet_detail::basic_block<double>(6, 6, 1, 2));  // torchvision-style block: add + ReLU join
  net->emplace<MaxPool2d<double>>(2);
  net->emplace<AvgPool2d<double>>(3, 1, 1);
  net->emplace<GlobalAvgPool<double>>();
  net->emplace<Flatten<double>>();
  net->emplace<Dropout<double>>(0.3);
  net->emplace<Linear<double>>(6, 5);
  return net;
}

}  // namespace

TEST_CASE("A small network's analytic gradients match central finite differences in double", "[layers][gradient]") {
  Model<double> model(small_network(), Shape{2, 9, 7}, /*seed=*/3);
  model.train();
  model.set_input_grad(true);
  // Dropout off for the check (its mask would change between the perturbed evaluations).
  model.for_each_layer([](const std::string&, Layer<double>& l) {
    if (l.type_name() == "Dropout") l.set_training(false);
  });
  Tensor<double> x = test::random_tensor<double>(Shape{3, 2, 9, 7}, 11);
  const std::vector<std::int32_t> labels = {0, 4, 2};
  CrossEntropyLoss<double> loss(0.1);

  auto evaluate = [&] { return loss.forward(model.forward(x), labels.data()); };
  model.zero_grad();
  const double l0 = loss.forward_backward(model.forward(x), labels.data());
  // The input gradient lives in the plan's arena until the next forward: keep a copy.
  Tensor<double> dx_copy = Tensor<double>::uninitialized(x.shape());
  dx_copy.copy_from(model.backward(loss.gradient()));
  CHECK(std::isfinite(l0));

  const std::vector<double> num_dp =
      test::numeric_gradient(model.parameter_values().data(), model.num_parameters(), evaluate);
  const auto e_params = test::compare(model.parameter_grads().data(), num_dp.data(), model.num_parameters());
  INFO("parameters: " << model.num_parameters() << ", max abs error " << e_params.max_abs << " at index "
                      << e_params.worst_index);
  CHECK(e_params.max_abs < 1e-6);

  const std::vector<double> num_dx = test::numeric_gradient(x.data(), x.numel(), evaluate);
  const auto e_input = test::compare(dx_copy.data(), num_dx.data(), x.numel());
  INFO("input: max abs error " << e_input.max_abs << " at index " << e_input.worst_index);
  CHECK(e_input.max_abs < 1e-6);

  // The gradient is not trivially zero anywhere it matters.
  double norm = 0;
  for (double g : model.parameter_grads()) norm += g * g;
  CHECK(norm > 1e-6);
}
