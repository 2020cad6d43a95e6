#pragma once
// Canvas: an RGB8 image with the few drawing primitives the plots need (pixels, lines, rectangles,
// text in the built-in 5x8 font at integer scales). Everything clips to the image, so callers can
// draw without bounds checks.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/train/font.hpp"

namespace moodnet::train {

struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Color&) const = default;
};

inline constexpr Color kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGray{128, 128, 128}, kLightGray{225, 225, 225};

// a + (b - a) * t, per channel, t in [0, 1].
inline Color mix(Color a, Color b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  const auto ch = [t](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(x + (static_cast<double>(y) - x) * t + 0.5);
  };
  return {ch(a.r, b.r), ch(a.g, b.g), ch(a.b, b.b)};
}

enum class Align { kLeft, kCenter, kRight };

class Canvas {
 public:
  Canvas(int width, int height, Color background = kWhite) : width_(width), height_(height) {
    MOODNET_CHECK(width > 0 && height > 0 && width <= 16384 && height <= 16384, "canvas size ", width, "x",
                  height, " out of range [1, 16384]");
    pixels_.resize(static_cast<std::size_t>(width) * height * 3);
    fill_rect(0, 0, width, height, background);
  }

  int width() const { return width_; }
  int height() const { return height_; }
  const std::uint8_t* data() const { return pixels_.data(); }  // row-major RGB, 3 bytes per pixel

  void set_pixel(int x, int y, Color c) {
    if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
    std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 3];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  Color pixel(int x, int y) const {
    MOODNET_ASSERT(x >= 0 && y >= 0 && x < width_ && y < height_);
    const std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 3];
    return {p[0], p[1], p[2]};
  }

  void fill_rect(int x, int y, int w, int h, Color c) {
    const int x0 = std::max(x, 0), y0 = std::max(y, 0);
    const int x1 = std::min(x + w, width_), y1 = std::min(y + h, height_);
    for (int yy = y0; yy < y1; ++yy)
      for (int xx = x0; xx < x1; ++xx) set_pixel(xx, yy, c);
  }
  // Outline of the w x h rectangle at (x, y).
  void rect(int x, int y, int w, int h, Color c) {
    fill_rect(x, y, w, 1, c), fill_rect(x, y + h - 1, w, 1, c);
    fill_rect(x, y, 1, h, c), fill_rect(x + w - 1, y, 1, h, c);
  }
  // Bresenham line from (x0, y0) to (x1, y1), each point stamped as a thickness x thickness square.
  void line(int x0, int y0, int x1, int y1, Color c, int thickness = 1) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, half = (thickness - 1) / 2;
    for (int err = dx + dy;;) {
      fill_rect(x0 - half, y0 - half, thickness, thickness, c);
      if (x0 == x1 && y0 == y1) break;
      const int e2 = 2 * err;
      if (e2 >= dy) err += dy, x0 += sx;
      if (e2 <= dx) err += dx, y0 += sy;
    }
  }

  static int text_width(std::string_view s, int scale = 1) {
    return s.empty() ? 0 : (static_cast<int>(s.size()) * kGlyphAdvance - 1) * scale;
  }
  static int text_height(int scale = 1) { return kGlyphHeight * scale; }

  // Text with its top at y; x is the left edge, centre or right edge according to `align`.
  void text(int x, int y, std::string_view s, Color c, int scale = 1, Align align = Align::kLeft) {
    x -= align == Align::kLeft ? 0 : align == Align::kCenter ? text_width(s, scale) / 2 : text_width(s, scale);
    for (char ch : s) {
      for (int r = 0; r < kGlyphHeight; ++r)
        for (int col = 0; col < kGlyphWidth; ++col)
          if (glyph_row(ch, r) & (0x10u >> col)) fill_rect(x + col * scale, y + r * scale, scale, scale, c);
      x += kGlyphAdvance * scale;
    }
  }
  // Text rotated 90 degrees counter-clockwise (reading upwards), centred vertically on cy, with
  // the glyph tops at column x.
  void text_vertical(int x, int cy, std::string_view s, Color c, int scale = 1) {
    int y = cy + text_width(s, scale) / 2;  // the first character sits at the bottom
    for (char ch : s) {
      for (int r = 0; r < kGlyphHeight; ++r)
        for (int col = 0; col < kGlyphWidth; ++col)
          if (glyph_row(ch, r) & (0x10u >> col))
            fill_rect(x + r * scale, y - (col + 1) * scale, scale, scale, c);
      y -= kGlyphAdvance * scale;
    }
  }

 private:
  int width_, height_;
  std::vector<std::uint8_t> pixels_;
};

}  // namespace moodnet::train
