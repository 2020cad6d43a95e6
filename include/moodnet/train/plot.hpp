#pragma once
// The trainer's plots as PNG files: loss and accuracy curves from the history, and the
// confusion-matrix heatmap.
#include <string>
#include <vector>

#include "moodnet/train/heatmap.hpp"
#include "moodnet/train/history.hpp"
#include "moodnet/train/line_chart.hpp"
#include "moodnet/train/png.hpp"

namespace moodnet::train {

// Train and validation curves per epoch of one field of the history (scaled by `scale`).
inline LineChart history_chart(const std::vector<EpochRecord>& history, double EpochRecord::*train,
                               double EpochRecord::*val, double scale, std::string title, std::string y_label) {
  LineChart chart{std::move(title), "epoch", std::move(y_label), {{"train", {}, {}, {}}, {"val", {}, {}, {}}}};
  chart.integer_x = true;
  for (const auto& r : history) {
    for (auto& s : chart.series) s.x.push_back(r.epoch);
    chart.series[0].y.push_back(r.*train * scale);
    chart.series[1].y.push_back(r.*val * scale);
  }
  return chart;
}
inline LineChart loss_curves(const std::vector<EpochRecord>& history, std::string title = "Loss") {
  return history_chart(history, &EpochRecord::train_loss, &EpochRecord::val_loss, 1.0, std::move(title),
                       "cross-entropy loss");
}
inline LineChart accuracy_curves(const std::vector<EpochRecord>& history, std::string title = "Accuracy") {
  return history_chart(history, &EpochRecord::train_acc, &EpochRecord::val_acc, 100.0, std::move(title),
                       "accuracy (%)");
}

inline void write_line_chart_png(const std::string& path, const LineChart& chart) {
  write_png(path, render_line_chart(chart));
}
inline void write_confusion_png(const std::string& path, const ConfusionMatrix& cm,
                                const std::string& title = "Confusion matrix") {
  write_png(path, render_confusion_heatmap(cm, title));
}

}  // namespace moodnet::train
