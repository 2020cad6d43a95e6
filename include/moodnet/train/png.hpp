#pragma once
// PNG output for a Canvas. The only place stb_image_write is included: STB_IMAGE_WRITE_STATIC gives
// each translation unit its own private copy, which keeps a header-only library free of ODR clashes.
#include <string>

#include "moodnet/core/error.hpp"
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/train/canvas.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wpedantic"
#ifndef STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_STATIC
#endif
#ifndef STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace moodnet::train {

// The canvas as PNG file bytes.
inline std::string encode_png(const Canvas& canvas) {
  std::string bytes;
  const auto append = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
  };
  const int ok = stbi_write_png_to_func(append, &bytes, canvas.width(), canvas.height(), 3, canvas.data(),
                                        canvas.width() * 3);
  MOODNET_CHECK(ok != 0 && !bytes.empty(), "PNG encoding of a ", canvas.width(), "x", canvas.height(),
                " image failed");
  return bytes;
}

// Writes the canvas as a PNG file, atomically. Throws moodnet::Error naming the file on failure.
inline void write_png(const std::string& path, const Canvas& canvas) {
  io::write_file_atomic(path, encode_png(canvas));
}

}  // namespace moodnet::train
