// The full FER-2013 copy in ../shared/fer2013 (skipped when absent): counts per class and split
// from both readers; the CSV reader is checked by writing the loaded folders as a fer2013.csv.
#include <catch2/catch.hpp>

#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/normalize.hpp"
#include "support.hpp"
#include "../support/check.hpp"

using namespace moodnet;
using namespace moodnet::data;

namespace {
const std::filesystem::path& root() {
  static const std::filesystem::path r = [] {
    std::filesystem::path p = test::shared_fer2013_dir();
    if (!std::filesystem::is_directory(p / "train") || !std::filesystem::is_directory(p / "test"))
      test::skip_test_file("full FER-2013 not found at " + p.string() + " (set MOODNET_FER2013_DIR)");
    return p;
  }();
  return r;
}
const std::vector<std::int64_t> kTrain{3995, 436, 4097, 7215, 4965, 4830, 3171};
const std::vector<std::int64_t> kTest{958, 111, 1024, 1774, 1233, 1247, 831};
}  // namespace

TEST_CASE("FER-2013 folders: counts per class and split, unique keys, no resizing", "[data][fer2013]") {
  const Dataset train = load_fer2013(root(), Split::train);
  const Dataset test = load_fer2013(root(), Split::test);
  const Dataset pub = load_fer2013(root(), Split::public_test);
  const Dataset priv = load_fer2013(root(), Split::private_test);
  CHECK(train.size() == 28709);
  CHECK(test.size() == 7178);
  CHECK(pub.size() == 3589);
  CHECK(priv.size() == 3589);
  CHECK(train.class_counts() == kTrain);
  CHECK(test.class_counts() == kTest);
  std::vector<std::int64_t> sum(7);
  for (int c = 0; c < 7; ++c) sum[static_cast<std::size_t>(c)] = pub.class_counts()[static_cast<std::size_t>(c)] + priv.class_counts()[static_cast<std::size_t>(c)];
  CHECK(sum == kTest);
  CHECK(train.report.resized == 0);
  CHECK(train.report.skipped.empty());
  // The two file names that occur in two class folders stay two distinct, correctly labelled images.
  std::set<std::string> keys(train.keys.begin(), train.keys.end());
  CHECK(keys.size() == 28709);
  CHECK(keys.count("train/angry/Training_8475486.jpg") == 1);
  CHECK(keys.count("train/surprise/Training_8475486.jpg") == 1);
  const Normalization n = compute_normalization(train);
  CHECK(n.mean[0] == Approx(0.508).margin(0.01));
  CHECK(n.std[0] == Approx(0.255).margin(0.01));
  // The documented blank image: test/angry/PublicTest_5543497.jpg is one gray level.
  for (std::int64_t i = 0; i < pub.size(); ++i)
    if (pub.keys[static_cast<std::size_t>(i)] == "test/angry/PublicTest_5543497.jpg") {
      CHECK(pub.label(i) == 0);
      CHECK(std::all_of(pub.image(i), pub.image(i) + kImagePixels, [&](std::uint8_t v) { return v == pub.image(i)[0]; }));
    }
}

TEST_CASE("FER-2013 as fer2013.csv: write the folders, read back the same splits", "[data][fer2013]") {
  const Dataset train = load_fer2013(root(), Split::train);
  const Dataset pub = load_fer2013(root(), Split::public_test);
  const Dataset priv = load_fer2013(root(), Split::private_test);
  test::TempDir tmp;
  write_fer2013_csv(tmp / "fer2013.csv", {{&train, "Training"}, {&pub, "PublicTest"}, {&priv, "PrivateTest"}});
  const auto where = resolve_data_dir((tmp / "fer2013.csv").string());
  REQUIRE(where.format == DataFormat::csv);
  const Dataset ctrain = load_fer2013(where, Split::train);
  const Dataset cpriv = load_fer2013(where, Split::private_test);
  CHECK(ctrain.class_counts() == kTrain);
  CHECK(load_fer2013(where, Split::test).class_counts() == kTest);
  CHECK(load_fer2013(where, Split::public_test).size() == 3589);
  REQUIRE(cpriv.size() == 3589);
  CHECK(std::equal(ctrain.images.begin(), ctrain.images.end(), train.images.begin()));
  CHECK(std::equal(ctrain.labels.begin(), ctrain.labels.end(), train.labels.begin()));
  CHECK(std::equal(cpriv.images.begin(), cpriv.images.end(), priv.images.begin()));
  CHECK(cpriv.keys.front() == "csv line " + std::to_string(28709 + 3589 + 2));
}
