#pragma once
// Helpers for the data tests: a temporary folder (support/temp_dir.hpp), small file writers,
// and a synthetic Dataset whose pixels identify each image.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#if defined(MOODNET_HAVE_ZLIB)
#include <zlib.h>
#endif

#include "moodnet/data/dataset.hpp"
#include "moodnet/data/fer2013_classes.hpp"
#include "../support/temp_dir.hpp"

namespace moodnet::test {

inline void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Binary PGM (P5) of a w x h gray image.
inline std::string pgm(int w, int h, const std::vector<std::uint8_t>& px) {
  std::string s = "P5\n" + std::to_string(w) + " " + std::to_string(h) + "\n255\n";
  s.append(px.begin(), px.end());
  return s;
}
// A 48x48 PGM filled with `value`.
inline std::string pgm48(std::uint8_t value) { return pgm(48, 48, std::vector<std::uint8_t>(48 * 48, value)); }

// IDX bytes (data/idx.hpp): the magic 00 00 08 <rank>, big-endian uint32 dimensions, then `body`.
inline std::string idx_bytes(const std::vector<std::uint32_t>& dims, const std::string& body, unsigned type = 0x08) {
  std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((d >> shift) & 0xFF);
  return s + body;
}

#if defined(MOODNET_HAVE_ZLIB)
// Writes `bytes` gzip-compressed (zlib's gzip writer).
inline void write_gzip(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}
#endif

// root/<split>/<class>/<prefix><k>.pgm: `per_class` gray side x side images of each class (split ""
// for root/<class>/), pixel values differing by class, image and position.
inline void write_class_folders(const std::filesystem::path& root, const std::string& split,
                                const std::vector<std::string>& classes, int per_class, int side = 48,
                                const std::string& prefix = "") {
  for (std::size_t c = 0; c < classes.size(); ++c)
    for (int k = 0; k < per_class; ++k) {
      std::vector<std::uint8_t> px(static_cast<std::size_t>(side * side));
      for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(40 * c + 3 * k + i % 7);
      write_bytes(root / split / classes[c] / (prefix + std::to_string(k) + ".pgm"), pgm(side, side, px));
    }
}

// <prefix>-images-idx3-ubyte and <prefix>-labels-idx1-ubyte in dir: one side x side image per label.
inline void write_idx_split(const std::filesystem::path& dir, const std::string& prefix, const std::string& labels,
                            std::uint32_t side = 16) {
  const auto n = static_cast<std::uint32_t>(labels.size());
  std::string px(static_cast<std::size_t>(n) * side * side, '\0');
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<char>(i * 7 % 251);
  write_bytes(dir / (prefix + "-images-idx3-ubyte"), idx_bytes({n, side, side}, px));
  write_bytes(dir / (prefix + "-labels-idx1-ubyte"), idx_bytes({n}, labels));
}

// n images with 7 classes; image i is filled with pixel value i % 251 except pixel 0 = i / 251
// (so every image is distinct), label i % 7, key "img<i>".
inline data::Dataset synthetic_dataset(std::int64_t n) {
  auto d = data::Dataset::with_capacity(data::fer2013_class_names(), n);
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint8_t* px = d.images.data() + i * data::kImagePixels;
    std::fill_n(px, data::kImagePixels, static_cast<std::uint8_t>(i % 251));
    px[0] = static_cast<std::uint8_t>(i / 251);
    d.labels[i] = static_cast<std::int32_t>(i % 7);
    d.keys[static_cast<std::size_t>(i)] = "img" + std::to_string(i);
  }
  d.report.source = "synthetic";
  d.report.loaded = n;
  return d;
}

// REQUIRE that f throws moodnet::Error whose message contains every one of `parts`.
template <class F>
inline void require_error_naming(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
  } catch (const moodnet::Error& e) {
    const std::string msg = e.what();
    INFO("message: " << msg);
    for (const auto& p : parts) CHECK(msg.find(p) != std::string::npos);
    return;
  }
  FAIL("expected moodnet::Error naming " << parts.front());
}

}  // namespace moodnet::test
