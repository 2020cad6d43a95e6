#pragma once
// What the model gets wrong, as a picture (fastai's plot_top_losses): the k images of a split with
// the highest loss -ln p(true class), i.e. the lowest probability of their true class, in a grid,
// each tile the image as the dataset holds it (gray or colour, any size, scaled to one tile side)
// with its true class and p(true) and the predicted class (argmax) and its probability; a red frame
// marks a wrong answer, a green one a right answer that was still among the k least sure.
// The trainers write it beside each confusion matrix (<out>/worst_<split>.png, and the same images
// as a table in worst_<split>.txt, with their files' paths), evaluate into --out.
//   const EvalResult r = evaluate(model, test, norm, Tta::flip);
//   write_worst_examples_png("runs/x/worst_test.png", test, r.probabilities, 16, "test (customnet w 32), TTA flip");
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/train/canvas.hpp"
#include "moodnet/train/png.hpp"

namespace moodnet::train {

// One image of the split: its index, true class and probability, predicted class and probability.
struct WorstExample {
  std::int64_t index = 0;
  int true_class = 0, predicted = 0;
  double p_true = 0, p_predicted = 0;
  bool wrong() const { return predicted != true_class; }
};

// The `count` images (all when fewer) of lowest probability of their true class — highest loss
// -ln p_true — worst first; equal probabilities in index order, so the choice is deterministic.
// probabilities [n, classes] row-major, labels [n]. The predicted class is the first maximum of
// the row (as evaluate counts it). A NaN probability counts as 0 (worst).
inline std::vector<WorstExample> worst_examples(const float* probabilities, const std::int32_t* labels, std::int64_t n,
                                                int classes, std::int64_t count) {
  MOODNET_CHECK(classes > 0 && n >= 0, "worst_examples: ", n, " images of ", classes, " classes");
  std::vector<WorstExample> all(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const float* p = probabilities + i * classes;
    const int t = labels[i];
    MOODNET_CHECK(t >= 0 && t < classes, "worst_examples: label ", t, " of image ", i, " is not in [0, ", classes, ")");
    const int q = static_cast<int>(std::max_element(p, p + classes) - p);
    const auto value = [](float v) { return std::isnan(v) ? 0.0 : static_cast<double>(v); };
    all[static_cast<std::size_t>(i)] = {i, t, q, value(p[t]), value(p[q])};
  }
  const auto k = static_cast<std::ptrdiff_t>(std::clamp<std::int64_t>(count, 0, n));
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const WorstExample& a, const WorstExample& b) {
    return a.p_true != b.p_true ? a.p_true < b.p_true : a.index < b.index;
  });
  all.resize(static_cast<std::size_t>(k));
  return all;
}

// Where the grid's pieces are, in pixels: tiles of `face` x `face` for the image (scaled to fit,
// centred) above two lines of text, `columns` to a row, below a title and a subtitle.
struct WorstGridLayout {
  static constexpr int kTextScale = 2, kTitleScale = 3, kMargin = 20, kGap = 14, kFrame = 3;
  static constexpr int kTileChars = 20;  // characters a tile's text line holds
  int face = 0;                          // side of the square an image is scaled into
  int image_w = 0, image_h = 0;          // the image's size inside it
  int tile_w = 0, tile_h = 0, columns = 1, rows = 0, top = 0, width = 0, height = 0;

  // Top-left corner of tile i, and of the image in it.
  int tile_x(int i) const { return kMargin + (i % columns) * (tile_w + kGap); }
  int tile_y(int i) const { return top + (i / columns) * (tile_h + kGap); }
  int image_x(int i) const { return tile_x(i) + (tile_w - image_w) / 2; }
  int image_y(int i) const { return tile_y(i) + kFrame + (face - image_h) / 2; }
};

// The layout of `count` tiles of images of `shape` under `title` and `subtitle`: an image's longer
// side is scaled to 192 px (a 48 x 48 face 4x, nearest neighbour), at most 4 tiles to a row.
inline WorstGridLayout worst_grid_layout(const data::ImageShape& shape, int count, const std::string& title,
                                         const std::string& subtitle) {
  using L = WorstGridLayout;
  L l;
  l.face = 192;
  const double f = static_cast<double>(l.face) / std::max(shape.height, shape.width);
  l.image_w = std::max(1, static_cast<int>(std::lround(shape.width * f)));
  l.image_h = std::max(1, static_cast<int>(std::lround(shape.height * f)));
  const int line_h = Canvas::text_height(L::kTextScale) + 6;
  l.tile_w = std::max(l.face, L::kTileChars * kGlyphAdvance * L::kTextScale) + 2 * L::kFrame;
  l.tile_h = l.face + 2 * L::kFrame + 6 + 2 * line_h;
  l.columns = std::clamp(count, 1, 4);
  l.rows = (count + l.columns - 1) / l.columns;
  l.top = L::kMargin + Canvas::text_height(L::kTitleScale) + 10 + Canvas::text_height(L::kTextScale) + 16;
  const int grid_w = l.columns * l.tile_w + (l.columns - 1) * L::kGap;
  l.width = 2 * L::kMargin + std::max({grid_w, Canvas::text_width(title, L::kTitleScale),
                                       Canvas::text_width(subtitle, L::kTextScale)});
  l.height = l.top + std::max(l.rows, 1) * (l.tile_h + L::kGap) - L::kGap + L::kMargin;
  return l;
}

namespace detail {
// "97%", "3.2%", "<0.1%": two or three significant figures in a tile's few characters.
inline std::string short_percent(double p) {
  char b[16];
  if (p < 0.0005)
    return "<0.1%";
  if (p < 0.0995)
    std::snprintf(b, sizeof b, "%.1f%%", 100 * p);
  else
    std::snprintf(b, sizeof b, "%.0f%%", 100 * p);
  return b;
}
// "<head> <name> <percent>" in at most `chars` characters: a long class name is cut, the percent kept.
inline std::string tile_line(const std::string& head, const std::string& name, double p, int chars) {
  const std::string pct = short_percent(p);
  const int room = chars - static_cast<int>(head.size() + pct.size()) - 2;
  return head + " " + (static_cast<int>(name.size()) > room ? name.substr(0, static_cast<std::size_t>(std::max(room, 1))) : name) +
         " " + pct;
}
}  // namespace detail

// The grid of `worst` (worst_examples) images of `d`: title, the subtitle "k highest losses of N
// images (-ln p(true class)), worst first", then per tile the image and the lines
// "true <class> <p(true)>" and "pred <class> <p(pred)>".
inline Canvas render_worst_examples(const data::Dataset& d, const std::vector<WorstExample>& worst,
                                    const std::string& title) {
  using L = WorstGridLayout;
  const data::ImageShape s = d.shape();
  MOODNET_CHECK(s.channels == 1 || s.channels == 3, "worst examples: images have 1 or 3 channels, got ", s.channels);
  const std::string subtitle = std::to_string(worst.size()) + " highest losses of " + std::to_string(d.size()) +
                               " images (-ln p(true class)), worst first";
  const WorstGridLayout l = worst_grid_layout(s, static_cast<int>(worst.size()), title, subtitle);
  Canvas c(l.width, l.height);
  c.text(l.width / 2, L::kMargin, title, kBlack, L::kTitleScale, Align::kCenter);
  c.text(l.width / 2, L::kMargin + Canvas::text_height(L::kTitleScale) + 10, subtitle, kGray, L::kTextScale,
         Align::kCenter);
  constexpr Color kWrong{200, 30, 30}, kRight{40, 150, 60};
  const std::int64_t plane = s.plane();
  for (std::size_t i = 0; i < worst.size(); ++i) {
    const WorstExample& w = worst[i];
    MOODNET_CHECK(w.index >= 0 && w.index < d.size(), "worst examples: image ", w.index, " of ", d.size());
    const int ti = static_cast<int>(i);
    const Color frame = w.wrong() ? kWrong : kRight;
    for (int t = 0; t < L::kFrame; ++t)
      c.rect(l.tile_x(ti) + t, l.tile_y(ti) + t, l.tile_w - 2 * t, l.face + 2 * L::kFrame - 2 * t, frame);
    // Nearest neighbour: output pixel (x, y) shows stored pixel (x W / w, y H / h).
    const std::uint8_t* img = d.image(w.index);
    for (int y = 0; y < l.image_h; ++y)
      for (int x = 0; x < l.image_w; ++x) {
        const std::int64_t sy = std::min<std::int64_t>(std::int64_t{y} * s.height / l.image_h, s.height - 1);
        const std::int64_t sx = std::min<std::int64_t>(std::int64_t{x} * s.width / l.image_w, s.width - 1);
        const std::uint8_t* p = img + sy * s.width + sx;
        c.set_pixel(l.image_x(ti) + x, l.image_y(ti) + y,
                    s.channels == 1 ? Color{p[0], p[0], p[0]} : Color{p[0], p[plane], p[2 * plane]});
      }
    const int tx = l.tile_x(ti) + L::kFrame, ty = l.tile_y(ti) + l.face + 2 * L::kFrame + 6;
    const int line_h = Canvas::text_height(L::kTextScale) + 6;
    const auto& names = d.class_names;
    c.text(tx, ty, detail::tile_line("true", names[static_cast<std::size_t>(w.true_class)], w.p_true, L::kTileChars),
           kBlack, L::kTextScale);
    c.text(tx, ty + line_h, detail::tile_line("pred", names[static_cast<std::size_t>(w.predicted)], w.p_predicted, L::kTileChars),
           w.wrong() ? kWrong : kRight, L::kTextScale);
  }
  return c;
}

// The same images as a table, to find them again: the title, then one line per image, worst
// first: its rank, p(true class), true class, predicted class and its probability, and its key
// (the file's path in the dataset, "csv line N" of a CSV, "<file>[i]" of an IDX file).
//   # 1  p(true) 0.0012  true angry  pred happy 0.9731  train/angry/im412.png
inline std::string worst_examples_table(const data::Dataset& d, const std::vector<WorstExample>& worst,
                                        const std::string& title) {
  std::string out = title + "\n" + std::to_string(worst.size()) + " highest losses of " + std::to_string(d.size()) +
                    " images (-ln p(true class)), worst first\n\n";
  for (std::size_t i = 0; i < worst.size(); ++i) {
    const WorstExample& w = worst[i];
    MOODNET_CHECK(w.index >= 0 && w.index < d.size(), "worst examples: image ", w.index, " of ", d.size());
    char line[96];
    std::snprintf(line, sizeof line, "#%-3zu p(true) %.4f  ", i + 1, w.p_true);
    out += line;
    out += "true " + d.class_names[static_cast<std::size_t>(w.true_class)] + "  pred " +
           d.class_names[static_cast<std::size_t>(w.predicted)];
    std::snprintf(line, sizeof line, " %.4f  ", w.p_predicted);
    out += line;
    out += d.keys[static_cast<std::size_t>(w.index)] + "\n";
  }
  return out;
}

namespace detail {
// The `count` worst images of `d` (probabilities [N, K] row-major, from evaluate); none when there
// are no probabilities (data parallel validation gathers none), no images or count <= 0.
inline std::vector<WorstExample> worst_to_write(const data::Dataset& d, const std::vector<float>& probabilities,
                                                std::int64_t count) {
  const std::int64_t k = d.num_classes();
  if (count <= 0 || d.size() == 0 || static_cast<std::int64_t>(probabilities.size()) != d.size() * k) return {};
  return worst_examples(probabilities.data(), d.labels.data(), d.size(), static_cast<int>(k), count);
}
}  // namespace detail

// Writes the grid of the `count` worst images of `d` (probabilities [N, K] row-major, from
// evaluate) to `path` as PNG, atomically. Nothing is written when there are no probabilities
// (data parallel validation gathers none) or no images.
inline void write_worst_examples_png(const std::string& path, const data::Dataset& d,
                                     const std::vector<float>& probabilities, std::int64_t count,
                                     const std::string& title) {
  const auto worst = detail::worst_to_write(d, probabilities, count);
  if (!worst.empty()) write_png(path, render_worst_examples(d, worst, title));
}

// The grid (as write_worst_examples_png) and the table (worst_examples_table) beside it: `png_path`
// with .txt for .png. Both atomically; neither when the grid would not be written.
inline void write_worst_examples(const std::string& png_path, const data::Dataset& d,
                                 const std::vector<float>& probabilities, std::int64_t count, const std::string& title) {
  const auto worst = detail::worst_to_write(d, probabilities, count);
  if (worst.empty()) return;
  write_png(png_path, render_worst_examples(d, worst, title));
  const std::filesystem::path txt = std::filesystem::path(png_path).replace_extension(".txt");
  io::write_file_atomic(txt.string(), worst_examples_table(d, worst, title));
}

}  // namespace moodnet::train
