#include "moodnet/train/plot.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "../support/temp_dir.hpp"

// Decoding is only needed to check the files: stb_image stays out of the library headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
#pragma GCC diagnostic pop

using moodnet::test::TempDir;
using namespace moodnet::train;

namespace {
struct Decoded {
  int w = 0, h = 0;
  std::vector<unsigned char> rgb;
  Color at(int x, int y) const {
    const auto* p = &rgb[(static_cast<std::size_t>(y) * w + x) * 3];
    return {p[0], p[1], p[2]};
  }
};
Decoded decode(const std::string& path) {
  Decoded d;
  int channels = 0;
  unsigned char* p = stbi_load(path.c_str(), &d.w, &d.h, &channels, 3);
  REQUIRE(p != nullptr);
  d.rgb.assign(p, p + static_cast<std::size_t>(d.w) * d.h * 3);
  stbi_image_free(p);
  return d;
}
int count_color(const Canvas& c, Color col, int x0 = 0, int y0 = 0, int x1 = -1, int y1 = -1) {
  if (x1 < 0) x1 = c.width(), y1 = c.height();
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) n += c.pixel(x, y) == col;
  return n;
}
std::vector<EpochRecord> fake_history(int epochs) {
  std::vector<EpochRecord> h;
  for (int e = 1; e <= epochs; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.train_loss = 1.8 * std::exp(-0.12 * e) + 0.25;
    r.val_loss = 1.7 * std::exp(-0.1 * e) + 0.55 + 0.004 * e;
    r.train_acc = 0.9 - 0.65 * std::exp(-0.12 * e);
    r.val_acc = 0.66 - 0.45 * std::exp(-0.15 * e);
    h.push_back(r);
  }
  return h;
}
}  // namespace

TEST_CASE("Canvas: pixels, rectangles, lines and text clip to the image", "[train][plot]") {
  Canvas c(20, 10);
  CHECK(c.pixel(5, 5) == kWhite);
  c.set_pixel(-1, 3, kBlack);
  c.set_pixel(20, 3, kBlack);
  c.fill_rect(-5, -5, 8, 8, kBlack);  // clipped to the 3x3 corner
  CHECK(count_color(c, kBlack) == 9);
  Canvas l(10, 10);
  l.line(0, 0, 9, 9, kBlack);
  for (int i = 0; i < 10; ++i) CHECK(l.pixel(i, i) == kBlack);
  CHECK(count_color(l, kBlack) == 10);
  l.line(0, 9, 9, 0, kGray, 3);
  CHECK(l.pixel(5, 4) == kGray);
  CHECK(l.pixel(6, 4) == kGray);  // thickness 3 covers the neighbours
  Canvas t(40, 12);
  t.text(1, 1, "I", kBlack);  // 'I': rows 0 and 6 are 3 wide, the middle is 1 wide
  CHECK(count_color(t, kBlack) == 3 + 3 + 5);
  CHECK(t.pixel(2, 1) == kBlack);
  CHECK(t.pixel(3, 3) == kBlack);
  CHECK(Canvas::text_width("abc", 2) == (3 * 6 - 1) * 2);
  REQUIRE_THROWS_WITH(Canvas(0, 5), Catch::Contains("canvas size 0x5"));
  CHECK(mix(kBlack, kWhite, 0.5) == Color{128, 128, 128});
}

TEST_CASE("Every printable glyph has ink inside its 5x8 cell", "[train][plot]") {
  for (char ch = '!'; ch <= '~'; ++ch) {
    unsigned any = 0;
    for (int r = 0; r < kGlyphHeight; ++r) any |= glyph_row(ch, r);
    INFO("glyph '" << ch << "'");
    CHECK(any != 0);
  }
  for (int r = 0; r < kGlyphHeight; ++r) CHECK(glyph_row(' ', r) == 0);
}

TEST_CASE("nice_ticks picks 1/2/5 steps covering the data", "[train][plot]") {
  auto t = detail::nice_ticks(1, 30);
  CHECK(t.step == 5);
  CHECK(t.lo == 0);
  CHECK(t.hi == 30);
  t = detail::nice_ticks(0.234, 0.871);
  CHECK(t.step == Approx(0.1));
  CHECK(t.lo == Approx(0.2));
  CHECK(t.hi == Approx(0.9));
  CHECK(detail::tick_label(0.30000000000000004, 0.1) == "0.3");
  t = detail::nice_ticks(1, 1, 6, 1.0);  // one epoch: whole-number ticks around it
  CHECK(t.step == 1);
  CHECK(t.lo == 0);
  CHECK(t.hi == 2);
  CHECK(detail::nice_ticks(1, 3, 6, 1.0).step == 1);
  t = detail::nice_ticks(5, 5);  // flat data still gets a range
  CHECK(t.lo < 5);
  CHECK(t.hi > 5);
}

TEST_CASE("Line chart PNG: size, series colours where the series are drawn", "[train][plot]") {
  TempDir dir("plot-lines");
  const auto history = fake_history(30);
  LineChart chart = loss_curves(history, "MobileNet-V1 loss");
  const std::string path = dir.file("loss.png");
  write_line_chart_png(path, chart);
  const Decoded png = decode(path);
  REQUIRE(png.w == chart.width);
  REQUIRE(png.h == chart.height);
  const Canvas c = render_line_chart(chart);
  CHECK(png.rgb == std::vector<unsigned char>(c.data(), c.data() + png.rgb.size()));

  // Recover the plot frame: the rows and columns that are mostly black.
  int left = -1, right = -1, top = -1, bottom = -1;
  for (int y = 0; y < png.h; ++y) {
    int n = 0;
    for (int x = 0; x < png.w; ++x) n += png.at(x, y) == kBlack;
    if (n > png.w / 2) (top < 0 ? top : bottom) = y;
  }
  for (int x = 0; x < png.w; ++x) {
    int n = 0;
    for (int y = 0; y < png.h; ++y) n += png.at(x, y) == kBlack;
    if (n > png.h / 2) (left < 0 ? left : right) = x;
  }
  REQUIRE(left > 0);
  REQUIRE(right > left + 100);
  REQUIRE(top > 0);
  REQUIRE(bottom > top + 100);
  const auto t_x = detail::nice_ticks(1, 30);
  double lo = 1e9, hi = -1e9;
  for (const auto& s : chart.series)
    for (double v : s.y) lo = std::min(lo, v), hi = std::max(hi, v);
  const auto t_y = detail::nice_ticks(lo, hi);
  int checked = 0;
  for (std::size_t k = 0; k < 2; ++k)
    for (std::size_t i = 0; i < history.size(); i += 3) {
      const int x = left + static_cast<int>(std::lround((chart.series[k].x[i] - t_x.lo) / (t_x.hi - t_x.lo) * (right - left)));
      const int y = bottom - static_cast<int>(std::lround((chart.series[k].y[i] - t_y.lo) / (t_y.hi - t_y.lo) * (bottom - top)));
      INFO("series " << k << " point " << i << " at " << x << "," << y);
      // The marker is 7x7 around the point, unless the legend box covers it.
      const Color col = png.at(x, y);
      CHECK((col == palette_color(k) || col == palette_color(1 - k) || col == kWhite));
      checked += col == palette_color(k);
    }
  CHECK(checked >= 16);
  // Both series are drawn with many pixels, and the legend shows both colours.
  CHECK(count_color(c, palette_color(0)) > 500);
  CHECK(count_color(c, palette_color(1)) > 500);

  write_line_chart_png("/tmp/moodnet_trainutil_loss.png", chart);
  write_line_chart_png("/tmp/moodnet_trainutil_loss_1epoch.png", loss_curves(fake_history(1)));
  write_line_chart_png("/tmp/moodnet_trainutil_accuracy.png", accuracy_curves(history, "MobileNet-V1 accuracy"));
}

TEST_CASE("Line chart: NaN points break the line, empty charts still render", "[train][plot]") {
  LineChart chart{"t", "x", "y", {{"a", {1, 2, 3, 4}, {1, NAN, 3, 4}, kBlack}}};
  const Canvas c = render_line_chart(chart);
  CHECK(count_color(c, kBlack) > 0);
  LineChart empty{"nothing yet", "epoch", "loss", {}};
  CHECK(render_line_chart(empty).width() == 900);
  LineChart bad{"t", "x", "y", {{"a", {1, 2}, {1}, {}}}};
  REQUIRE_THROWS_WITH(render_line_chart(bad), Catch::Contains("series 'a' has 2 x values and 1 y values"));
  LineChart tiny = empty;
  tiny.width = 60;
  REQUIRE_THROWS_WITH(render_line_chart(tiny), Catch::Contains("too small"));
}

TEST_CASE("Confusion heatmap PNG: size, cell colours follow the row-normalised value", "[train][plot]") {
  const std::vector<std::string> names = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  ConfusionMatrix cm(names);
  // A plausible FER-2013 result: a strong diagonal with the usual confusions.
  const int diag[7] = {560, 60, 450, 1550, 800, 620, 680};
  for (int t = 0; t < 7; ++t) {
    for (int i = 0; i < diag[t]; ++i) cm.add(t, t);
    for (int p = 0; p < 7; ++p)
      for (int i = 0; i < (p == t ? 0 : 10 + 23 * ((t * 3 + p * 5) % 7)); ++i) cm.add(t, p);
  }
  TempDir dir("plot-heatmap");
  const std::string path = dir.file("confusion.png");
  write_confusion_png(path, cm, "MobileNet-V1, PrivateTest");
  const Decoded png = decode(path);
  const Canvas c = render_confusion_heatmap(cm, "MobileNet-V1, PrivateTest");
  REQUIRE(png.w == c.width());
  REQUIRE(png.h == c.height());
  CHECK(png.rgb == std::vector<unsigned char>(c.data(), c.data() + png.rgb.size()));
  // The diagonal cells are the darkest of their rows: sample each cell's top-left corner (no text).
  int grid_left = 0, grid_top = 0;
  for (int x = 0; x < png.w && !grid_left; ++x)
    if (png.at(x, png.h / 2) == kGray) grid_left = x + 1;
  for (int y = 0; y < png.h && !grid_top; ++y)
    if (png.at(grid_left + 5, y) == kGray) grid_top = y + 1;
  REQUIRE(grid_left > 0);
  for (int t = 0; t < 7; ++t) {
    const double row = static_cast<double>(cm.support(t));
    for (int p = 0; p < 7; ++p) {
      const Color expected = mix({247, 251, 255}, {8, 48, 107}, cm.count(t, p) / row);
      INFO("cell " << t << "," << p);
      CHECK(png.at(grid_left + p * 96 + 2, grid_top + t * 96 + 2) == expected);
    }
  }
  write_confusion_png("/tmp/moodnet_trainutil_confusion.png", cm, "MobileNet-V1, PrivateTest");
  REQUIRE_THROWS_WITH(write_confusion_png(dir.file("missing/confusion.png"), cm), Catch::Contains("missing/confusion.png"));
}

TEST_CASE("Font sheet renders every glyph (for eyeballing)", "[train][plot]") {
  Canvas c(16 * 6 * 3 + 12, 6 * 10 * 3 + 12);
  for (int ch = 32; ch < 127; ++ch)
    c.text(6 + (ch % 16) * 18, 6 + (ch / 16 - 2) * 30, std::string(1, static_cast<char>(ch)), kBlack, 3);
  write_png("/tmp/moodnet_trainutil_font.png", c);
  CHECK(std::filesystem::file_size("/tmp/moodnet_trainutil_font.png") > 100);
}
