// A stop request (Ctrl-C) inside one long evaluation: while an InterruptibleEvaluation is alive
// (the trainer's final report), evaluate stops before the next forward batch with
// EvaluationInterrupted; without one (predict, evaluate, validation) a stop flag changes nothing.
#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <vector>

#include "moodnet/models/registry.hpp"
#include "moodnet/train/evaluate.hpp"
#include "moodnet/train/signal.hpp"

using namespace moodnet;

TEST_CASE("evaluate: a stop request ends an interruptible evaluation before the next batch", "[train][evaluate]") {
  const data::ImageShape shape{1, 16, 16};
  data::Dataset d = data::Dataset::with_capacity({"a", "b"}, 40, shape, "stop-test");
  for (std::int64_t i = 0; i < d.images.numel(); ++i) d.images[i] = static_cast<std::uint8_t>(i * 7);
  for (std::int64_t i = 0; i < d.size(); ++i) {
    d.labels[i] = static_cast<std::int32_t>(i % 2);
    d.keys[static_cast<std::size_t>(i)] = "img" + std::to_string(i);
  }
  ModelSpec spec;
  spec.input = {1, 16, 16};
  spec.num_classes = 2;
  spec.size = {{"w", 8}};
  Model<float> model = build_model<float>("customnet", spec);
  const data::Normalization norm{{0.5f}, {0.25f}};

  train::clear_stop_request();
  const train::EvalResult full = train::evaluate(model, d, norm, train::Tta::flip, 8);
  train::detail::stop_signal.store(SIGINT);  // as the handler does on Ctrl-C
  SECTION("outside an InterruptibleEvaluation the flag is not looked at") {
    const train::EvalResult again = train::evaluate(model, d, norm, train::Tta::flip, 8);
    CHECK(again.loss == full.loss);
    CHECK(again.confusion.correct() == full.confusion.correct());
  }
  SECTION("inside one the evaluation stops, and the model keeps its mode") {
    model.train();
    {
      const train::InterruptibleEvaluation interruptible;
      CHECK_THROWS_AS(train::evaluate(model, d, norm, train::Tta::flip, 8), train::EvaluationInterrupted);
    }
    CHECK(model.training());
    const train::EvalResult after = train::evaluate(model, d, norm, train::Tta::none, 8);  // guard gone
    CHECK(after.confusion.total() == 40);
  }
  train::clear_stop_request();
}
