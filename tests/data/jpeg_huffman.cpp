// A JPEG Huffman table (DHT) listing more than 256 codes is refused before stb_image sees it (found
// by fuzzing, issue 19: stb 2.27 writes past the table's 257-entry size list, UBSan "index 257 out
// of bounds"), by decode_image and by probe_image_file (whose stbi_info reads the tables that come
// before the frame header); the committed crash input (tools/fuzz/corpus/image/) is refused too.
// Also the probe's end-of-file rule (a second fuzzing finding, below).
#include <catch2/catch.hpp>

#include <string>

#include "moodnet/data/image_decode.hpp"
#include "support.hpp"

using namespace moodnet;

namespace {
// SOI, a DHT segment with one table whose 16 counts are all 17 (272 codes) and 272 symbols, EOI.
std::string jpeg_with_oversized_dht() {
  std::string table(1, '\x00');  // class 0 (DC), id 0
  table += std::string(16, '\x11');
  table += std::string(272, '\x01');
  const std::size_t length = 2 + table.size();
  std::string s = "\xFF\xD8\xFF\xC4";
  s += static_cast<char>(length >> 8);
  s += static_cast<char>(length & 0xFF);
  return s + table + "\xFF\xD9";
}
}  // namespace

TEST_CASE("JPEG: a Huffman table of more than 256 codes is refused before stb reads it", "[data][decode]") {
  const std::string bytes = jpeg_with_oversized_dht();
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  CHECK_THROWS_WITH(data::decode_image(p, bytes.size(), "dht.jpg", 1),
                    Catch::Equals("'dht.jpg' is a corrupt JPEG: its Huffman table at byte 6 lists 272 codes, more "
                                  "than the 256 a table can hold"));
  test::TempDir dir("jpeg-dht");
  test::write_bytes(dir / "dht.jpg", bytes);
  CHECK_THROWS_WITH(data::probe_image_file(dir / "dht.jpg", "dht.jpg"), Catch::Contains("lists 272 codes"));

  // The input the fuzzer found (292 bytes: a DHT whose counts sum to 352).
  const std::string found = test::read_bytes(std::string(MOODNET_SOURCE_DIR) +
                                             "/tools/fuzz/corpus/image/bad-jpeg-dht-over-256-codes.jpg");
  REQUIRE(found.size() > 100);
  CHECK_THROWS_WITH(data::decode_image(reinterpret_cast<const std::uint8_t*>(found.data()), found.size(), "found.jpg", 3),
                    Catch::Contains("is a corrupt JPEG: its Huffman table at byte "));
}

// stb takes a run of 0xFF fill bytes before the start-of-image marker (FF FF D8 ... is a JPEG to it),
// so the check must too (a fourth fuzzing finding, CI 2026-12-01: corpus/image/bad-jpeg-dht-fill-before-soi.jpg).
TEST_CASE("JPEG: fill bytes before the start-of-image marker do not hide an oversized Huffman table", "[data][decode]") {
  const std::string bytes = "\xFF\xFF\xFF" + jpeg_with_oversized_dht().substr(1);
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  CHECK_THROWS_WITH(data::decode_image(p, bytes.size(), "fill.jpg", 1), Catch::Contains("lists 272 codes"));
  test::TempDir dir("jpeg-fill");
  test::write_bytes(dir / "fill.jpg", bytes);
  CHECK_THROWS_WITH(data::probe_image_file(dir / "fill.jpg", "fill.jpg"), Catch::Contains("lists 272 codes"));
  const std::string found = test::read_bytes(std::string(MOODNET_SOURCE_DIR) +
                                             "/tools/fuzz/corpus/image/bad-jpeg-dht-fill-before-soi.jpg");
  REQUIRE(found.size() > 100);
  CHECK_THROWS_WITH(data::decode_image(reinterpret_cast<const std::uint8_t*>(found.data()), found.size(), "found.jpg", 3),
                    Catch::Contains("is a corrupt JPEG: its Huffman table at byte "));
}

// A segment length that skips past the end of the file (fseek clears the stream's EOF flag) made
// stb's search for the frame header wait forever when probe_image_file read through a FILE (found by
// fuzzing: libFuzzer's 10 s timeout); the probe now parses a prefix in memory, and must still refuse it.
TEST_CASE("probe_image_file: a JPEG segment skipping past the end is refused, not waited on", "[data][decode]") {
  const std::string source = std::string(MOODNET_SOURCE_DIR) + "/tools/fuzz/corpus/image/bad-jpeg-skip-past-end.jpg";
  CHECK_THROWS_WITH(data::probe_image_file(source, "skip.jpg"), Catch::StartsWith("cannot decode 'skip.jpg' as an image"));
}

// A PGM/PPM header number with more digits than an int holds is refused before stb reads it (found by
// fuzzing: stb 2.27 overflows a signed int, UBSan), in decode_image and in probe_image_file.
TEST_CASE("PNM: a header number that overflows an int is refused before stb reads it", "[data][decode]") {
  const std::string bytes = "P5 2 2 # a comment\n99999999999\n" + std::string(4, '\x07');
  CHECK_THROWS_WITH(data::decode_image(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "big.pgm", 1),
                    Catch::Equals("'big.pgm' is corrupt: its PNM maxval has more digits than an int holds"));
  test::TempDir dir("pnm-overflow");
  test::write_bytes(dir / "big.pgm", bytes);
  CHECK_THROWS_WITH(data::probe_image_file(dir / "big.pgm", "big.pgm"), Catch::Contains("its PNM maxval has more digits"));
  const std::string ok = "P5 2 2 255\n" + std::string(4, '\x07');  // a normal header still decodes
  CHECK(data::decode_image(reinterpret_cast<const std::uint8_t*>(ok.data()), ok.size(), "ok.pgm", 1).width == 2);
}

// stb tries its formats in turn and, reading through callbacks, rewinds only to the start of its last
// 128-byte block: a JPEG whose header search read past the first block and failed handed the PNM
// reader a block from the middle of the file, whose "P5 9999999999999" overflowed an int (UBSan,
// found by fuzzing in CI, 2026-12-01). Headers are parsed from memory now, where a rewind is exact.
TEST_CASE("image headers: a failed JPEG header does not hand the PNM reader the middle of the file", "[data][decode]") {
  const std::string source = std::string(MOODNET_SOURCE_DIR) + "/tools/fuzz/corpus/image/bad-jpeg-header-then-pnm.jpg";
  const auto bytes = data::read_file_bytes(source);
  CHECK_THROWS_WITH(data::decode_image(bytes.data(), bytes.size(), "mixed.jpg", 1),
                    Catch::StartsWith("cannot decode 'mixed.jpg' as an image"));
  CHECK_THROWS_WITH(data::probe_image_file(source, "mixed.jpg"), Catch::StartsWith("cannot decode 'mixed.jpg' as an image"));
}

// A JPEG may start with a few 0xFF fill bytes; a long run is refused (stb's test for a JPEG reads the
// whole run, and past its first block a failed test would hand the next format the wrong bytes).
TEST_CASE("image headers: a run of more than 64 leading 0xFF bytes is refused", "[data][decode]") {
  const std::string bytes = std::string(100, '\xFF') + "P5 2 2 255\n" + std::string(4, '\x07');
  CHECK_THROWS_WITH(data::decode_image(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), "ff.jpg", 1),
                    Catch::Equals("'ff.jpg' is corrupt: it starts with 100 0xFF bytes (a JPEG has at most 64 fill "
                                  "bytes before its start marker here)"));
}
