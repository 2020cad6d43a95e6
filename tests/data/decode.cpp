// Image decoding to grayscale, resizing, and the errors for bad image bytes.
#include "moodnet/data/image_decode.hpp"

#include <catch2/catch.hpp>

#include "moodnet/data/resize.hpp"
#include "support.hpp"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::require_error_naming;

namespace {
std::string encode(const char* format, int w, int h, int comp, const std::vector<std::uint8_t>& px) {
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
GrayImage decode(const std::string& bytes, const std::string& name = "img") {
  return decode_gray(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), name);
}
std::vector<std::uint8_t> gradient(int w, int h) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h));
  for (int i = 0; i < w * h; ++i) px[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i * 7) % 256);
  return px;
}
}  // namespace

TEST_CASE("decode_gray: lossless formats decode to the exact gray pixels", "[data][decode]") {
  const auto px = gradient(48, 48);
  for (const char* f : {"png", "bmp", "tga"}) {
    INFO(f);
    const auto g = decode(encode(f, 48, 48, 1, px));
    CHECK(g.width == 48);
    CHECK(g.height == 48);
    CHECK(g.pixels == px);
  }
  const auto g = decode(test::pgm(48, 48, px));
  CHECK(g.pixels == px);
}

TEST_CASE("decode_gray: colour images become BT.601 luma as PIL's L", "[data][decode]") {
  // PPM with pure red, green, blue, white and a mixed colour; PIL "L" gives 76, 150, 29, 255, and
  // (19595*10 + 38470*200 + 7471*90 + 32768) >> 16 = 131.
  std::string ppm = "P6\n5 1\n255\n";
  const std::uint8_t rgb[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 200, 90};
  ppm.append(reinterpret_cast<const char*>(rgb), sizeof rgb);
  const auto g = decode(ppm);
  REQUIRE(g.width == 5);
  CHECK(g.pixels == std::vector<std::uint8_t>{76, 150, 29, 255, 131});
  // RGBA PNG: alpha is ignored.
  const std::vector<std::uint8_t> rgba{255, 0, 0, 0, 0, 0, 255, 128};
  CHECK(decode(encode("png", 2, 1, 4, rgba)).pixels == std::vector<std::uint8_t>{76, 29});
  // A gray JPEG round-trips within JPEG error.
  const std::vector<std::uint8_t> flat(48 * 48, 100);
  for (auto v : decode(encode("jpg", 48, 48, 1, flat)).pixels) CHECK(std::abs(int(v) - 100) <= 2);
}

TEST_CASE("decode_gray: empty, truncated, corrupt and non-image bytes are errors naming the item",
          "[data][decode]") {
  require_error_naming([] { decode("", "a/empty.png"); }, {"a/empty.png", "empty"});
  require_error_naming([] { decode("hello, I am a text file\n", "a/notes.txt"); }, {"a/notes.txt", "cannot decode"});
  const auto png = encode("png", 48, 48, 1, gradient(48, 48));
  const auto jpg = encode("jpg", 48, 48, 1, gradient(48, 48));
  const auto bmp = encode("bmp", 48, 48, 1, gradient(48, 48));
  const auto pgm = test::pgm(48, 48, gradient(48, 48));
  for (const auto* bytes : {&png, &jpg, &bmp, &pgm})
    for (std::size_t cut : {bytes->size() / 2, bytes->size() - 1, std::size_t{20}}) {
      INFO("cut at " << cut << " of " << bytes->size());
      require_error_naming([&] { decode(bytes->substr(0, cut), "x/cut.img"); }, {"x/cut.img"});
    }
  std::string garbage = jpg;  // a JPEG header followed by noise
  for (std::size_t i = 200; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131) % 251);
  require_error_naming([&] { decode(garbage.substr(0, 600), "x/corrupt.jpg"); }, {"x/corrupt.jpg"});
  // A header claiming a huge image is refused, not allocated.
  require_error_naming([] { decode("P5\n100000 100000\n255\n", "x/huge.pgm"); }, {"x/huge.pgm"});
}

TEST_CASE("read_file_bytes: missing files and folders are errors naming the path", "[data][decode]") {
  test::TempDir tmp;
  require_error_naming([&] { read_file_bytes(tmp / "nope.jpg"); }, {"nope.jpg"});
  std::filesystem::create_directories(tmp / "dir.jpg");
  require_error_naming([&] { read_file_bytes(tmp / "dir.jpg"); }, {"dir.jpg", "folder"});
  test::write_bytes(tmp / "zero.jpg", "");
  require_error_naming([&] { read_file_bytes(tmp / "zero.jpg"); }, {"zero.jpg", "0 bytes"});
  test::write_bytes(tmp / "ok.pgm", test::pgm48(9));
  CHECK(load_gray(tmp / "ok.pgm").pixels == std::vector<std::uint8_t>(48 * 48, 9));
}

TEST_CASE("resize_gray: area averaging when shrinking, bilinear when enlarging, copy at equal size",
          "[data][resize]") {
  // 96x96 made of 2x2 blocks with values a, b on a checkerboard of blocks: each output pixel
  // is the mean of one block exactly.
  std::vector<std::uint8_t> big(96 * 96), out(48 * 48);
  for (int y = 0; y < 96; ++y)
    for (int x = 0; x < 96; ++x) big[static_cast<std::size_t>(y * 96 + x)] = ((y / 2 + x / 2) % 2) ? 200 : 10;
  big[0] = 0, big[1] = 4, big[96] = 8, big[97] = 12;  // first block: mean 6
  resize_gray(big.data(), 96, 96, out.data(), 48, 48);
  CHECK(out[0] == 6);
  CHECK(out[1] == 200);
  CHECK(out[48] == 200);
  CHECK(out[49] == 10);
  // 72 -> 48 (factor 1.5): output 0 covers source [0, 1.5) -> (2*a0 + a1)/3 along each axis.
  std::vector<std::uint8_t> row72(72 * 72);
  for (int y = 0; y < 72; ++y)
    for (int x = 0; x < 72; ++x) row72[static_cast<std::size_t>(y * 72 + x)] = static_cast<std::uint8_t>(x * 3);
  resize_gray(row72.data(), 72, 72, out.data(), 48, 48);
  CHECK(out[0] == 1);   // (0 + 0.5*3)/1.5 = 1
  CHECK(out[1] == 5);   // source [1.5, 3): (0.5*3 + 6)/1.5 = 5
  // 2x2 -> 4x4 bilinear with centres aligned: [[0, 0.25*90, 0.75*90, 90], ...] per row.
  const std::uint8_t small[4] = {0, 90, 0, 90};
  std::uint8_t up[16];
  resize_gray(small, 2, 2, up, 4, 4);
  CHECK(std::vector<int>(up, up + 4) == std::vector<int>{0, 23, 68, 90});
  // Same size: exact copy.
  const auto px = gradient(48, 48);
  resize_gray(px.data(), 48, 48, out.data(), 48, 48);
  CHECK(out == px);
}
