// Winograd inside the plan (graph/conv_algorithm.hpp): a network whose dense 3x3 stride-1 layers
// run F(2x2) or F(4x4) computes what the standard kernels do (double: to rounding; float: within
// Winograd's error), in training and in eval (batchnorm folded into its forward); a measured table
// measures each shape once and, read back from its text, gives the same bits; the text format and
// its errors; the choice's margins.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "../support/check.hpp"
#include "../support/nets.hpp"
#include "moodnet/graph/conv_algorithm.hpp"
#include "moodnet/models.hpp"

using namespace moodnet;
using graph::ConvAlgorithm;
using graph::ConvAlgorithms;
using graph::ConvAlgorithmTable;

namespace {

// Output, input gradient and parameter gradients of one training step (dy fixed) and the eval
// output, of small_resnet (3x3 layers at 20x20 and 10x10, a stride-2 one and a 1x1 projection).
template <class T>
struct StepResult {
  Tensor<T> y, dx, grads, eval_y;
};

template <class T>
Tensor<T> snapshot(TensorView<const T> v) {
  Tensor<T> t(v.shape());
  t.copy_from(v);
  return t;
}

template <class T>
StepResult<T> run_small_resnet(std::shared_ptr<ConvAlgorithmTable> table, std::string* described = nullptr) {
  Model<T> m(test::small_resnet<T>(), Shape{1, 20, 20}, 3);
  m.set_input_grad(true);
  m.set_conv_algorithms(table);
  const Tensor<T> x = test::random_tensor<T>({3, 1, 20, 20}, 11);
  const Tensor<T> dy = test::random_tensor<T>({3, 7}, 12);
  StepResult<T> r;
  m.train();
  r.y = snapshot<T>(m.forward(x));
  r.dx = snapshot<T>(m.backward(dy));
  r.grads = snapshot<T>(m.parameter_grads());
  if (described)
    for (const auto& s : m.plan(x.shape()).steps()) *described += s->name + ": " + s->describe() + "\n";
  m.eval();
  r.eval_y = snapshot<T>(m.forward(x));
  return r;
}

template <class T>
void check_close(const StepResult<T>& a, const StepResult<T>& b, double tol) {
  {
    INFO("training output");
    MOODNET_REQUIRE_CLOSE(a.y, b.y, tol);
  }
  {
    INFO("input gradient");
    MOODNET_REQUIRE_CLOSE(a.dx, b.dx, tol);
  }
  {
    INFO("parameter gradients");
    MOODNET_REQUIRE_CLOSE(a.grads, b.grads, tol);
  }
  {
    INFO("eval output (batchnorm folded)");
    MOODNET_REQUIRE_CLOSE(a.eval_y, b.eval_y, tol);
  }
}

ConvAlgorithms all(ConvAlgorithm a) { return {a, a, a}; }

}  // namespace

TEST_CASE("Winograd in the plan computes the standard kernels' results", "[graph][winograd]") {
  const StepResult<double> ref = run_small_resnet<double>(nullptr);
  const StepResult<float> ref_f = run_small_resnet<float>(nullptr);
  for (ConvAlgorithm a : {ConvAlgorithm::winograd_f2, ConvAlgorithm::winograd_f4}) {
    INFO(graph::algorithm_name(a));
    auto table = std::make_shared<ConvAlgorithmTable>(ConvAlgorithmTable::everywhere(all(a)));
    std::string described;
    check_close(run_small_resnet<double>(table, &described), ref, test::kDoubleTol);
    INFO(described);
    // Every dense stride-1 3x3 layer says what it runs; the stride-2 and the grouped 3x3 and the
    // 1x1 projection run the standard kernels.
    const std::string tag = std::string(" [") + all(a).str() + "]";
    CHECK(described.find("conv1: 1->8, k3 s1 p1" + tag) != std::string::npos);
    CHECK(described.find("layer1.0.conv2: 8->8, k3 s1 p1" + tag) != std::string::npos);
    CHECK(described.find("layer2.0.conv1: 8->16, k3 s2 p1\n") != std::string::npos);
    CHECK(described.find("layer2.0.conv2: 16->16, k3 s1 p1 g4\n") != std::string::npos);
    CHECK(described.find("layer2.0.downsample.0: 8->16, k1 s2 p0\n") != std::string::npos);
    // Float: Winograd's error (docs/kernels.md: F(4x4) about 10x the direct kernels').
    check_close(run_small_resnet<float>(table), ref_f, a == ConvAlgorithm::winograd_f2 ? 1e-3 : 1e-2);
  }
  // One pass at a time: each is wired to its own kernel.
  const ConvAlgorithms one_pass[3] = {{ConvAlgorithm::winograd_f4, ConvAlgorithm::standard, ConvAlgorithm::standard},
                                      {ConvAlgorithm::standard, ConvAlgorithm::winograd_f4, ConvAlgorithm::standard},
                                      {ConvAlgorithm::standard, ConvAlgorithm::standard, ConvAlgorithm::winograd_f4}};
  for (const ConvAlgorithms& a : one_pass) {
    INFO(a.str());
    check_close(run_small_resnet<double>(std::make_shared<ConvAlgorithmTable>(ConvAlgorithmTable::everywhere(a))), ref,
                test::kDoubleTol);
  }
}

TEST_CASE("A measured table measures each shape once and pins its choices when read back", "[graph][winograd]") {
  auto measured = std::make_shared<ConvAlgorithmTable>(ConvAlgorithmTable::Policy::measured);
  const StepResult<float> first = run_small_resnet<float>(measured);
  // small_resnet at batch 3: the stem 1->8 and the two 8->8 layers (one shape) at 20x20 (the
  // stride-2, grouped and 1x1 layers are not Winograd's); the eval plan of the same shapes adds none.
  REQUIRE(measured->measurements().size() == 2);
  CHECK(measured->entries().size() == 2);
  for (const auto& m : measured->measurements()) {
    INFO(graph::format_conv_measurement(m));
    for (const auto& pass : m.ms)
      for (double ms : pass) CHECK(ms > 0);
    CHECK(measured->entries().at(m.key) == m.chosen);
    CHECK(graph::format_conv_measurement(m).rfind("winograd: " + m.key + ": forward ", 0) == 0);
  }
  CHECK(measured->entries().count("N3 C8 K8 20x20 p1") == 1);

  auto again = std::make_shared<ConvAlgorithmTable>(ConvAlgorithmTable::parse(measured->str(), "state"));
  CHECK(again->policy() == ConvAlgorithmTable::Policy::measured);
  CHECK(again->entries() == measured->entries());
  const StepResult<float> second = run_small_resnet<float>(again);
  CHECK(again->measurements().empty());  // nothing left to measure
  check_close(second, first, 0);          // the same algorithms: the same bits
}

TEST_CASE("ConvAlgorithmTable: the standard policy, text round trip and errors", "[graph][winograd]") {
  kernels::Conv2dParams p;
  p.N = 2, p.C = 3, p.K = 4, p.H = p.W = 9, p.pad_h = p.pad_w = 1;
  Workspace ws;
  ConvAlgorithmTable standard;
  CHECK(standard.choose<float>(p, ws) == ConvAlgorithms{});
  CHECK(standard.entries().empty());
  CHECK(graph::conv_shape_key(p) == "N2 C3 K4 9x9 p1");

  ConvAlgorithmTable fixed = ConvAlgorithmTable::everywhere(all(ConvAlgorithm::winograd_f2));
  CHECK(fixed.choose<float>(p, ws) == all(ConvAlgorithm::winograd_f2));
  kernels::Conv2dParams strided = p;
  strided.stride_h = strided.stride_w = 2;
  CHECK(fixed.choose<float>(strided, ws) == ConvAlgorithms{});  // not Winograd's shape
  CHECK(fixed.str() == "N2 C3 K4 9x9 p1=f2,f2,f2");               // recorded, as a run's state stores it

  ConvAlgorithmTable t;
  t.pin("N2 C3 K4 9x9 p1", {ConvAlgorithm::winograd_f4, ConvAlgorithm::standard, ConvAlgorithm::winograd_f2});
  t.pin("N64 C32 K64 24x24 p1", {});
  const std::string text = t.str();
  CHECK(text == "N2 C3 K4 9x9 p1=f4,standard,f2;N64 C32 K64 24x24 p1=standard,standard,standard");
  CHECK(ConvAlgorithmTable::parse(text, "s").entries() == t.entries());
  CHECK(ConvAlgorithmTable::parse(text, "s").choose<float>(p, ws) == t.entries().at("N2 C3 K4 9x9 p1"));
  CHECK(ConvAlgorithmTable::parse("", "s").entries().empty());
  CHECK(graph::conv_shape_key(strided) == graph::conv_shape_key(p));  // the key leaves out the stride:
  CHECK(t.choose<float>(strided, ws) == ConvAlgorithms{});             // an entry never reaches a strided layer

  CHECK_THROWS_WITH(ConvAlgorithmTable::parse("N2 C3=f2,f2", "run/last.state.safetensors"),
                    "run/last.state.safetensors: conv algorithm entry 'N2 C3=f2,f2' needs three algorithms "
                    "(forward,input,weight)");
  CHECK_THROWS_WITH(ConvAlgorithmTable::parse("N2=f2,f2,f2,f2", "s"),
                    "s: conv algorithm entry 'N2=f2,f2,f2,f2' has more than three algorithms");
  CHECK_THROWS_WITH(ConvAlgorithmTable::parse("N2=f2,f3,f2", "s"),
                    "s: conv algorithm 'f3' in entry 'N2=f2,f3,f2' is not standard, f2 or f4");
  CHECK_THROWS_WITH(ConvAlgorithmTable::parse("N2 f2,f2,f2", "s"),
                    "s: conv algorithm entry 'N2 f2,f2,f2' is not 'shape=forward,input,weight'");
  CHECK_THROWS_WITH(ConvAlgorithmTable::parse("a=f2,f2,f2;;b=f2,f2,f2", "s"),
                    "s: conv algorithm entry '' is not 'shape=forward,input,weight'");
}

TEST_CASE("ConvAlgorithmTable::fastest: Winograd only with a margin, F(4x4) only over F(2x2) with one",
          "[graph][winograd]") {
  const auto pick = [](double standard, double f2, double f4) {
    const double ms[3] = {standard, f2, f4};
    return ConvAlgorithmTable::fastest(ms);
  };
  CHECK(pick(10, 9.6, 9.7) == ConvAlgorithm::standard);     // 4% faster: inside the margin
  CHECK(pick(10, 9.0, 9.7) == ConvAlgorithm::winograd_f2);
  CHECK(pick(10, 9.0, 8.8) == ConvAlgorithm::winograd_f2);  // F4 under 5% better than F2
  CHECK(pick(10, 9.0, 8.0) == ConvAlgorithm::winograd_f4);
  CHECK(pick(10, 20, 8.0) == ConvAlgorithm::winograd_f4);
  CHECK(pick(5, 20, 8.0) == ConvAlgorithm::standard);
}

TEST_CASE("Conv2dStep refuses Winograd where it does not apply", "[graph][winograd]") {
  kernels::Conv2dParams p;
  p.N = 1, p.C = 2, p.K = 2, p.H = p.W = 8, p.stride_h = p.stride_w = 2, p.pad_h = p.pad_w = 1;
  Tensor<float> w({2, 2, 3, 3}), dw({2, 2, 3, 3});
  graph::Conv2dStep<float> step(p, w, dw, {}, {});
  CHECK_THROWS_WITH(step.set_algorithms(all(ConvAlgorithm::winograd_f2)),
                    "conv 2->2, k3 s2 p1: Winograd needs a dense 3x3 kernel with stride 1");
  CHECK_NOTHROW(step.set_algorithms({}));
}
