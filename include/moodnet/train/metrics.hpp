#pragma once
// Accuracy from logits and labels, and the student report's accuracy sentence.
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"

namespace moodnet::train {

// Index of the largest value in row n of a [N, K] tensor (the first one on ties).
template <class T>
inline int argmax_row(TensorView<const T> logits, std::int64_t n) {
  const std::int64_t k = logits.dim(1);
  const T* row = logits.data() + n * k;
  std::int64_t best = 0;
  for (std::int64_t j = 1; j < k; ++j)
    if (row[j] > row[best]) best = j;
  return static_cast<int>(best);
}

// Rows of logits [N, K] whose argmax equals the label.
template <class T, class L>
inline std::int64_t count_correct(TensorView<const T> logits, std::span<const L> labels) {
  MOODNET_CHECK(logits.rank() == 2, "logits must be [N, K], got ", logits.shape());
  MOODNET_CHECK(static_cast<std::int64_t>(labels.size()) == logits.dim(0), "got ", labels.size(),
                " labels for ", logits.dim(0), " rows of logits");
  std::int64_t correct = 0;
  for (std::int64_t n = 0; n < logits.dim(0); ++n)
    correct += argmax_row(logits, n) == static_cast<std::int64_t>(labels[static_cast<std::size_t>(n)]);
  return correct;
}

// correct / total as a fraction in [0, 1]; 0 for an empty set.
inline double accuracy(std::int64_t correct, std::int64_t total) {
  return total > 0 ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
}

// "Checking accuracy on test set: Got 4620 / 7178 correct (64.36%)", the student report's wording.
inline std::string accuracy_sentence(std::int64_t correct, std::int64_t total, const std::string& set_name = "test set") {
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.2f", 100.0 * accuracy(correct, total));
  return "Checking accuracy on " + set_name + ": Got " + std::to_string(correct) + " / " + std::to_string(total) +
         " correct (" + pct + "%)";
}

}  // namespace moodnet::train
