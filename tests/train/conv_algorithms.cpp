// The trainers' --winograd measured and f2/f4 (train/trainer.hpp, graph/conv_algorithm.hpp): the run logs
// what it measured, records its choices in the training state, and a resume runs those choices
// (read back, not measured again), so that from the first checkpoint on, where the run stops and
// resumes changes no bit; a resume that changes the flag is refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "moodnet/io/training_state.hpp"
#include "moodnet/train/trainer.hpp"
#include "tiny_run.hpp"

using namespace moodnet;
using namespace moodnet::train;
namespace fs = std::filesystem;

TEST_CASE("Trainer --winograd measured: choices logged, recorded and pinned on resume", "[train][winograd]") {
  test::TempDir dir("winograd-run");
  test::write_tiny_run_data(dir / "data");
  const fs::path out = dir / "run";
  TrainConfig c = test::tiny_run_config(dir / "data", out);
  c.winograd = "measured";
  c.max_steps = 7;  // into the second epoch: the first epoch's validation compiled the eval plans
  std::string log;
  test::tiny_run(c, &log);
  INFO(log);
  // CustomNet w 8 on 16x16 images at batch 4: its stride-1 3x3 layers at 16x16, 8x8, 4x4, 2x2.
  CHECK_THAT(log, Catch::Contains("winograd: N4 C1 K8 16x16 p1: forward "));
  CHECK_THAT(log, Catch::Contains("winograd: N4 C8 K8 16x16 p1: forward "));
  const io::TrainingState s = io::load_training_state((out / "last.state.safetensors").string());
  REQUIRE(s.has("conv.algorithms"));
  const std::string recorded = s.get_string("conv.algorithms");
  CHECK_THAT(recorded, Catch::Contains("N4 C8 K8 16x16 p1="));
  const auto table = graph::ConvAlgorithmTable::parse(recorded, "state");

  // From this checkpoint on the choices are pinned: resumed straight to step 12, or stopped at
  // step 9 and resumed again, the run reaches the same weights bit for bit.
  const fs::path copy = dir / "copy";
  fs::copy(out, copy, fs::copy_options::recursive);
  c.resume = true, c.max_steps = 12;
  std::string resumed;
  test::tiny_run(c, &resumed);
  CHECK_THAT(resumed, Catch::Contains("winograd: the run's " + std::to_string(table.entries().size()) +
                                      " recorded choices"));
  CHECK_THAT(resumed, !Catch::Contains("winograd: N4 C8 K8 16x16 p1: forward "));  // nothing measured again
  const io::TrainingState s2 = io::load_training_state((out / "last.state.safetensors").string());
  CHECK(s2.get_string("conv.algorithms") == recorded);

  test::tiny_run_stopped_and_resumed(c, copy, 9);  // the copy resumed to 9, then to 12
  CHECK(test::same_last_weights(copy, out));

  TrainConfig off = c;
  off.winograd = "off";
  CHECK_THROWS_WITH(test::tiny_run(off), Catch::Contains("winograd measured, now off"));
}

TEST_CASE("Trainer --winograd f4: the tile on every eligible layer, recorded, and a resume changes no bit",
          "[train][winograd]") {
  test::TempDir dir("winograd-fixed");
  test::write_tiny_run_data(dir / "data");
  TrainConfig c = test::tiny_run_config(dir / "data", dir / "straight");
  c.winograd = "f4";
  c.max_steps = 6;
  test::tiny_run(c);
  const std::string recorded =
      io::load_training_state((dir / "straight" / "last.state.safetensors").string()).get_string("conv.algorithms");
  CHECK_THAT(recorded, Catch::Contains("N4 C1 K8 16x16 p1=f4,f4,f4"));
  CHECK_THAT(recorded, Catch::Contains("N4 C8 K8 16x16 p1=f4,f4,f4"));
  CHECK_THAT(recorded, !Catch::Contains("standard"));

  // stopped at step 3 and resumed to 6: the same bits as straight through
  test::tiny_run_stopped_and_resumed(c, dir / "stopped", 3);
  CHECK(test::same_last_weights(dir / "stopped", dir / "straight"));

  TrainConfig off = c;  // the standard kernels compute other roundings: Winograd did run
  off.winograd = "off";
  off.out = (dir / "off").string();
  test::tiny_run(off);
  CHECK(!test::same_last_weights(dir / "off", dir / "straight"));

  TrainConfig bad = c;
  bad.winograd = "f6";
  CHECK_THROWS_WITH(validate(bad), "--winograd must be off, measured, f2 or f4, got 'f6'");
}
