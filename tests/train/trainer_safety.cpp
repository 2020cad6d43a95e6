// The trainer's safety promises (issue 19), each on a tiny synthetic dataset (two classes of 16x16
// gray images, CustomNet w 8, a few steps):
//   - a checkpoint's weights and training state are one unit: a stop between their two writes
//     resumes from the weights that belong to the state, bit for bit like an uninterrupted run, and
//     a pair that was never written together is refused naming both files;
//   - a second trainer on the same --out is refused while the first holds it;
//   - weights that turn non-finite, or a loss beyond 100 max(1, ln classes), stop the run at that step
//     with no best.safetensors written;
//   - a resume with another learning rate, epoch count or dataset is refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>

#include "moodnet/io/run_lock.hpp"
#include "moodnet/train/trainer.hpp"
#include "tiny_run.hpp"

using namespace moodnet;
using namespace moodnet::train;
namespace fs = std::filesystem;

TEST_CASE("Trainer: a stop between the weights and the state write resumes to the uninterrupted weights",
          "[train][safety]") {
  test::TempDir dir("safety-pair");
  test::write_tiny_run_data(dir / "data");
  const fs::path out = dir / "run";
  TrainConfig c = test::tiny_run_config(dir / "data", out);

  c.max_steps = 2;
  test::tiny_run(c);  // state and weights at step 2
  fs::copy_file(out / "last.safetensors", dir / "w2.safetensors");
  fs::copy_file(out / "last.state.safetensors", dir / "s2.safetensors");
  c.resume = true, c.max_steps = 4;
  test::tiny_run(c);  // the uninterrupted continuation: step 4
  const std::string w4 = test::read_bytes(out / "last.safetensors");
  CHECK_FALSE(fs::exists(out / "last.prev.safetensors"));  // nothing left behind by a finished save

  // What a stop between the two writes of the step-4 save leaves: the new weights, the weights the
  // old state belongs to as last.prev, and the old state.
  fs::copy_file(dir / "w2.safetensors", out / "last.prev.safetensors");
  fs::copy_file(dir / "s2.safetensors", out / "last.state.safetensors", fs::copy_options::overwrite_existing);
  std::string log;
  test::tiny_run(c, &log);
  CHECK_THAT(log, Catch::Contains("step 2"));  // resumed from the step-2 pair, not the step-4 weights
  CHECK(test::read_bytes(out / "last.safetensors") == w4);
  CHECK_FALSE(fs::exists(out / "last.prev.safetensors"));

  // A pair that was never written together (the step-2 state beside the step-4 weights, no
  // last.prev): refused, naming both files and their checkpoints.
  fs::copy_file(dir / "s2.safetensors", out / "last.state.safetensors", fs::copy_options::overwrite_existing);
  CHECK_THROWS_WITH(test::tiny_run(c), Catch::Contains("were not written together") &&
                                       Catch::Contains((out / "last.state.safetensors").string() + " is checkpoint ") &&
                                       Catch::Contains((out / "last.safetensors").string() + " is checkpoint "));
}

TEST_CASE("Trainer: a second trainer on the same --out is refused while the first runs", "[train][safety]") {
  test::TempDir dir("safety-lock");
  test::write_tiny_run_data(dir / "data");
  const fs::path out = dir / "run";
  fs::create_directories(out);
  TrainConfig c = test::tiny_run_config(dir / "data", out);
  c.max_steps = 1;
  {
    const io::RunLock other(out.string());  // as a running trainer holds it
    CHECK_THROWS_WITH(test::tiny_run(c), Catch::Contains("--out " + out.string() + " is in use by another trainer (pid "));
    CHECK_FALSE(fs::exists(out / "last.safetensors"));
  }
  CHECK_NOTHROW(test::tiny_run(c));
  CHECK_FALSE(fs::exists(out / io::kRunLockFile));  // released when the run returns
}

TEST_CASE("Trainer: non-finite weights or an exploding loss stop the run at that step, no best weights",
          "[train][safety]") {
  test::TempDir dir("safety-diverge");
  test::write_tiny_run_data(dir / "data");
  SECTION("weights that turn NaN or infinite in the very first step") {
    TrainConfig c = test::tiny_run_config(dir / "data", dir / "nan");
    c.lr = 1e300;  // inf as a float: one step makes the weights inf or NaN; the loss of step 0 was finite
    c.schedule = "cosine", c.warmup_epochs = 0;
    c.max_steps = 1;
    CHECK_THROWS_WITH(test::tiny_run(c), Catch::StartsWith("training diverged: parameter ") &&
                                         Catch::Contains("after step 1"));
    CHECK_FALSE(fs::exists(dir / "nan" / "best.safetensors"));
    CHECK_FALSE(fs::exists(dir / "nan" / "last.safetensors"));
  }
  SECTION("a finite loss beyond 100 max(1, ln classes)") {
    TrainConfig c = test::tiny_run_config(dir / "data", dir / "big");
    c.optimizer = "adam", c.lr = 1e4, c.schedule = "cosine", c.warmup_epochs = 0, c.label_smoothing = 0;
    c.epochs = 20;
    CHECK_THROWS_WITH(test::tiny_run(c), Catch::StartsWith("training diverged: loss is ") &&
                                         Catch::Contains("above the limit 100)"));
  }
}

TEST_CASE("Trainer: a resume with another learning rate, epoch count or dataset is refused", "[train][safety]") {
  test::TempDir dir("safety-settings");
  test::write_tiny_run_data(dir / "data");
  const fs::path out = dir / "run";
  TrainConfig c = test::tiny_run_config(dir / "data", out);
  c.max_steps = 1;
  test::tiny_run(c);
  c.resume = true;

  TrainConfig lr = c;
  lr.lr = 0.1;
  CHECK_THROWS_WITH(test::tiny_run(lr), Catch::Contains("other settings (") && Catch::Contains("; lr 0.05, now 0.1)"));
  TrainConfig epochs = c;
  epochs.epochs = 9;
  CHECK_THROWS_WITH(test::tiny_run(epochs), Catch::Contains("epochs 3, now 9"));
  // Same path, other content: one image changed.
  const fs::path img = dir / "data" / "left" / "0.pgm";
  std::string bytes = test::read_bytes(img);
  bytes.back() = static_cast<char>(bytes.back() + 1);
  test::write_bytes(img, bytes);
  CHECK_THROWS_WITH(test::tiny_run(c), Catch::Contains("; data ") && Catch::Contains(", now "));
}

TEST_CASE("Trainer: a stop requested while the data loads ends the run cleanly before training", "[train][safety]") {
  test::TempDir dir("safety-early-stop");
  test::write_tiny_run_data(dir / "data");
  TrainConfig c = test::tiny_run_config(dir / "data", dir / "run");
  clear_stop_request();
  train::detail::stop_signal.store(SIGINT);  // as the handler does when Ctrl-C arrives during load_data
  std::string log;
  const TrainResult r = test::tiny_run(c, &log);
  clear_stop_request();
  CHECK(r.stopped_early);
  CHECK_THAT(log, Catch::Contains("interrupted before the first batch: nothing new to save"));
  CHECK_FALSE(fs::exists(dir / "run" / "last.safetensors"));
  CHECK_FALSE(fs::exists(dir / "run" / io::kRunLockFile));
}
