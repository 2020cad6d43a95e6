#include "moodnet/train/metrics.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "moodnet/train/confusion_matrix.hpp"

using moodnet::Tensor;
using moodnet::TensorView;
using namespace moodnet::train;

namespace {
const std::vector<std::string> kClasses = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
}

TEST_CASE("count_correct takes the argmax of each row of logits", "[train][metrics]") {
  Tensor<float> logits({3, 4});
  logits(0, 2) = 5.0f;             // predicts 2
  logits(1, 0) = -1.0f;            // all others 0: the first 0 (index 1) wins
  logits(2, 3) = 0.5f, logits(2, 1) = 0.5f;  // a tie goes to the first maximum, 1
  const std::vector<std::int64_t> labels = {2, 1, 3};
  CHECK(argmax_row(TensorView<const float>(logits), 1) == 1);
  CHECK(count_correct(TensorView<const float>(logits), std::span<const std::int64_t>(labels)) == 2);
  const std::vector<int> too_few = {0};
  REQUIRE_THROWS_WITH(count_correct(TensorView<const float>(logits), std::span<const int>(too_few)),
                      Catch::Contains("1 labels for 3 rows"));
}

TEST_CASE("accuracy_sentence uses the student report's wording with 2 decimals", "[train][metrics]") {
  CHECK(accuracy_sentence(4620, 7178) == "Checking accuracy on test set: Got 4620 / 7178 correct (64.36%)");
  CHECK(accuracy_sentence(1, 3, "val set") == "Checking accuracy on val set: Got 1 / 3 correct (33.33%)");
  CHECK(accuracy_sentence(0, 0) == "Checking accuracy on test set: Got 0 / 0 correct (0.00%)");
  CHECK(accuracy(3, 4) == 0.75);
}

TEST_CASE("ConfusionMatrix: counts, precision, recall, F1, support, macro-F1", "[train][metrics]") {
  ConfusionMatrix cm({"a", "b", "c"});
  // true a: 3 right, 1 as b; true b: 2 right, 2 as c; true c: 1 right. Nothing predicted... all used.
  for (int i = 0; i < 3; ++i) cm.add(0, 0);
  cm.add(0, 1);
  cm.add(1, 1), cm.add(1, 1), cm.add(1, 2), cm.add(1, 2);
  cm.add(2, 2);
  CHECK(cm.total() == 9);
  CHECK(cm.correct() == 6);
  CHECK(cm.accuracy() == Approx(6.0 / 9));
  CHECK(cm.count(1, 2) == 2);
  CHECK(cm.support(0) == 4);
  CHECK(cm.predicted(2) == 3);
  CHECK(cm.precision(0) == Approx(1.0));
  CHECK(cm.recall(0) == Approx(0.75));
  CHECK(cm.f1(0) == Approx(2 * 0.75 / 1.75));
  CHECK(cm.precision(1) == Approx(2.0 / 3));
  CHECK(cm.recall(1) == Approx(0.5));
  CHECK(cm.precision(2) == Approx(1.0 / 3));
  CHECK(cm.recall(2) == Approx(1.0));
  const double f1_b = 2 * (2.0 / 3) * 0.5 / (2.0 / 3 + 0.5), f1_c = 2 * (1.0 / 3) / (4.0 / 3);
  CHECK(cm.macro_f1() == Approx((2 * 0.75 / 1.75 + f1_b + f1_c) / 3));

  REQUIRE_THROWS_WITH(cm.add(3, 0), Catch::Contains("true class 3 out of range [0, 3)"));
  REQUIRE_THROWS_WITH(cm.add(0, -1), Catch::Contains("predicted class -1"));
}

TEST_CASE("ConfusionMatrix: a class never predicted or never present scores 0, not NaN", "[train][metrics]") {
  ConfusionMatrix cm({"a", "b"});
  cm.add(0, 0), cm.add(0, 0);
  CHECK(cm.precision(1) == 0.0);
  CHECK(cm.recall(1) == 0.0);
  CHECK(cm.f1(1) == 0.0);
  CHECK(cm.macro_f1() == Approx(0.5));
  ConfusionMatrix empty({"a"});
  CHECK(empty.accuracy() == 0.0);
  CHECK(empty.macro_f1() == 0.0);
}

TEST_CASE("ConfusionMatrix: add_logits, merging and clearing", "[train][metrics]") {
  ConfusionMatrix cm(kClasses);
  Tensor<float> logits({2, 7});
  logits(0, 3) = 2.0f;  // happy
  logits(1, 6) = 1.0f;  // surprise
  const std::vector<int> labels = {3, 2};
  cm.add_logits(TensorView<const float>(logits), std::span<const int>(labels));
  CHECK(cm.count(3, 3) == 1);
  CHECK(cm.count(2, 6) == 1);
  ConfusionMatrix sum = cm;
  sum += cm;
  CHECK(sum.total() == 4);
  CHECK(sum.count(2, 6) == 2);
  REQUIRE_THROWS_WITH(sum += ConfusionMatrix({"x"}), Catch::Contains("different classes"));
  Tensor<float> wrong({2, 3});
  REQUIRE_THROWS_WITH(cm.add_logits(TensorView<const float>(wrong), std::span<const int>(labels)),
                      Catch::Contains("logits must be [N, 7], got [2, 3]"));
  sum.clear();
  CHECK(sum.total() == 0);
}

TEST_CASE("ConfusionMatrix: text table and per-class report are aligned", "[train][metrics]") {
  ConfusionMatrix cm({"angry", "disgust", "happy"});
  for (int i = 0; i < 12; ++i) cm.add(0, 0);
  cm.add(0, 2);
  cm.add(1, 0);
  for (int i = 0; i < 1234; ++i) cm.add(2, 2);
  const std::string table = cm.table();
  CHECK(table ==
        "true\\pred  angry disgust  happy\n"
        "angry         12       0      1\n"
        "disgust        1       0      0\n"
        "happy          0       0   1234\n");
  const std::string report = cm.report();
  CHECK(report ==
        "             precision    recall        f1   support\n"
        "angry           0.9231    0.9231    0.9231        13\n"
        "disgust         0.0000    0.0000    0.0000         1\n"
        "happy           0.9992    1.0000    0.9996      1234\n"
        "\n"
        "macro avg       0.6408    0.6410    0.6409      1248\n"
        "accuracy                            0.9984      1248\n");
}
