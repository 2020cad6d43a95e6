// The IDX reader compiled without zlib (this test is its own executable): plain files read, a
// gzip file is an error that says how to enable zlib.
#undef MOODNET_HAVE_ZLIB
#include "moodnet/data/idx.hpp"

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;

TEST_CASE("IDX without zlib: plain files read; gzip files are an error naming the file and the fix", "[data][idx]") {
  STATIC_REQUIRE_FALSE(kHaveZlib);
  test::TempDir dir;
  test::write_bytes(dir / "i", test::idx_bytes({2, 2, 2}, std::string("\1\2\3\4\5\6\7\10", 8)));
  test::write_bytes(dir / "l", test::idx_bytes({2}, std::string("\1\0", 2)));
  const Dataset d = load_idx(dir / "i", dir / "l");
  CHECK(d.size() == 2);
  CHECK(int(d.image(1)[3]) == 8);
  // The first bytes of a gzip stream (magic 1f 8b, deflate, no flags).
  test::write_bytes(dir / "i.gz", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) + std::string(20, 'z'));
  test::require_error_naming([&] { load_idx(dir / "i.gz", dir / "l"); },
                             {(dir / "i.gz").string(), "without zlib", "MOODNET_HAVE_ZLIB"});
}
