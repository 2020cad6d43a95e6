// IDX headers that declare more data than their file can hold are refused before the dataset is
// allocated (found by fuzzing, issue 19: a 16-byte images file declaring 1,000 images of
// 1000x1000 allocated a gigabyte before finding the data missing): a plain file must hold the
// declared bytes; a gzip file can inflate to at most 1032 times its compressed size.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>
#if defined(MOODNET_HAVE_ZLIB)
#include <zlib.h>
#endif

#include "moodnet/data/idx.hpp"
#include "support.hpp"

using namespace moodnet;

namespace {
std::string idx_declared_header(std::uint32_t magic, std::initializer_list<std::uint32_t> dims) {
  std::string s;
  for (std::uint32_t v : {magic}) s += {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  for (std::uint32_t v : dims) s += {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  return s;
}
#if defined(MOODNET_HAVE_ZLIB)
std::string idx_declared_gzip(const std::string& raw) {
  uLongf n = compressBound(static_cast<uLong>(raw.size())) + 32;
  std::string out(n, '\0');
  z_stream z{};
  REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);  // 15 + 16: a gzip wrapper
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(n);
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}
#endif
}  // namespace

TEST_CASE("IDX: a header declaring more data than the file can hold is refused before allocating", "[data][idx]") {
  test::TempDir dir("idx-declared");
  const std::string labels = idx_declared_header(0x801, {1000}) + std::string(1000, '\0');
  test::write_bytes(dir / "labels", labels);
  SECTION("plain: the declared pixels are not in the file") {
    test::write_bytes(dir / "images", idx_declared_header(0x803, {1000, 1000, 1000}));  // 1 GB declared, 16 bytes
    CHECK_THROWS_WITH(data::load_idx(dir / "images", dir / "labels"),
                      Catch::Contains("is truncated: its header promises 1000x1000x1000 pixels = 1000000000 bytes of "
                                      "data, but only 0 follow"));
  }
  SECTION("plain labels: the declared labels are not in the file") {
    test::write_bytes(dir / "images", idx_declared_header(0x803, {1000, 1, 1}) + std::string(1000, '\0'));
    test::write_bytes(dir / "short", idx_declared_header(0x801, {1000}) + std::string(10, '\0'));
    CHECK_THROWS_WITH(data::load_idx(dir / "images", dir / "short"),
                      Catch::Contains("1000 labels = 1000 bytes of data, but only 10 follow"));
  }
#if defined(MOODNET_HAVE_ZLIB)
  SECTION("gzip: more than 1032 x the compressed size") {
    const std::string gz = idx_declared_gzip(idx_declared_header(0x803, {1000, 1000, 1000}) + std::string(64, '\0'));
    test::write_bytes(dir / "images.gz", gz);
    CHECK_THROWS_WITH(data::load_idx(dir / "images.gz", dir / "labels"),
                      Catch::Contains("is truncated or corrupt: its header promises 1000x1000x1000 pixels = 1000000000 "
                                      "bytes of data, more than its " + std::to_string(gz.size()) + " compressed bytes"));
    // Within the bound a gzip file still reads (and is refused for what it really lacks).
    const std::string ok = idx_declared_gzip(idx_declared_header(0x803, {1000, 1, 1}) + std::string(1000, '\7'));
    test::write_bytes(dir / "ok.gz", ok);
    CHECK(data::load_idx(dir / "ok.gz", dir / "labels").size() == 1000);
  }
#endif
}
