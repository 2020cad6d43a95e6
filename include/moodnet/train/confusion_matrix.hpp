#pragma once
// ConfusionMatrix: K x K counts, rows = true class, columns = predicted class, with the per-class
// precision / recall / F1 / support, macro-F1 and accuracy derived from it, and text renderings.
// A class never predicted has precision 0 and one never present has recall 0 (scikit-learn's
// zero_division=0), so macro-F1 never turns into NaN on a degenerate model.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/train/metrics.hpp"

namespace moodnet::train {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::vector<std::string> class_names)
      : names_(std::move(class_names)), counts_(names_.size() * names_.size(), 0) {
    MOODNET_CHECK(!names_.empty(), "a confusion matrix needs at least one class");
  }

  int num_classes() const { return static_cast<int>(names_.size()); }
  const std::vector<std::string>& class_names() const { return names_; }

  void add(int true_class, int predicted_class) {
    MOODNET_CHECK(true_class >= 0 && true_class < num_classes(), "true class ", true_class,
                  " out of range [0, ", num_classes(), ")");
    MOODNET_CHECK(predicted_class >= 0 && predicted_class < num_classes(), "predicted class ",
                  predicted_class, " out of range [0, ", num_classes(), ")");
    ++counts_[index(true_class, predicted_class)];
  }
  // One row of logits [N, K] per label: the prediction is the row's argmax.
  template <class T, class L>
  void add_logits(TensorView<const T> logits, std::span<const L> labels) {
    MOODNET_CHECK(logits.rank() == 2 && logits.dim(1) == num_classes(), "logits must be [N, ", num_classes(),
                  "], got ", logits.shape());
    MOODNET_CHECK(static_cast<std::int64_t>(labels.size()) == logits.dim(0), "got ", labels.size(),
                  " labels for ", logits.dim(0), " rows of logits");
    for (std::int64_t n = 0; n < logits.dim(0); ++n)
      add(static_cast<int>(labels[static_cast<std::size_t>(n)]), argmax_row(logits, n));
  }
  // Adds another matrix over the same classes (e.g. PublicTest + PrivateTest).
  ConfusionMatrix& operator+=(const ConfusionMatrix& o) {
    MOODNET_CHECK(o.names_ == names_, "cannot add confusion matrices over different classes");
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
    return *this;
  }
  void clear() { std::fill(counts_.begin(), counts_.end(), 0); }

  std::int64_t count(int true_class, int predicted_class) const { return counts_[index(true_class, predicted_class)]; }
  std::int64_t total() const {
    std::int64_t s = 0;
    for (auto c : counts_) s += c;
    return s;
  }
  std::int64_t correct() const {
    std::int64_t s = 0;
    for (int c = 0; c < num_classes(); ++c) s += count(c, c);
    return s;
  }
  double accuracy() const { return train::accuracy(correct(), total()); }
  // Images whose true class is c (row sum).
  std::int64_t support(int c) const {
    std::int64_t s = 0;
    for (int p = 0; p < num_classes(); ++p) s += count(c, p);
    return s;
  }
  // Images predicted as c (column sum).
  std::int64_t predicted(int c) const {
    std::int64_t s = 0;
    for (int t = 0; t < num_classes(); ++t) s += count(t, c);
    return s;
  }
  double precision(int c) const { return train::accuracy(count(c, c), predicted(c)); }
  double recall(int c) const { return train::accuracy(count(c, c), support(c)); }
  double f1(int c) const {
    const double p = precision(c), r = recall(c);
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
  double macro_f1() const {
    double s = 0;
    for (int c = 0; c < num_classes(); ++c) s += f1(c);
    return s / num_classes();
  }

  // The counts as an aligned table; rows are true classes, columns predicted ones:
  //   true \ pred  angry  disgust ...
  //   angry          312        4 ...
  std::string table() const {
    const int w = std::max(label_width(), 9);  // 9 = "true\\pred"
    std::string out = pad("true\\pred", w);
    for (const auto& n : names_) (out += ' ') += pad_left(n, std::max<int>(n.size(), 6));
    out += "\n";
    for (int t = 0; t < num_classes(); ++t) {
      out += pad(names_[t], w);
      for (int p = 0; p < num_classes(); ++p)
        (out += ' ') += pad_left(std::to_string(count(t, p)), std::max<int>(names_[p].size(), 6));
      out += "\n";
    }
    return out;
  }

  // Per-class precision / recall / F1 / support, then macro average and accuracy.
  std::string report() const {
    const int w = std::max(label_width(), 12);
    char buf[160];
    std::string out = pad("", w);
    out += " precision    recall        f1   support\n";
    const auto row = [&](const std::string& name, double p, double r, double f, std::int64_t n) {
      std::snprintf(buf, sizeof buf, " %9.4f %9.4f %9.4f %9lld\n", p, r, f, static_cast<long long>(n));
      out += pad(name, w) + buf;
    };
    double mp = 0, mr = 0;
    for (int c = 0; c < num_classes(); ++c) {
      row(names_[c], precision(c), recall(c), f1(c), support(c));
      mp += precision(c), mr += recall(c);
    }
    out += "\n";
    row("macro avg", mp / num_classes(), mr / num_classes(), macro_f1(), total());
    std::snprintf(buf, sizeof buf, " %29.4f %9lld\n", accuracy(), static_cast<long long>(total()));
    out += pad("accuracy", w) + buf;
    return out;
  }

 private:
  std::size_t index(int t, int p) const {
    MOODNET_ASSERT(t >= 0 && t < num_classes() && p >= 0 && p < num_classes());
    return static_cast<std::size_t>(t) * names_.size() + static_cast<std::size_t>(p);
  }
  int label_width() const {
    std::size_t w = 0;
    for (const auto& n : names_) w = std::max(w, n.size());
    return static_cast<int>(w);
  }
  static std::string pad(const std::string& s, int w) {
    return s.size() >= static_cast<std::size_t>(w) ? s : s + std::string(w - s.size(), ' ');
  }
  static std::string pad_left(const std::string& s, int w) {
    return s.size() >= static_cast<std::size_t>(w) ? s : std::string(w - s.size(), ' ') + s;
  }

  std::vector<std::string> names_;
  std::vector<std::int64_t> counts_;
};

}  // namespace moodnet::train
