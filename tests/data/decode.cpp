// Image decoding to gray or RGB, every stb format, resizing with its aspect rule, and the errors for bad image bytes.
#include "moodnet/data/image_decode.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "moodnet/data/resize.hpp"
#include "encode.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::encode;
using moodnet::test::require_error_naming;

namespace {
GrayImage decode(const std::string& bytes, const std::string& name = "img") {
  return decode_gray(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), name);
}
// The message decode_image (as stored) gives for `bytes`, or "no error".
std::string decode_error_of(const std::string& bytes, const std::string& name) {
  try {
    decode_image(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), name, 0);
  } catch (const moodnet::Error& e) {
    return e.what();
  }
  return "no error";
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

namespace {
Image decode_as(const std::string& bytes, int channels, const std::string& name = "img") {
  return decode_image(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), name, channels);
}
// A 1x1 GIF without transparency whose one pixel is colour 0 of a 2-entry global table:
// (200, 100, 50). LZW with minimum code size 2: clear (4), index 0, end (5) in 3-bit codes = 44 01.
std::string gif_1x1() {
  const unsigned char b[] = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,  // screen, global table of 2
                             200, 100, 50, 0, 0, 255,                                  // the table
                             0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0,                          // image descriptor
                             2, 2, 0x44, 0x01, 0,                                      // LZW data
                             0x3B};
  return std::string(reinterpret_cast<const char*>(b), sizeof b);
}
}  // namespace

TEST_CASE("decode_image: colour kept as R, G, B planes; gray replicated; as stored picks 1 or 3", "[data][decode]") {
  // 3x2 RGB with distinct values per pixel and channel.
  std::vector<std::uint8_t> planar(3 * 6);
  for (std::size_t i = 0; i < planar.size(); ++i) planar[i] = static_cast<std::uint8_t>(10 + 13 * i);
  const auto rgb = test::interleave(planar, 2, 3);
  for (const char* f : {"png", "bmp", "tga"}) {
    INFO(f);
    const Image img = decode_as(encode(f, 3, 2, 3, rgb), 3);
    CHECK(img.shape() == ImageShape{3, 2, 3});
    CHECK(img.pixels == planar);
    CHECK(decode_as(encode(f, 3, 2, 3, rgb), 0).channels == 3);  // colour file, as stored
  }
  CHECK(decode_as(test::ppm(3, 2, rgb), 3).pixels == planar);
  // A gray file asked for 3 channels: the plane three times; as stored it stays 1 channel.
  const std::vector<std::uint8_t> gray{1, 2, 3, 4, 5, 6};
  const Image g3 = decode_as(test::pgm(3, 2, gray), 3);
  CHECK(g3.pixels == std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6});
  CHECK(decode_as(test::pgm(3, 2, gray), 0).channels == 1);
  // RGBA -> RGB drops alpha; gray+alpha -> gray (and counts as gray when as stored).
  const std::vector<std::uint8_t> rgba{255, 0, 0, 7, 0, 0, 255, 128};
  CHECK(decode_as(encode("png", 2, 1, 4, rgba), 3).pixels == std::vector<std::uint8_t>{255, 0, 0, 0, 0, 255});
  const std::vector<std::uint8_t> ga{90, 1, 180, 255};
  const Image gray_alpha = decode_as(encode("png", 2, 1, 2, ga), 0);
  CHECK(gray_alpha.channels == 1);
  CHECK(gray_alpha.pixels == std::vector<std::uint8_t>{90, 180});
  require_error_naming([&] { decode_as(test::pgm(3, 2, gray), 2, "x/two.pgm"); }, {"x/two.pgm", "channels"});
}

TEST_CASE("decode_image: GIF and 16-bit PGM (high byte kept) decode; probe_image_file reads the header",
          "[data][decode]") {
  const Image gif = decode_as(gif_1x1(), 0, "one.gif");
  CHECK(gif.shape() == ImageShape{3, 1, 1});
  CHECK(gif.pixels == std::vector<std::uint8_t>{200, 100, 50});
  CHECK(decode_as(gif_1x1(), 1).pixels == std::vector<std::uint8_t>{luma_bt601(200, 100, 50)});
  std::string pgm16 = "P5\n2 1\n65535\n";
  pgm16 += std::string("\x12\x34\xAB\xCD", 4);
  CHECK(decode_as(pgm16, 1).pixels == std::vector<std::uint8_t>{0x12, 0xAB});

  test::TempDir tmp;
  test::write_bytes(tmp / "a.png", encode("png", 5, 3, 3, std::vector<std::uint8_t>(45, 9)));
  test::write_bytes(tmp / "b.pgm", test::pgm(7, 2, std::vector<std::uint8_t>(14, 1)));
  test::write_bytes(tmp / "c.txt", "not an image");
  test::write_bytes(tmp / "empty.png", "");
  const ImageInfo a = probe_image_file(tmp / "a.png", "a.png"), b = probe_image_file(tmp / "b.pgm", "b.pgm");
  CHECK((a.width == 5 && a.height == 3 && a.channels == 3));
  CHECK((b.width == 7 && b.height == 2 && b.channels == 1));
  require_error_naming([&] { probe_image_file(tmp / "c.txt", "dir/c.txt"); }, {"dir/c.txt", "cannot decode"});
  require_error_naming([&] { probe_image_file(tmp / "empty.png", "dir/empty.png"); }, {"dir/empty.png", "0 bytes"});
  require_error_naming([&] { probe_image_file(tmp / "nope.png", "dir/nope.png"); }, {"dir/nope.png", "no such file"});
}

TEST_CASE("resize_image: crop keeps the aspect (centred window), stretch distorts; same per channel", "[data][resize]") {
  // 40 wide x 20 high, pixel = 6 x, in two channels (the second + 1).
  std::vector<std::uint8_t> src(2 * 20 * 40);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 40; ++x) src[static_cast<std::size_t>((c * 20 + y) * 40 + x)] = static_cast<std::uint8_t>(6 * x + c);
  std::vector<std::uint8_t> out(2 * 10 * 10);
  // crop: the centred 20x20 window (columns 10..29), halved: out x = mean(6 (10 + 2x), 6 (11 + 2x)) = 63 + 12 x.
  resize_image(src.data(), 2, 20, 40, out.data(), 10, 10, ResizeMode::crop);
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 10; ++x) REQUIRE(int(out[static_cast<std::size_t>((c * 10 + y) * 10 + x)]) == 63 + 12 * x + c);
  // stretch: 4 columns per output column: mean(6 (4x .. 4x+3)) = 24 x + 9.
  resize_image(src.data(), 2, 20, 40, out.data(), 10, 10, ResizeMode::stretch);
  for (int x = 0; x < 10; ++x) CHECK(int(out[static_cast<std::size_t>(5 * 10 + x)]) == 24 * x + 9);
  // The window: wide sources lose columns, tall ones rows, equal aspects nothing.
  const CropBox wide = centre_crop_box(20, 40, 10, 10), tall = centre_crop_box(41, 10, 8, 4),
                same = centre_crop_box(30, 60, 15, 30);
  CHECK((wide.y0 == 0 && wide.x0 == 10 && wide.h == 20 && wide.w == 20));
  CHECK((tall.y0 == 10 && tall.x0 == 0 && tall.h == 20 && tall.w == 10));
  CHECK((same.y0 == 0 && same.x0 == 0 && same.h == 30 && same.w == 60));
  CHECK(parse_resize_mode("stretch") == ResizeMode::stretch);
  require_error_naming([] { parse_resize_mode("squash"); }, {"squash"});
}

// Issue 19: a tiny file declaring a huge image was decoded (a 1.6 KB JPEG of 16384x16384, a truncated
// BMP allocating 774 MB before failing). The declared size is checked on the header first.
TEST_CASE("decode_image: an image declaring more than kMaxImagePixels is refused before decoding", "[data][decode]") {
  using moodnet::data::kMaxImagePixels;
  const auto decode_error = [](const std::string& bytes) { return decode_error_of(bytes, "huge"); };
  // A PGM header of 8192 x 8192 with a few pixel bytes.
  CHECK(decode_error("P5\n8192 8192\n255\n" + std::string(16, '\x7f')) ==
        "'huge' declares 8192x8192 = 67108864 pixels, more than the limit of 33554432 (2^25) moodnet decodes");
  // A PNG that is only its signature and an IHDR chunk declaring 16384 x 16384 RGBA.
  std::string png = "\x89PNG\r\n\x1a\n";
  png += std::string("\0\0\0\x0dIHDR", 8) + std::string("\0\0\x40\0\0\0\x40\0\x08\x06\0\0\0", 13) + "CRC!";
  CHECK_THAT(decode_error(png), Catch::StartsWith("'huge' declares 16384x16384 = 268435456 pixels"));
  // At the limit the header passes and the decoder reports the missing data as before.
  const std::string at_limit = "P5\n8192 4096\n255\n" + std::string(16, '\x7f');
  REQUIRE(8192LL * 4096 == kMaxImagePixels);
  CHECK_THAT(decode_error(at_limit), Catch::Contains("is truncated"));
}

// Issue 19: a FIFO named like an image (or inside a dataset folder) blocked predict and evaluate
// forever in open(); it is refused from its type, never opened.
TEST_CASE("read_file_bytes and probe_image_file: a FIFO is not a regular file, refused without opening it",
          "[data][decode]") {
  test::TempDir tmp("fifo");
  const auto fifo = tmp / "face.jpg";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_file_bytes(fifo), "cannot read '" + fifo.string() + "': not a regular file (a FIFO)");
  CHECK_THROWS_WITH(moodnet::data::probe_image_file(fifo, "face.jpg"),
                    "cannot read 'face.jpg': not a regular file (a FIFO)");
  CHECK_THROWS_WITH(moodnet::data::load_image(fifo, 1), Catch::Contains("not a regular file (a FIFO)"));
}

// Issue 19: stb_image decoded PNGs whose chunk CRCs are wrong (a corrupted file gave wrong pixels
// silently), and negated a BMP height of INT_MIN (undefined behaviour, reported by UBSan).
TEST_CASE("decode_image: PNG chunk CRCs are checked, a BMP side of INT_MIN is refused before stb", "[data][decode]") {
  const auto decode_error = [](const std::string& bytes) { return decode_error_of(bytes, "x"); };
  const std::vector<std::uint8_t> px = {10, 20, 30, 40, 50, 60};
  const std::string png = test::encode("png", 3, 2, 1, px);
  CHECK(decode_error(png) == "no error");
  std::string bad_crc = png;
  bad_crc[8 + 8 + 13] ^= 1;  // the IHDR chunk's CRC (chunk at byte 8: length, type, 13 data bytes, CRC)
  CHECK_THAT(decode_error(bad_crc), Catch::StartsWith("'x' is corrupt: PNG chunk IHDR at byte 8 has CRC 0x"));
  std::string bad_data = png;
  bad_data[png.size() - 12 - 5] ^= 0x40;  // a byte of the last IDAT's data, before its CRC and IEND
  CHECK_THAT(decode_error(bad_data), Catch::Contains("is corrupt: PNG chunk IDAT at byte"));

  std::string bmp = test::encode("bmp", 3, 2, 1, px);
  REQUIRE(bmp.size() > 26);
  CHECK(decode_error(bmp) == "no error");
  const char int_min[4] = {0, 0, 0, static_cast<char>(0x80)};
  std::string tall = bmp;
  tall.replace(22, 4, int_min, 4);
  CHECK(decode_error(tall) == "'x' is corrupt: its BMP height is -2147483648");
  test::TempDir tmp("bmp-int-min");
  test::write_bytes(tmp / "tall.bmp", tall);
  CHECK_THROWS_WITH(moodnet::data::probe_image_file(tmp / "tall.bmp", "tall.bmp"),
                    "'tall.bmp' is corrupt: its BMP height is -2147483648");
}

// Issue 19: a 1x1 PNG whose zlib stream inflates to gigabytes took 1.5 GB (stb inflates it all).
TEST_CASE("decode_image: a PNG whose image data is far larger than its pixels can need is refused", "[data][decode]") {
  using moodnet::data::detail::crc32;
  // A 1x1 gray PNG: signature, IHDR, one IDAT of `idat` bytes (its content does not matter: the
  // size is checked first), IEND; every CRC right.
  const auto chunk = [](const std::string& type, const std::string& data) {
    std::string c;
    for (int s = 24; s >= 0; s -= 8) c += static_cast<char>((data.size() >> s) & 0xFF);
    const std::string body = type + data;
    const std::uint32_t crc = crc32(reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
    c += body;
    for (int s = 24; s >= 0; s -= 8) c += static_cast<char>((crc >> s) & 0xFF);
    return c;
  };
  const auto png_1x1 = [&](std::size_t idat) {
    return std::string("\x89PNG\r\n\x1a\n") + chunk("IHDR", std::string("\0\0\0\x01\0\0\0\x01\x08\0\0\0\0", 13)) +
           chunk("IDAT", std::string(idat, '\0')) + chunk("IEND", "");
  };
  const auto decode_error = [](const std::string& bytes) { return decode_error_of(bytes, "bomb.png"); };
  // 1x1 gray: raw 2 bytes, so at most 2 * 2 + 65536 bytes of IDAT.
  CHECK(decode_error(png_1x1(65541)) == "'bomb.png' is corrupt: its PNG image data is over 65541 compressed bytes, "
                                        "more than its 1x1 pixels can need (65540)");
  CHECK_THAT(decode_error(png_1x1(65540)), !Catch::Contains("compressed bytes"));  // at the bound: stb's own verdict
  // The stb encoder's real files pass.
  const std::vector<std::uint8_t> noise = [] {
    std::vector<std::uint8_t> v(64 * 64 * 3);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i * 2654435761u >> 13);
    return v;
  }();
  CHECK(decode_error(test::encode("png", 64, 64, 3, noise)) == "no error");
}
