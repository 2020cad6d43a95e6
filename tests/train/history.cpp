#include "moodnet/train/history.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../support/temp_dir.hpp"

using moodnet::test::TempDir;
using namespace moodnet::train;

namespace {
EpochRecord record(int epoch) {
  EpochRecord r;
  r.epoch = epoch;
  r.train_loss = 1.0 / epoch + 0.1;
  r.train_acc = 0.3 + 0.01 * epoch;
  r.val_loss = 1.2 / epoch;
  r.val_acc = 0.25 + 0.011 * epoch;
  r.lr = 0.1 * std::pow(0.5, epoch);
  r.epoch_seconds = 61.25;
  r.images_per_second = 470.5;
  return r;
}
void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
}  // namespace

TEST_CASE("history.csv round-trips exactly, extras included", "[train][history]") {
  TempDir dir("history");
  std::vector<EpochRecord> h = {record(1), record(2), record(3)};
  h[1].extras["val_macro_f1"] = 0.4321;
  h[2].extras["data_wait_seconds"] = 1.5;
  const std::string path = dir.file("history.csv");
  write_history_csv(path, h);
  CHECK(read_history_csv(path) == h);

  // A resumed run appends to what it read back; the file is rewritten whole each epoch.
  auto resumed = read_history_csv(path);
  resumed.push_back(record(4));
  write_history_csv(path, resumed);
  CHECK(read_history_csv(path).size() == 4);
  // No temporary files are left beside it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("history.csv text: fixed columns, sorted extras, nan for missing values", "[train][history]") {
  EpochRecord r;
  r.epoch = 1, r.train_loss = 1.5, r.train_acc = 0.25, r.lr = 0.001, r.epoch_seconds = 60, r.images_per_second = 480;
  EpochRecord r2 = r;
  r2.epoch = 2, r2.extras["zeta"] = 2, r2.extras["alpha"] = 0.5;
  CHECK(history_csv({r, r2}) ==
        "epoch,train_loss,train_acc,val_loss,val_acc,lr,epoch_seconds,images_per_second,alpha,zeta\n"
        "1,1.5,0.25,nan,nan,0.001,60,480,,\n"
        "2,1.5,0.25,nan,nan,0.001,60,480,0.5,2\n");
  TempDir dir("history-nan");
  write_history_csv(dir.file("h.csv"), {r, r2});
  const auto back = read_history_csv(dir.file("h.csv"));
  REQUIRE(back.size() == 2);
  CHECK(std::isnan(back[0].val_loss));
  CHECK(back[0].extras.empty());
  CHECK(back[1].extras.at("alpha") == 0.5);
}

TEST_CASE("malformed history.csv throws naming the file and the line", "[train][history]") {
  TempDir dir("history-bad");
  const std::string path = dir.file("history.csv");
  const std::string header = "epoch,train_loss,train_acc,val_loss,val_acc,lr,epoch_seconds,images_per_second\n";

  REQUIRE_THROWS_WITH(read_history_csv(dir.file("missing.csv")),
                      Catch::Contains("cannot open history file") && Catch::Contains("missing.csv"));
  write_text(path, "");
  REQUIRE_THROWS_WITH(read_history_csv(path), Catch::Contains(path + ":1: empty history file"));
  write_text(path, "epoch,loss\n1,2\n");
  REQUIRE_THROWS_WITH(read_history_csv(path), Catch::Contains(path + ":1: bad header: column 2 should be 'train_loss'"));
  write_text(path, header + "1,1,1,1,1,1,1,1\n2,1,1,1\n");
  REQUIRE_THROWS_WITH(read_history_csv(path), Catch::Contains(path + ":3: expected 8 fields, got 4"));
  write_text(path, header + "1,1,abc,1,1,1,1,1\n");
  REQUIRE_THROWS_WITH(read_history_csv(path),
                      Catch::Contains(path + ":2: column 'train_acc': 'abc' is not a number"));
  write_text(path, header + "1,1,,1,1,1,1,1\n");
  REQUIRE_THROWS_WITH(read_history_csv(path), Catch::Contains(":2: column 'train_acc': '' is not a number"));
  write_text(path, header + "1.5,1,1,1,1,1,1,1\n");
  REQUIRE_THROWS_WITH(read_history_csv(path), Catch::Contains(":2: column 'epoch': '1.5' is not an epoch number"));
  write_text(path, header + "2,1,1,1,1,1,1,1\n2,1,1,1,1,1,1,1\n");
  REQUIRE_THROWS_WITH(read_history_csv(path), Catch::Contains(":3: epoch 2 does not follow epoch 2"));
  write_text(path, header + "1,1,1,1,1,1,1,1\r\n\n");  // CRLF and a trailing blank line are fine
  CHECK(read_history_csv(path).size() == 1);
}

TEST_CASE("write_history_csv into a missing folder throws naming the file", "[train][history]") {
  TempDir dir("history-nofolder");
  REQUIRE_THROWS_WITH(write_history_csv(dir.file("no/such/history.csv"), {record(1)}),
                      Catch::Contains("no/such/history.csv"));
}
