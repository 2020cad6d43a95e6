// predict --annotate's picture (train/annotate.hpp): the photo's own pixels, each box outlined in
// its colour, its label on a band of that colour above it (inside it at the top edge).
#include "moodnet/train/annotate.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace moodnet;

TEST_CASE("annotate_photo: photo pixels kept, boxes outlined, labels drawn above or inside", "[train][annotate]") {
  data::Image img;
  img.width = 120, img.height = 80, img.channels = 3;
  img.pixels.resize(3 * 120 * 80);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = static_cast<std::uint8_t>(40 + i / (120 * 80) * 50);
  const train::Canvas c = train::annotate_photo(img, {{{60, 30, 40, 40}, "happy 88%"}, {{5, 0, 30, 30}, "sad 51%"}});
  REQUIRE(c.width() == 120);
  REQUIRE(c.height() == 80);
  CHECK(c.pixel(110, 75) == train::Color{40, 90, 140});  // untouched: R, G, B planes
  CHECK(c.pixel(60, 50) == train::kBoxColors[0]);         // left edge of box 0
  CHECK(c.pixel(99, 69) == train::kBoxColors[0]);         // its bottom-right corner
  CHECK(c.pixel(80, 50) == train::Color{40, 90, 140});   // its inside
  // Box 0's label band sits above it (y < 30) and holds white text pixels; box 1 has no room above,
  // so its band is inside its top edge.
  int white_above = 0, white_inside = 0;
  for (int y = 0; y < 30; ++y)
    for (int x = 59; x < 120; ++x) white_above += c.pixel(x, y) == train::kWhite;
  for (int y = 0; y < 14; ++y)
    for (int x = 4; x < 50; ++x) white_inside += c.pixel(x, y) == train::kWhite;
  CHECK(white_above > 20);
  CHECK(white_inside > 20);
  CHECK(c.pixel(59, 29 - train::Canvas::text_height(1) - 1) == train::kBoxColors[0]);  // the band's colour

  data::Image gray;
  gray.width = 10, gray.height = 10, gray.channels = 1, gray.pixels.assign(100, 7);
  CHECK(train::annotate_photo(gray, {}).pixel(3, 3) == train::Color{7, 7, 7});
}
