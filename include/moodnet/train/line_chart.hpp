#pragma once
// A line chart on a Canvas: several series with a legend, axes with "nice" tick labels (steps of
// 1, 2 or 5 x 10^k), grid lines, a title and axis labels. NaN points break a series' line.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/train/canvas.hpp"

namespace moodnet::train {

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::optional<Color> color;  // default: the next palette colour
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  int width = 900, height = 560;
  double y_min = NAN, y_max = NAN;  // NaN: fit the data
  bool integer_x = false;           // x ticks at whole numbers only (epochs)
};

// Colour-blind-friendly palette (the "tab10" colours).
inline Color palette_color(std::size_t i) {
  static constexpr Color kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                       {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};
  return kPalette[i % std::size(kPalette)];
}

namespace detail {
// Axis range and tick step: [lo, hi] widened to multiples of a 1/2/5 x 10^k step (at least
// min_step), about `target` ticks.
struct Ticks {
  double lo, hi, step;
};
inline Ticks nice_ticks(double lo, double hi, int target = 6, double min_step = 0) {
  if (!(hi > lo)) {  // a flat or single-point series still gets a visible range
    const double pad = std::max(std::abs(lo) > 0 ? std::abs(lo) * 0.1 : 1.0, min_step);
    lo -= pad, hi += pad;
  }
  const double raw = (hi - lo) / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag, step = std::max((f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag, min_step);
  return {std::floor(lo / step + 1e-9) * step, std::ceil(hi / step - 1e-9) * step, step};
}
inline std::string tick_label(double v, double step) {
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v) < step * 1e-6 ? 0.0 : v);
  return buf;
}
}  // namespace detail

inline Canvas render_line_chart(const LineChart& chart) {
  constexpr int kScale = 2;  // text scale for ticks, labels and legend
  const int th = Canvas::text_height(kScale);
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& s : chart.series) {
    MOODNET_CHECK(s.x.size() == s.y.size(), "series '", s.name, "' has ", s.x.size(), " x values and ",
                  s.y.size(), " y values");
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  if (x_lo > x_hi) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;  // no data: draw empty axes
  if (!std::isnan(chart.y_min)) y_lo = chart.y_min;
  if (!std::isnan(chart.y_max)) y_hi = chart.y_max;
  const auto xt = detail::nice_ticks(x_lo, x_hi, 6, chart.integer_x ? 1.0 : 0.0), yt = detail::nice_ticks(y_lo, y_hi);

  int y_label_w = 0;
  for (double v = yt.lo; v <= yt.hi + yt.step / 2; v += yt.step)
    y_label_w = std::max(y_label_w, Canvas::text_width(detail::tick_label(v, yt.step), kScale));
  const int left = 16 + (chart.y_label.empty() ? 0 : th + 12) + y_label_w + 10;
  const int top = chart.title.empty() ? 20 : 20 + Canvas::text_height(3) + 16;
  const int bottom = chart.height - (10 + th + 14 + (chart.x_label.empty() ? 0 : th + 10));
  const int right = chart.width - 24;
  MOODNET_CHECK(right - left > 50 && bottom - top > 50, "line chart ", chart.width, "x", chart.height,
                " is too small for its labels");

  Canvas c(chart.width, chart.height);
  const auto px = [&](double x) { return left + static_cast<int>(std::lround((x - xt.lo) / (xt.hi - xt.lo) * (right - left))); };
  const auto py = [&](double y) { return bottom - static_cast<int>(std::lround((y - yt.lo) / (yt.hi - yt.lo) * (bottom - top))); };

  // Grid and tick labels.
  for (double v = xt.lo; v <= xt.hi + xt.step / 2; v += xt.step) {
    c.fill_rect(px(v), top, 1, bottom - top, kLightGray);
    c.text(px(v), bottom + 10, detail::tick_label(v, xt.step), kBlack, kScale, Align::kCenter);
  }
  for (double v = yt.lo; v <= yt.hi + yt.step / 2; v += yt.step) {
    c.fill_rect(left, py(v), right - left, 1, kLightGray);
    c.text(left - 10, py(v) - th / 2, detail::tick_label(v, yt.step), kBlack, kScale, Align::kRight);
  }
  c.rect(left, top, right - left + 1, bottom - top + 1, kBlack);
  if (!chart.title.empty()) c.text(chart.width / 2, 20, chart.title, kBlack, 3, Align::kCenter);
  if (!chart.x_label.empty()) c.text((left + right) / 2, chart.height - 10 - th, chart.x_label, kBlack, kScale, Align::kCenter);
  if (!chart.y_label.empty()) c.text_vertical(16, (top + bottom) / 2, chart.y_label, kBlack, kScale);

  // Series: 2-pixel lines, plus square markers when the points are few enough to tell apart.
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const Series& s = chart.series[k];
    const Color col = s.color.value_or(palette_color(k));
    const bool markers = s.x.size() <= 60;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      if (i > 0 && std::isfinite(s.x[i - 1]) && std::isfinite(s.y[i - 1]))
        c.line(px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), col, 2);
      if (markers) c.fill_rect(px(s.x[i]) - 3, py(s.y[i]) - 3, 7, 7, col);
    }
  }

  // Legend in the plot corner that covers the fewest data points.
  if (chart.series.empty()) return c;
  int name_w = 0;
  for (const auto& s : chart.series) name_w = std::max(name_w, Canvas::text_width(s.name, kScale));
  const int row_h = th + 10, lw = 12 + 28 + 8 + name_w + 12, lh = 8 + row_h * static_cast<int>(chart.series.size());
  const int corners[4][2] = {{right - 12 - lw, top + 12}, {right - 12 - lw, bottom - 12 - lh},
                             {left + 12, top + 12}, {left + 12, bottom - 12 - lh}};
  int best = 0, best_hits = std::numeric_limits<int>::max();
  for (int k = 0; k < 4; ++k) {
    int hits = 0;
    for (const auto& s : chart.series)
      for (std::size_t i = 0; i < s.x.size(); ++i)
        for (double t : {0.0, 0.25, 0.5, 0.75}) {  // points and samples along the segment after them
          std::size_t j = std::min(i + 1, s.x.size() - 1);
          if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
          if (!std::isfinite(s.x[j]) || !std::isfinite(s.y[j])) j = i;
          const int x = px(s.x[i] + (s.x[j] - s.x[i]) * t), y = py(s.y[i] + (s.y[j] - s.y[i]) * t);
          hits += x >= corners[k][0] && x < corners[k][0] + lw && y >= corners[k][1] && y < corners[k][1] + lh;
        }
    if (hits < best_hits) best = k, best_hits = hits;
  }
  const int lx = corners[best][0], ly = corners[best][1];
  c.fill_rect(lx, ly, lw, lh, kWhite);
  c.rect(lx, ly, lw, lh, kGray);
  for (std::size_t k = 0; k < chart.series.size(); ++k) {
    const int y = ly + 8 + row_h * static_cast<int>(k);
    const Color col = chart.series[k].color.value_or(palette_color(k));
    c.fill_rect(lx + 12, y + th / 2 - 1, 28, 3, col);
    c.text(lx + 12 + 28 + 8, y, chart.series[k].name, kBlack, kScale);
  }
  return c;
}

}  // namespace moodnet::train
