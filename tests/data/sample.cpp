// The bundled sample data/fer2013-sample and the data-path lookup order.
#include "moodnet/data/fer2013.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "moodnet/data/normalize.hpp"
#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using moodnet::test::require_error_naming;

namespace {
const std::filesystem::path kSample = std::filesystem::path(MOODNET_SOURCE_DIR) / "data" / "fer2013-sample";

// Sets an environment variable for the scope and restores the old value.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(const char* n, const char* value) : name(n) {
    if (const char* v = std::getenv(n)) old = v;
    if (value) ::setenv(n, value, 1);
    else ::unsetenv(n);
  }
  ~ScopedEnv() {
    if (old) ::setenv(name.c_str(), old->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};
// Runs in `dir` as the working directory for the scope.
struct ScopedCwd {
  std::filesystem::path old = std::filesystem::current_path();
  explicit ScopedCwd(const std::filesystem::path& dir) { std::filesystem::current_path(dir); }
  ~ScopedCwd() { std::filesystem::current_path(old); }
};
}  // namespace

TEST_CASE("bundled sample: 20 train and 5+5 test images per class, byte-for-byte FER-2013", "[data][sample]") {
  const Dataset train = load_fer2013(kSample, Split::train);
  const Dataset pub = load_fer2013(kSample, Split::public_test);
  const Dataset priv = load_fer2013(kSample, Split::private_test);
  CHECK(train.class_counts() == std::vector<std::int64_t>(7, 20));
  CHECK(pub.class_counts() == std::vector<std::int64_t>(7, 5));
  CHECK(priv.class_counts() == std::vector<std::int64_t>(7, 5));
  CHECK(load_fer2013(kSample, Split::test).size() == 70);
  CHECK(train.report.resized == 0);
  CHECK(train.keys[0] == "train/angry/Training_10118481.jpg");
  // Normalisation statistics of a face sample are in FER-2013's usual range (mean ~0.5, std ~0.25).
  const Normalization n = compute_normalization(train);
  CHECK(n.mean[0] == Approx(0.5).margin(0.08));
  CHECK(n.std[0] == Approx(0.25).margin(0.06));
  // A stratified 10 % slice keeps every class: 2 of 20 each.
  const auto [rest, val] = split_stratified(train, 0.1, 42);
  CHECK(val.class_counts() == std::vector<std::int64_t>(7, 2));
  CHECK(rest.class_counts() == std::vector<std::int64_t>(7, 18));
  const auto [rest2, val2] = split_stratified(train, 0.1, 42);
  CHECK(val2.keys == val.keys);
  CHECK(split_stratified(train, 0.1, 43).second.keys != val.keys);
  for (const auto& k : val.keys) CHECK(std::find(rest.keys.begin(), rest.keys.end(), k) == rest.keys.end());
}

TEST_CASE("resolve_data_dir: --data, then $MOODNET_DATA, then default folders, then the sample", "[data][sample]") {
  test::TempDir tmp;
  ScopedEnv no_env(kDataEnvVar, nullptr);
  {
    const auto loc = resolve_data_dir(kSample.string());
    CHECK(loc.path == kSample);
    CHECK(loc.source == "--data");
    CHECK_FALSE(loc.is_sample);
    CHECK(loc.format == DataFormat::folders);
  }
  require_error_naming([&] { resolve_data_dir((tmp / "typo").string()); }, {"--data", "typo"});
  test::write_bytes(tmp / "fer2013.csv", "emotion,pixels,Usage\n");
  CHECK(resolve_data_dir((tmp / "fer2013.csv").string()).format == DataFormat::csv);
  {
    ScopedEnv env(kDataEnvVar, kSample.c_str());
    const auto loc = resolve_data_dir();
    CHECK(loc.source == "$MOODNET_DATA");
    CHECK(loc.path == kSample);
    CHECK(resolve_data_dir((tmp / "fer2013.csv").string()).source == "--data");  // the flag wins
  }
  {
    ScopedEnv env(kDataEnvVar, (tmp / "missing").c_str());
    require_error_naming([&] { resolve_data_dir(); }, {"$MOODNET_DATA", "missing"});
  }
  // From an empty working folder only the source tree's sample is left.
  std::filesystem::create_directories(tmp / "work");
  {
    ScopedCwd cwd(tmp / "work");
    auto loc = resolve_data_dir();
    CHECK(loc.is_sample);
    CHECK(loc.source == "sample");
    // ../shared/fer2013 (this project's layout) only when the caller lists it, as the programs do.
    std::filesystem::create_directories(tmp / "shared/fer2013/train");
    std::filesystem::create_directories(tmp / "shared/fer2013/test");
    CHECK(resolve_data_dir().is_sample);
    loc = resolve_data_dir({}, {"../shared/fer2013", "data/fer2013"});
    CHECK(loc.source == "default");
    CHECK(loc.path == std::filesystem::path("../shared/fer2013"));
    // ./data/fer2013 is found before the sample.
    std::filesystem::create_directories(tmp / "work/data/fer2013/train");
    std::filesystem::create_directories(tmp / "work/data/fer2013/test");
    loc = resolve_data_dir();
    CHECK_FALSE(loc.is_sample);
    CHECK(loc.source == "default");
    CHECK(loc.path == std::filesystem::path("data/fer2013"));
  }
}

TEST_CASE("the data readers print nothing on their own: the sample and skipped items are the caller's to tell",
          "[data][sample]") {
  test::TempDir tmp;
  ScopedEnv no_env(kDataEnvVar, nullptr);
  std::filesystem::create_directories(tmp / "work");
  test::write_bytes(tmp / "folder/happy/a.pgm", test::pgm48(1));
  test::write_bytes(tmp / "folder/happy/b.pgm", "not an image");
  test::write_bytes(tmp / "folder/sad/c.pgm", test::pgm48(2));
  std::ostringstream captured;
  std::streambuf* const old = std::cerr.rdbuf(captured.rdbuf());
  DataLocation loc;
  Dataset d;
  {
    ScopedCwd cwd(tmp / "work");
    loc = resolve_data_dir();
  }
  FolderOptions fo;
  fo.bad_items = BadItemPolicy::skip;
  try {
    d = load_image_folder(tmp / "folder", "", fo);
  } catch (...) {
    std::cerr.rdbuf(old);
    throw;
  }
  std::cerr.rdbuf(old);
  CHECK(loc.is_sample);
  CHECK(d.size() == 2);
  REQUIRE(d.report.skipped.size() == 1);
  CHECK(captured.str().empty());
  // The caller prints the report where it wants.
  std::ostringstream log;
  warn_skipped(d.report, log);
  CHECK_THAT(log.str(), Catch::Contains("b.pgm: ") && Catch::Contains("1 bad item(s) skipped"));
}
