#pragma once
// Image bytes made by the tests: stb_image_write encoders (PNG, BMP, TGA, JPEG) into memory, and
// hand-made PPM bytes. Each test file is its own executable, so the static stb implementation here
// is private to it.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace moodnet::test {

// Encodes interleaved pixels [h, w, comp] as "png", "bmp", "tga" or "jpg" (quality 100).
inline std::string encode(const char* format, int w, int h, int comp, const std::vector<std::uint8_t>& px) {
  std::string out;
  auto sink = [](void* ctx, void* data, int size) { static_cast<std::string*>(ctx)->append(static_cast<char*>(data), size); };
  const std::string f = format;
  if (f == "png") stbi_write_png_to_func(sink, &out, w, h, comp, px.data(), w * comp);
  if (f == "bmp") stbi_write_bmp_to_func(sink, &out, w, h, comp, px.data());
  if (f == "tga") stbi_write_tga_to_func(sink, &out, w, h, comp, px.data());
  if (f == "jpg") stbi_write_jpg_to_func(sink, &out, w, h, comp, px.data(), 100);
  REQUIRE(!out.empty());
  return out;
}

// Binary PPM (P6) of interleaved RGB pixels [h, w, 3].
inline std::string ppm(int w, int h, const std::vector<std::uint8_t>& rgb) {
  std::string s = "P6\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
  s.append(rgb.begin(), rgb.end());
  return s;
}

// Planar [3, h, w] -> interleaved [h, w, 3].
inline std::vector<std::uint8_t> interleave(const std::vector<std::uint8_t>& planar, int h, int w) {
  std::vector<std::uint8_t> out(planar.size());
  const std::size_t n = static_cast<std::size_t>(h) * w;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t c = 0; c < 3; ++c) out[i * 3 + c] = planar[c * n + i];
  return out;
}

}  // namespace moodnet::test
