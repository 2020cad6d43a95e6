// fer2013.csv: label mapping, usages, round trip through write_fer2013_csv, and each bad row.
#include "moodnet/data/fer2013_csv.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "moodnet/data/fer2013.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::require_error_naming;
using moodnet::test::TempDir;
using moodnet::test::write_bytes;

namespace {
std::string pixels(int value, int count = 2304) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    if (i) s += ' ';
    s += std::to_string((value + i) % 256);
  }
  return s;
}
CsvOptions skip_bad_rows_quietly() { return {BadItemPolicy::skip, false}; }
const std::vector<std::string> kAll{"Training", "PublicTest", "PrivateTest"};
}  // namespace

TEST_CASE("fer2013.csv: emotions map to alphabetical classes, usages select rows", "[data][csv]") {
  TempDir tmp;
  std::string csv = "emotion,pixels,Usage\n";
  for (int e = 0; e < 7; ++e) csv += std::to_string(e) + "," + pixels(e) + ",Training\n";
  csv += "6," + pixels(100) + ",PublicTest\r\n";  // CRLF line endings are accepted
  csv += "\n";                                    // blank lines too
  csv += "4," + pixels(200) + ",PrivateTest\n";
  write_bytes(tmp / "fer2013.csv", csv);

  const Dataset train = load_fer2013_csv(tmp / "fer2013.csv", {"Training"});
  REQUIRE(train.size() == 7);
  CHECK(train.class_names == fer2013_class_names());
  // CSV 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral -> ours.
  const std::vector<int> expected{0, 1, 2, 3, 5, 6, 4};
  for (int e = 0; e < 7; ++e) {
    CHECK(train.label(e) == expected[static_cast<std::size_t>(e)]);
    CHECK(train.keys[static_cast<std::size_t>(e)] == "csv line " + std::to_string(e + 2));
    CHECK(int(train.image(e)[0]) == e);
    CHECK(int(train.image(e)[2303]) == (e + 2303) % 256);
  }
  const Dataset pub = load_fer2013(tmp / "fer2013.csv", Split::public_test);
  REQUIRE(pub.size() == 1);
  CHECK(pub.label(0) == 4);  // neutral
  CHECK(pub.keys[0] == "csv line 9");
  const Dataset priv = load_fer2013(tmp / "fer2013.csv", Split::private_test);
  REQUIRE(priv.size() == 1);
  CHECK(priv.label(0) == 5);  // sad
  CHECK(priv.keys[0] == "csv line 11");
  CHECK(load_fer2013(tmp / "fer2013.csv", Split::test).size() == 2);

  // The Kaggle variant orders the columns "emotion, Usage, pixels".
  write_bytes(tmp / "icml.csv", "emotion, Usage, pixels\n3, Training, " + pixels(9) + "\n");
  const Dataset k = load_fer2013_csv(tmp / "icml.csv", {"Training"});
  REQUIRE(k.size() == 1);
  CHECK(k.label(0) == 3);
  CHECK(int(k.image(0)[1]) == 10);
}

TEST_CASE("fer2013.csv: write then read gives the same images and labels", "[data][csv]") {
  TempDir tmp;
  const Dataset a = test::synthetic_dataset(40), b = test::synthetic_dataset(9);
  write_fer2013_csv(tmp / "out.csv", {{&a, "Training"}, {&b, "PrivateTest"}});
  const Dataset ra = load_fer2013_csv(tmp / "out.csv", {"Training"});
  const Dataset rb = load_fer2013_csv(tmp / "out.csv", {"PrivateTest"});
  REQUIRE(ra.size() == 40);
  REQUIRE(rb.size() == 9);
  CHECK(std::equal(ra.images.begin(), ra.images.end(), a.images.begin()));
  CHECK(std::equal(ra.labels.begin(), ra.labels.end(), a.labels.begin()));
  CHECK(std::equal(rb.images.begin(), rb.images.end(), b.images.begin()));
  CHECK(rb.keys[0] == "csv line 42");
}

TEST_CASE("fer2013.csv: bad files and rows are errors naming the file and line, or skipped", "[data][csv]") {
  TempDir tmp;
  const std::string header = "emotion,pixels,Usage\n";
  const std::string ok = "3," + pixels(1) + ",Training\n";
  SECTION("missing file and wrong header") {
    require_error_naming([&] { load_fer2013_csv(tmp / "nope.csv", kAll); }, {"nope.csv"});
    write_bytes(tmp / "h.csv", "label,pixels,Usage\n" + ok);
    require_error_naming([&] { load_fer2013_csv(tmp / "h.csv", kAll); }, {"h.csv", "label,pixels,Usage", "expected the columns"});
    write_bytes(tmp / "h4.csv", "emotion,pixels,Usage,extra\n" + ok);
    require_error_naming([&] { load_fer2013_csv(tmp / "h4.csv", kAll); }, {"h4.csv", "expected the columns"});
    write_bytes(tmp / "empty.csv", "");
    require_error_naming([&] { load_fer2013_csv(tmp / "empty.csv", kAll); }, {"empty.csv"});
  }
  struct Case {
    const char* name;
    std::string row;
    const char* says;
  };
  const std::vector<Case> cases{
      {"short", "3," + pixels(1, 2303) + ",Training\n", "2303 pixel values"},
      {"long", "3," + pixels(1, 2305) + ",Training\n", "2305 pixel values"},
      {"nonnumeric", "3," + pixels(1, 100) + " x7 " + pixels(1, 2203) + ",Training\n", "pixel 101 is not a number: 'x7'"},
      {"out of range", "3,300 " + pixels(1, 2303) + ",Training\n", "pixel 1 is 300"},
      {"label 7", "7," + pixels(1) + ",Training\n", "emotion '7'"},
      {"label -1", "-1," + pixels(1) + ",Training\n", "emotion '-1'"},
      {"label text", "happy," + pixels(1) + ",Training\n", "emotion 'happy'"},
      {"usage", "3," + pixels(1) + ",Validation\n", "unknown Usage 'Validation'"},
      {"fields", "3," + pixels(1) + "\n", "has 2 fields"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) {
      write_bytes(tmp / "bad.csv", header + ok + c.row + ok);
      require_error_naming([&] { load_fer2013_csv(tmp / "bad.csv", kAll); }, {"bad.csv", "line 3", c.says});
      const Dataset d = load_fer2013_csv(tmp / "bad.csv", kAll, skip_bad_rows_quietly());
      CHECK(d.size() == 2);
      CHECK(d.keys == std::vector<std::string>{"csv line 2", "csv line 4"});
      REQUIRE(d.report.skipped.size() == 1);
      CHECK(d.report.skipped[0].key == "csv line 3");
    }
  }
  SECTION("no rows with the requested usage") {
    write_bytes(tmp / "t.csv", header + ok);
    require_error_naming([&] { load_fer2013_csv(tmp / "t.csv", {"PublicTest"}); }, {"t.csv", "no rows"});
    require_error_naming([&] { load_fer2013_csv(tmp / "t.csv", {"Test"}); }, {"Test"});
  }
}

// Issue 19: a CSV saved with a UTF-8 byte-order mark was rejected ("has header '\xEF\xBB\xBFemotion...'").
TEST_CASE("fer2013.csv: a UTF-8 byte-order mark before the header is read past", "[data][csv]") {
  TempDir tmp("csv-bom");
  write_bytes(tmp / "bom.csv", "\xEF\xBB\xBF" "emotion,pixels,Usage\r\n3," + pixels(5) + ",Training\r\n");
  const Dataset d = load_fer2013_csv(tmp / "bom.csv", {"Training"});
  REQUIRE(d.size() == 1);
  CHECK(d.label(0) == 3);
  CHECK(d.keys[0] == "csv line 2");
  CHECK(int(d.image(0)[0]) == 5);
}

// Issue 19: a FIFO given as the CSV blocked the loader forever in open().
TEST_CASE("fer2013.csv: a FIFO is refused without opening it", "[data][csv]") {
  TempDir tmp("csv-fifo");
  const auto fifo = tmp / "fer2013.csv";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(load_fer2013_csv(fifo, {"Training"}),
                    "cannot read CSV file '" + fifo.string() + "': not a regular file (a FIFO, socket or device)");
}
