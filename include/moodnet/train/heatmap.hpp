#pragma once
// Confusion-matrix heatmap: K x K cells coloured by the row-normalised value (the share of each
// true class predicted as each class, so rare classes such as "disgust" are as readable as common
// ones), with the count and the row percentage printed in each cell and class names on both axes.
#include <algorithm>
#include <cstdio>
#include <string>

#include "moodnet/train/canvas.hpp"
#include "moodnet/train/confusion_matrix.hpp"

namespace moodnet::train {

inline Canvas render_confusion_heatmap(const ConfusionMatrix& cm, const std::string& title = "Confusion matrix") {
  constexpr int kScale = 2, kCell = 96;
  constexpr Color kLow{247, 251, 255}, kHigh{8, 48, 107};  // white to dark blue
  const int k = cm.num_classes(), th = Canvas::text_height(kScale);
  int name_w = 0;
  for (const auto& n : cm.class_names()) name_w = std::max(name_w, Canvas::text_width(n, kScale));
  const int left = 16 + th + 14 + name_w + 12, top = 20 + Canvas::text_height(3) + 12 + th + 20;
  const int width = std::max(left + k * kCell + 30, Canvas::text_width(title, 3) + 40);
  const int height = top + k * kCell + 12 + th + 14 + th + 16;
  Canvas c(width, height);

  char buf[64];
  c.text(width / 2, 20, title, kBlack, 3, Align::kCenter);
  std::snprintf(buf, sizeof buf, "accuracy %.2f%% of %lld, macro-F1 %.4f", 100 * cm.accuracy(),
                static_cast<long long>(cm.total()), cm.macro_f1());
  c.text(width / 2, 20 + Canvas::text_height(3) + 12, buf, kGray, kScale, Align::kCenter);

  for (int t = 0; t < k; ++t) {
    const double row = static_cast<double>(cm.support(t));
    for (int p = 0; p < k; ++p) {
      const double share = row > 0 ? static_cast<double>(cm.count(t, p)) / row : 0.0;
      const int x = left + p * kCell, y = top + t * kCell;
      c.fill_rect(x, y, kCell, kCell, mix(kLow, kHigh, share));
      const Color ink = share > 0.45 ? kWhite : kBlack;
      c.text(x + kCell / 2, y + kCell / 2 - th - 3, std::to_string(cm.count(t, p)), ink, kScale, Align::kCenter);
      std::snprintf(buf, sizeof buf, "%.1f%%", 100 * share);
      c.text(x + kCell / 2, y + kCell / 2 + 5, buf, ink, kScale, Align::kCenter);
    }
    c.text(left - 12, top + t * kCell + (kCell - th) / 2, cm.class_names()[t], kBlack, kScale, Align::kRight);
    c.text(left + t * kCell + kCell / 2, top + k * kCell + 12, cm.class_names()[t], kBlack, kScale, Align::kCenter);
  }
  c.rect(left - 1, top - 1, k * kCell + 2, k * kCell + 2, kGray);
  c.text(left + k * kCell / 2, top + k * kCell + 12 + th + 14, "predicted class", kBlack, kScale, Align::kCenter);
  c.text_vertical(16, top + k * kCell / 2, "true class", kBlack, kScale);
  return c;
}

}  // namespace moodnet::train
