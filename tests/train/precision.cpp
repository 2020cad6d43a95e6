// The trainers' --precision bf16 (train/trainer.hpp, kernels/matmul_precision.hpp): on a machine
// with AMX-BF16 the run trains with bf16 matrix products (other bits than fp32, as it must), a
// stop and resume changes no bit, a resume that changes the flag is refused, and the setting is
// put back when the run ends; without AMX the run stops at once with a clear error. Bad values and
// the combination with Winograd are refused by validate.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "moodnet/kernels/matmul_precision.hpp"
#include "moodnet/train/trainer.hpp"
#include "tiny_run.hpp"

using namespace moodnet;
using namespace moodnet::train;
namespace fs = std::filesystem;

TEST_CASE("Trainer --precision: values and combinations validate refuses", "[train][precision]") {
  TrainConfig c;
  c.precision = "fp16";
  CHECK_THROWS_WITH(validate(c), "--precision must be fp32 or bf16, got 'fp16'");
  c.precision = "bf16";
  c.winograd = "f4";
  CHECK_THROWS_WITH(validate(c), Catch::Contains("use it with --winograd off, got --winograd f4"));
  c.winograd = "off";
  CHECK_NOTHROW(validate(c));
}

TEST_CASE("Trainer --precision bf16: trains on AMX, resumes bit for bit, refuses a changed flag",
          "[train][precision]") {
  test::TempDir dir("precision-run");
  test::write_tiny_run_data(dir / "data");
  TrainConfig c = test::tiny_run_config(dir / "data", dir / "straight");
  c.precision = "bf16";
  c.max_steps = 6;
  if (!kernels::amx_bf16_available()) {
    CHECK_THROWS_WITH(test::tiny_run(c), Catch::Contains("--precision bf16: needs Intel AMX-BF16"));
    WARN("this machine has no AMX-BF16: only the refusal was tested");
    return;
  }
  std::string log;
  test::tiny_run(c, &log);
  CHECK_THAT(log, Catch::Contains("precision: bf16 matrix products"));
  CHECK(kernels::matmul_precision() == kernels::MatmulPrecision::fp32);  // put back when the run ended

  TrainConfig fp32 = c;  // other roundings: the bf16 products did run
  fp32.precision = "fp32";
  fp32.out = (dir / "fp32").string();
  test::tiny_run(fp32);
  CHECK(!test::same_last_weights(dir / "fp32", dir / "straight"));

  // stopped at step 3 and resumed to 6: the same bits as straight through
  const TrainConfig stopped = test::tiny_run_stopped_and_resumed(c, dir / "stopped", 3);
  CHECK(test::same_last_weights(dir / "stopped", dir / "straight"));

  TrainConfig changed = stopped;
  changed.precision = "fp32";
  changed.max_steps = 9;
  CHECK_THROWS_WITH(test::tiny_run(changed), Catch::Contains("precision bf16, now fp32"));

  TrainConfig two_threads = c;  // bit-identical for any thread count, as in fp32
  two_threads.threads = 2;
  two_threads.out = (dir / "two_threads").string();
  test::tiny_run(two_threads);
  CHECK(test::same_last_weights(dir / "two_threads", dir / "straight"));
}
