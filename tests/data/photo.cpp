// Photos as model inputs: the EXIF orientation parser on made-up byte strings (every field and every
// way it can be broken), turning images upright, the --crop box, the three fit rules, and whole files
// (an EXIF-rotated JPEG, a small face in a larger non-square scene).
#include "moodnet/data/photo.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "encode.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;

namespace {
using Bytes = std::vector<std::uint8_t>;

void photo_put16(Bytes& b, std::uint32_t v, bool little) {
  if (little) b.push_back(v & 0xFF), b.push_back((v >> 8) & 0xFF);
  else b.push_back((v >> 8) & 0xFF), b.push_back(v & 0xFF);
}
void photo_put32(Bytes& b, std::uint32_t v, bool little) {
  if (little) photo_put16(b, v & 0xFFFF, true), photo_put16(b, v >> 16, true);
  else photo_put16(b, v >> 16, false), photo_put16(b, v & 0xFFFF, false);
}
// One 12-byte IFD entry whose value fits in its 4 value bytes.
void photo_entry(Bytes& b, std::uint32_t tag, std::uint32_t type, std::uint32_t count, std::uint32_t value, bool little) {
  photo_put16(b, tag, little), photo_put16(b, type, little), photo_put32(b, count, little);
  if (type == 3) photo_put16(b, value, little), photo_put16(b, 0, little);  // a SHORT sits in the first 2 bytes
  else photo_put32(b, value, little);
}
// The payload of an APP1 EXIF segment: "Exif\0\0", a TIFF header, IFD0 with a Make entry then the
// given orientation entry.
Bytes photo_exif_payload(bool little, std::uint32_t orientation, std::uint32_t type = 3, std::uint32_t count = 1) {
  Bytes b = {'E', 'x', 'i', 'f', 0, 0};
  b.push_back(little ? 'I' : 'M'), b.push_back(little ? 'I' : 'M');
  photo_put16(b, 42, little);
  photo_put32(b, 8, little);  // IFD0 right after the 8-byte header
  photo_put16(b, 2, little);  // two entries
  photo_entry(b, 0x010F, 2, 4, 0x00414243, little);  // Make "ABC\0" (ASCII, 4 bytes inline)
  photo_entry(b, 0x0112, type, count, orientation, little);
  photo_put32(b, 0, little);  // no next IFD
  return b;
}
// A segment FF <marker> <length> <payload>.
Bytes photo_segment(std::uint8_t marker, const Bytes& payload) {
  Bytes b = {0xFF, marker};
  photo_put16(b, static_cast<std::uint32_t>(payload.size() + 2), false);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}
// SOI, the given segments, then a start of scan and a few bytes of "entropy-coded data".
Bytes photo_jpeg(const std::vector<Bytes>& segments) {
  Bytes b = {0xFF, 0xD8};
  for (const auto& s : segments) b.insert(b.end(), s.begin(), s.end());
  const Bytes sos = photo_segment(0xDA, {1, 1, 0, 0, 0x3F, 0});
  b.insert(b.end(), sos.begin(), sos.end());
  b.insert(b.end(), {0x12, 0x34, 0xFF, 0xD9});
  return b;
}
const Bytes kPhotoJfif = photo_segment(0xE0, {'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});
int photo_orientation(const Bytes& b) { return jpeg_exif_orientation(b.data(), b.size()); }

// Planar image [channels, h, w] with the given pixels.
Image photo_image(int w, int h, int channels, Bytes px) {
  Image img;
  img.width = w, img.height = h, img.channels = channels, img.pixels = std::move(px);
  REQUIRE(img.pixels.size() == static_cast<std::size_t>(w * h * channels));
  return img;
}
}  // namespace

TEST_CASE("jpeg_exif_orientation: reads tag 0x0112 in both byte orders", "[data][photo]") {
  for (std::uint32_t o = 1; o <= 8; ++o) {
    INFO("orientation " << o);
    CHECK(photo_orientation(photo_jpeg({kPhotoJfif, photo_segment(0xE1, photo_exif_payload(true, o))})) == int(o));
    CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, photo_exif_payload(false, o))})) == int(o));
  }
  // An XMP APP1 segment first (also marker E1, not "Exif"), fill bytes before a marker.
  Bytes xmp = {'h', 't', 't', 'p', ':', '/', '/', 'n', 's', '.', 'a', 'd', 'o', 'b', 'e', '.', 'c', 'o', 'm', 0};
  Bytes b = photo_jpeg({photo_segment(0xE1, xmp), Bytes{0xFF}, photo_segment(0xE1, photo_exif_payload(true, 6))});
  CHECK(photo_orientation(b) == 6);
}

TEST_CASE("jpeg_exif_orientation: anything else is 1 (as stored)", "[data][photo]") {
  CHECK(photo_orientation({}) == 1);
  CHECK(photo_orientation({0xFF, 0xD8}) == 1);
  CHECK(photo_orientation({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}) == 1);  // not a JPEG
  CHECK(photo_orientation(photo_jpeg({kPhotoJfif})) == 1);                      // no EXIF
  // Values outside 1..8, and an orientation of the wrong type or count.
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, photo_exif_payload(true, 0))})) == 1);
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, photo_exif_payload(true, 9))})) == 1);
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, photo_exif_payload(true, 6, 4))})) == 1);     // LONG
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, photo_exif_payload(false, 6, 3, 2))})) == 1);  // 2 values
  // A bad TIFF header: byte order, magic number, IFD offset outside the block.
  Bytes p = photo_exif_payload(true, 6);
  p[6] = 'X';
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, p)})) == 1);
  p = photo_exif_payload(true, 6), p[8] = 43;
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, p)})) == 1);
  p = photo_exif_payload(true, 6), p[10] = 0xF0;  // IFD0 at 0xF0 + 8, past the segment
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, p)})) == 1);
  // An IFD claiming 1000 entries in a block holding 2: the entries past the segment are not read.
  p = photo_exif_payload(true, 6), p[14] = 0xE8, p[15] = 0x03;
  p.resize(p.size() - 16);  // drop the orientation entry and the next-IFD offset
  CHECK(photo_orientation(photo_jpeg({photo_segment(0xE1, p)})) == 1);
  // An EXIF segment after the first scan is not looked for; a segment longer than the file is
  // truncated; a length below 2 is broken.
  Bytes after = photo_jpeg({kPhotoJfif});
  const Bytes exif = photo_segment(0xE1, photo_exif_payload(true, 6));
  after.insert(after.end() - 2, exif.begin(), exif.end());
  CHECK(photo_orientation(after) == 1);
  Bytes longer = photo_jpeg({photo_segment(0xE1, photo_exif_payload(true, 6))});
  longer[4] = 0x7F;  // length 0x7Fxx
  CHECK(photo_orientation(longer) == 1);
  Bytes tiny = photo_jpeg({kPhotoJfif});
  tiny[4] = 0, tiny[5] = 1;
  CHECK(photo_orientation(tiny) == 1);
}

TEST_CASE("jpeg_exif_orientation: every prefix and every one-byte change stays in bounds", "[data][photo]") {
  // Under the sanitize preset an out-of-bounds read fails here; in any build the answer is 1..8.
  const Bytes good = photo_jpeg({kPhotoJfif, photo_segment(0xE1, photo_exif_payload(false, 6))});
  for (std::size_t n = 0; n <= good.size(); ++n) {
    const Bytes prefix(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    const int o = photo_orientation(prefix);
    CHECK((o == 1 || o == 6));
  }
  for (std::size_t i = 0; i < good.size(); ++i)
    for (int v : {0x00, 0x01, 0x7F, 0xFF}) {
      Bytes b = good;
      b[i] = static_cast<std::uint8_t>(v);
      const int o = photo_orientation(b);
      CHECK((o >= 1 && o <= 8));
    }
}

TEST_CASE("orient_image: the eight orientations, written out", "[data][photo]") {
  // Stored 3 wide, 2 tall:  a b c
  //                         d e f
  const Image img = photo_image(3, 2, 1, {'a', 'b', 'c', 'd', 'e', 'f'});
  const auto upright = [&](int o) {
    const Image r = orient_image(img, o);
    return std::to_string(r.width) + "x" + std::to_string(r.height) + ":" + std::string(r.pixels.begin(), r.pixels.end());
  };
  CHECK(upright(1) == "3x2:abcdef");
  CHECK(upright(2) == "3x2:cbafed");  // mirrored left-right
  CHECK(upright(3) == "3x2:fedcba");  // 180
  CHECK(upright(4) == "3x2:defabc");  // mirrored top-bottom
  CHECK(upright(5) == "2x3:adbecf");  // transposed
  CHECK(upright(6) == "2x3:daebfc");  // stored turned 90 clockwise: the left column d,a becomes the top row
  CHECK(upright(7) == "2x3:fcebda");  // transversed
  CHECK(upright(8) == "2x3:cfbead");  // 90 counter-clockwise
  CHECK(upright(0) == "3x2:abcdef");  // not an orientation: unchanged
  // 6 and 8 undo each other; every planar channel turns the same way.
  const Image rgb = photo_image(3, 2, 3, {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16, 21, 22, 23, 24, 25, 26});
  const Image turned = orient_image(rgb, 6);
  CHECK(turned.pixels == Bytes{4, 1, 5, 2, 6, 3, 14, 11, 15, 12, 16, 13, 24, 21, 25, 22, 26, 23});
  CHECK(orient_image(turned, 8).pixels == rgb.pixels);
}

TEST_CASE("parse_pixel_box and crop_image: --crop X,Y,W,H of the upright image", "[data][photo]") {
  const PixelBox b = parse_pixel_box("1,0,2,2", "--crop");
  CHECK((b.x == 1 && b.y == 0 && b.w == 2 && b.h == 2));
  for (const char* bad : {"", "1,2,3", "1,2,3,4,5", "a,b,c,d", "1,2,-3,4", "1, 2,3,4", "1,2,0,4", "1,2,3,0",
                          "1,2,3,4,", "9999999,1,1,1"}) {
    INFO("'" << bad << "'");
    test::require_error_naming([&] { parse_pixel_box(bad, "--crop"); }, {"--crop", bad});
  }
  const Image img = photo_image(3, 2, 1, {'a', 'b', 'c', 'd', 'e', 'f'});
  const Image c = crop_image(img, b, "x.jpg");
  CHECK(std::string(c.pixels.begin(), c.pixels.end()) == "bcef");
  test::require_error_naming([&] { crop_image(img, {2, 0, 2, 2}, "x.jpg"); }, {"x.jpg", "2,0,2,2", "3x2"});
  test::require_error_naming([&] { crop_image(img, {0, 1, 1, 2}, "x.jpg"); }, {"x.jpg", "does not fit"});
}

TEST_CASE("fit_image: crop keeps the centre, stretch the whole, letterbox pads", "[data][photo]") {
  // 4 wide, 2 tall, into 2x2: crop takes the two middle columns exactly.
  const Image wide = photo_image(4, 2, 1, {10, 20, 30, 40, 50, 60, 70, 80});
  Bytes out(4);
  fit_image(wide, {1, 2, 2}, Fit::crop, {0}, out.data());
  CHECK(out == Bytes{20, 30, 60, 70});
  fit_image(wide, {1, 2, 2}, Fit::stretch, {0}, out.data());
  CHECK(out == Bytes{15, 35, 55, 75});  // area average of column pairs
  // Letterbox into 4x4: the image keeps its 4x2 pixels in rows 1-2, rows 0 and 3 are the pad value.
  Bytes box(16);
  fit_image(wide, {1, 4, 4}, Fit::letterbox, {128}, box.data());
  CHECK(box == Bytes{128, 128, 128, 128, 10, 20, 30, 40, 50, 60, 70, 80, 128, 128, 128, 128});
  // A tall RGB strip 1x3 into 3x3: the middle column, one pad value per channel beside it.
  const Image tall = photo_image(1, 3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  Bytes rgb(27);
  fit_image(tall, {3, 3, 3}, Fit::letterbox, {100, 110, 120}, rgb.data());
  CHECK(rgb == Bytes{100, 1, 100, 100, 2, 100, 100, 3, 100,  //
                     110, 4, 110, 110, 5, 110, 110, 6, 110,  //
                     120, 7, 120, 120, 8, 120, 120, 9, 120});
  CHECK(parse_fit("letterbox") == Fit::letterbox);
  test::require_error_naming([] { parse_fit("zoom"); }, {"zoom", "crop, stretch or letterbox"});
}

TEST_CASE("load_photo: an EXIF-rotated JPEG is read upright", "[data][photo]") {
  // Stored 16 wide, 8 tall: the left half dark, the right half light. With orientation 6 (turn 90
  // clockwise for display) the upright image is 8 wide, 16 tall: the dark half on top.
  const int w = 16, h = 8;
  Bytes px(static_cast<std::size_t>(w * h));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) px[static_cast<std::size_t>(y * w + x)] = x < w / 2 ? 20 : 230;
  std::string jpg = test::encode("jpg", w, h, 1, px);
  const Bytes exif = photo_segment(0xE1, photo_exif_payload(false, 6));
  jpg.insert(2, std::string(exif.begin(), exif.end()));  // right after SOI
  test::TempDir dir("photo");
  test::write_bytes(dir / "rotated.jpg", jpg);
  const ImageShape upright{1, 16, 8};
  Bytes out(static_cast<std::size_t>(upright.numel()));
  load_photo(dir / "rotated.jpg", "rotated.jpg", upright, {}, out.data());
  for (int y = 0; y < 16; ++y) {
    INFO("row " << y);
    CHECK(std::abs(out[static_cast<std::size_t>(y * 8 + 3)] - (y < 8 ? 20 : 230)) <= 8);  // JPEG at quality 100
  }
  // Without EXIF the stored layout is kept (and stretched to 8x16: left dark, right light).
  PhotoOptions raw;
  raw.use_exif = false, raw.fit = Fit::stretch;
  load_photo(dir / "rotated.jpg", "rotated.jpg", upright, raw, out.data());
  CHECK(std::abs(out[4 * 8 + 0] - 20) <= 8);
  CHECK(std::abs(out[4 * 8 + 7] - 230) <= 8);
}

TEST_CASE("load_photo: a small face in a wide scene, by --crop, keeps its pixels", "[data][photo]") {
  // A 64x32 scene of gray 90 with an 8x8 "face" (a gradient) at x 40, y 10: whole-image fitting
  // shrinks the face to a few pixels; the box gives the model the face itself.
  const int w = 64, h = 32;
  Bytes scene(static_cast<std::size_t>(w * h), 90), face(64);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      face[static_cast<std::size_t>(y * 8 + x)] = scene[static_cast<std::size_t>((10 + y) * w + 40 + x)] =
          static_cast<std::uint8_t>(100 + 16 * y + x);
  test::TempDir dir("photo");
  test::write_bytes(dir / "scene.png", test::encode("png", w, h, 1, scene));
  PhotoOptions o;
  o.box = parse_pixel_box("40,10,8,8", "--crop");
  Bytes out(64);
  load_photo(dir / "scene.png", "scene.png", {1, 8, 8}, o, out.data());
  CHECK(out == face);
  // The default centre crop of the whole scene is its middle 32x32 (columns 16..47), at 8x8.
  o.box.reset();
  load_photo(dir / "scene.png", "scene.png", {1, 8, 8}, o, out.data());
  Bytes expected(64);
  fit_image(crop_image(photo_image(w, h, 1, scene), {16, 0, 32, 32}, "scene"), {1, 8, 8}, Fit::stretch, {0},
            expected.data());
  CHECK(out == expected);
  // A box outside the scene names the file and the scene's size.
  o.box = PixelBox{60, 0, 8, 8};
  test::require_error_naming([&] { load_photo(dir / "scene.png", "scene.png", {1, 8, 8}, o, out.data()); },
                             {"scene.png", "64x32"});
}
