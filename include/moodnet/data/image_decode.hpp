#pragma once
// Decoding image files to 8-bit grayscale. This is the ONE moodnet header that includes
// stb_image: STB_IMAGE_STATIC gives every translation unit its own private copy (ODR-safe for a
// header-only library), and only the formats FER-style data needs are compiled in.
//
// Every failure comes back as a moodnet::Error naming the file: stb never asserts (STBI_ASSERT
// throws), never allocates for absurd sizes (STBI_MAX_DIMENSIONS), and a file that ends before
// the decoder is done is reported as truncated instead of being padded with zeros (stb_image would
// silently return such an image: see `truncated` below).
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "moodnet/core/error.hpp"

namespace moodnet::data::detail {
// stb_image's internal assertions become exceptions: a corrupt file must never abort the program.
[[noreturn]] inline void stb_assert_failed(const char* what) {
  fail("stb_image internal check failed (corrupt image?): ", what);
}
}  // namespace moodnet::data::detail

#ifndef STBI_INCLUDE_STB_IMAGE_H
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_ONLY_TGA
#define STBI_NO_STDIO  // we read the bytes ourselves, to name the file in every error
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 14)
#define STBI_ASSERT(x) ((x) ? static_cast<void>(0) : ::moodnet::data::detail::stb_assert_failed(#x))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#include <stb_image.h>
#pragma GCC diagnostic pop
#endif

namespace moodnet::data {

// A decoded grayscale image, row-major, height x width bytes.
struct GrayImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // [height, width]
};

// Largest image file we read (FER-2013 files are < 3 KB; this only guards against absurd input).
inline constexpr std::uintmax_t kMaxImageFileBytes = std::uintmax_t{256} << 20;

// All bytes of a file. Throws moodnet::Error naming the file when it cannot be opened or read,
// is empty, or is larger than kMaxImageFileBytes.
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  MOODNET_CHECK(!ec && std::filesystem::exists(status), "cannot read '", path.string(),
                "': ", ec ? ec.message() : "no such file");
  MOODNET_CHECK(!std::filesystem::is_directory(status), "cannot read '", path.string(), "': it is a folder");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("cannot open '", path.string(), "': ", std::error_code(errno, std::generic_category()).message());
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[16384];
  for (;;) {
    const std::size_t n = std::fread(chunk, 1, sizeof chunk, f.get());
    bytes.insert(bytes.end(), chunk, chunk + n);
    MOODNET_CHECK(bytes.size() <= kMaxImageFileBytes, "'", path.string(), "' is larger than ",
                  kMaxImageFileBytes, " bytes");
    if (n < sizeof chunk) break;
  }
  MOODNET_CHECK(!std::ferror(f.get()), "read error on '", path.string(), "'");
  MOODNET_CHECK(!bytes.empty(), "'", path.string(), "' is empty (0 bytes)");
  return bytes;
}

namespace detail {
// stb reads through these callbacks so we can see whether the decoder asked for bytes after the
// end of the file: stb refills its buffer in blocks of kStbBlock bytes and a short block is normal
// at the end, but a refill that returns nothing, or a short read of any other size (stbi__getn
// reading pixel data directly, whose result the PNM decoder of stb 2.27 ignores) means the
// decoder wanted more than the file holds.
inline constexpr int kStbBlock = 128;  // sizeof(stbi__context::buffer_start)
struct StbReader {
  const std::uint8_t* data;
  std::size_t size, pos = 0;
  bool overran = false;
  static int read(void* user, char* out, int n) {
    auto* r = static_cast<StbReader*>(user);
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), r->size - r->pos);
    if (k == 0 || (static_cast<int>(k) < n && n != kStbBlock)) r->overran = true;
    std::copy_n(r->data + r->pos, k, reinterpret_cast<std::uint8_t*>(out));
    r->pos += k;
    return static_cast<int>(k);
  }
  static void skip(void* user, int n) {
    auto* r = static_cast<StbReader*>(user);
    if (n < 0) {
      r->pos -= std::min<std::size_t>(r->pos, static_cast<std::size_t>(-static_cast<long long>(n)));
    } else {
      if (static_cast<std::size_t>(n) > r->size - r->pos) r->overran = true;
      r->pos += std::min<std::size_t>(static_cast<std::size_t>(n), r->size - r->pos);
    }
  }
  static int eof(void* user) {
    auto* r = static_cast<StbReader*>(user);
    return r->pos >= r->size;
  }
};

// PIL's "L" conversion (ITU-R BT.601 luma in 16-bit fixed point, rounded):
// L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
inline std::uint8_t luma_bt601(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((19595u * r + 38470u * g + 7471u * b + 0x8000u) >> 16);
}
}  // namespace detail

// Decodes JPEG, PNG, BMP, PGM/PPM or TGA bytes to 8-bit grayscale: gray images as stored, colour
// images by BT.601 luma (as PIL's convert("L")), alpha ignored. `name` (the file path or key)
// appears in every error message.
inline GrayImage decode_gray(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
  MOODNET_CHECK(size > 0, "'", name, "' is empty (0 bytes)");
  MOODNET_CHECK(size <= kMaxImageFileBytes, "'", name, "' is too large");
  detail::StbReader reader{bytes, size};
  const stbi_io_callbacks callbacks{&detail::StbReader::read, &detail::StbReader::skip, &detail::StbReader::eof};
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> px(
      stbi_load_from_callbacks(&callbacks, &reader, &w, &h, &channels, 0), &stbi_image_free);
  if (!px) {
    const char* why = stbi_failure_reason();
    fail("cannot decode '", name, "' as an image (JPEG/PNG/BMP/PGM/PPM/TGA): ", why ? why : "unknown error");
  }
  MOODNET_CHECK(!reader.overran, "'", name, "' is truncated: the image data ends early (", size, " bytes)");
  MOODNET_CHECK(w > 0 && h > 0 && channels >= 1 && channels <= 4, "'", name, "' has unsupported size ", w,
                "x", h, " with ", channels, " channels");
  GrayImage img;
  img.width = w;
  img.height = h;
  const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  img.pixels.resize(n);
  const stbi_uc* p = px.get();
  for (std::size_t i = 0; i < n; ++i, p += channels)  // 1: gray, 2: gray+alpha, 3: RGB, 4: RGBA
    img.pixels[i] = channels <= 2 ? p[0] : detail::luma_bt601(p[0], p[1], p[2]);
  return img;
}

// Reads and decodes one image file (see decode_gray); errors name the path.
inline GrayImage load_gray(const std::filesystem::path& path) {
  const auto bytes = read_file_bytes(path);
  return decode_gray(bytes.data(), bytes.size(), path.string());
}

}  // namespace moodnet::data
