// The run folder's rules at the Trainer's level (issue 18; the command line's side, config.json and
// the flags --resume restores, is tests/examples/smoke_runs.sh), on two classes of 16x16 gray images:
//   - a fresh run refuses a folder that holds a run, --overwrite replaces that run's files;
//   - --resume with replan_epochs (the CLI's --resume --epochs N) extends a finished run: with a
//     schedule that does not depend on the length (plateau) it reaches the weights of a run planned
//     that long from the start, bit for bit; with one that does (onecycle) it continues on the new
//     plan from the current step (the same rate as that run's at each later step, other weights);
//   - the weights' metadata records the epoch, the validation accuracy and the version.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>

#include "moodnet/io/safetensors.hpp"
#include "moodnet/train/trainer.hpp"
#include "../data/support.hpp"

using namespace moodnet;
using namespace moodnet::train;
namespace fs = std::filesystem;

namespace {

TrainConfig runfolder_config(const fs::path& data, const fs::path& out, const std::string& schedule, int epochs) {
  TrainConfig c;
  c.model = "customnet";
  c.size = {{"w", 8}};
  c.data.path = data.string();
  c.epochs = epochs;
  c.batch_size = 4;
  c.lr = 0.05;
  c.schedule = schedule;
  c.threads = 1;
  c.seed = 9;
  c.out = out.string();
  c.tta = "none";
  return c;
}

std::string runfolder_run(const TrainConfig& c) {
  std::ostringstream log;
  Trainer t(c, log);
  t.run();
  return log.str();
}

// The tensors of a weights file (header entries and bytes), without its metadata.
std::string runfolder_tensors(const fs::path& file) {
  const io::SafetensorsFile f = io::SafetensorsFile::load(file.string());
  std::string out;
  for (const io::TensorEntry& e : f.tensors())
    out += e.name + io::shape_str(e.shape) + std::string(reinterpret_cast<const char*>(f.bytes(e)), e.end - e.begin);
  return out;
}

}  // namespace

TEST_CASE("Trainer: a folder holding a run is refused unless --resume or --overwrite", "[train][safety]") {
  test::TempDir dir("runfolder-refuse");
  test::write_class_folders(dir / "data", "", {"left", "right"}, 12, 16);
  const fs::path out = dir / "run";
  TrainConfig c = runfolder_config(dir / "data", out, "plateau", 1);
  runfolder_run(c);
  const std::string best = test::read_bytes(out / "best.safetensors");
  CHECK_THROWS_WITH(runfolder_run(c), Catch::StartsWith("--out " + out.string() + " holds another run (") &&
                                          Catch::Contains("--resume") && Catch::Contains("--overwrite"));
  CHECK(test::read_bytes(out / "best.safetensors") == best);  // nothing touched

  c.overwrite = true, c.seed = 10;
  test::write_bytes(out / "confusion_validation.txt", "old");
  test::write_bytes(out / "notes.md", "the user's own file");
  CHECK_THAT(runfolder_run(c), Catch::Contains("--overwrite: removed "));
  CHECK(test::read_bytes(out / "best.safetensors") != best);
  CHECK(test::read_bytes(out / "confusion_validation.txt") != "old");
  CHECK(test::read_bytes(out / "notes.md") == "the user's own file");  // only the run's own files go

  c.resume = true;
  CHECK_THROWS_WITH(runfolder_run(c), Catch::Contains("give one of them"));
}

TEST_CASE("Trainer: --resume --epochs extends a finished run, re-planned from the current step", "[train][safety]") {
  test::TempDir dir("runfolder-extend");
  test::write_class_folders(dir / "data", "", {"left", "right"}, 12, 16);
  for (const std::string schedule : {"plateau", "onecycle"}) {
    INFO("--schedule " << schedule);
    runfolder_run(runfolder_config(dir / "data", dir / (schedule + "-2"), schedule, 2));  // planned for 2
    TrainConfig c = runfolder_config(dir / "data", dir / (schedule + "-1+1"), schedule, 1);
    runfolder_run(c);
    c.epochs = 2, c.resume = true, c.replan_epochs = true;
    const std::string log = runfolder_run(c);
    CHECK_THAT(log, Catch::Contains("--epochs 2: the run is re-planned from 1 to 2 epochs at step "));
    const auto planned = read_history_csv((dir / (schedule + "-2") / "history.csv").string());
    const auto extended = read_history_csv((dir / (schedule + "-1+1") / "history.csv").string());
    REQUIRE(extended.size() == 2);
    CHECK(extended[1].lr == Approx(planned[1].lr).epsilon(1e-12));  // the new plan's rate at the same step
    const bool same = runfolder_tensors(dir / (schedule + "-2") / "last.safetensors") ==
                      runfolder_tensors(dir / (schedule + "-1+1") / "last.safetensors");
    CHECK(same == (schedule == "plateau"));  // onecycle's first epoch ran on the 1-epoch plan
    const io::Metadata md = io::SafetensorsFile::load((dir / (schedule + "-1+1") / "last.safetensors").string()).metadata();
    CHECK(md.at("epoch") == "2");
    CHECK(md.at("moodnet_version") == MOODNET_VERSION_STRING);
  }
  // Shorter than what is already trained: refused.
  TrainConfig c = runfolder_config(dir / "data", dir / "plateau-1+1", "plateau", 1);
  c.resume = true, c.replan_epochs = true;
  CHECK_THROWS_WITH(runfolder_run(c), Catch::Contains("has already trained 2 epoch(s)"));
}

TEST_CASE("Trainer: best.safetensors records its epoch and validation accuracy", "[train][safety]") {
  test::TempDir dir("runfolder-best");
  test::write_class_folders(dir / "data", "", {"left", "right"}, 12, 16);
  const TrainConfig c = runfolder_config(dir / "data", dir / "run", "plateau", 2);
  const std::string log = runfolder_run(c);
  const io::Metadata md = io::SafetensorsFile::load((dir / "run" / "best.safetensors").string()).metadata();
  const int epoch = std::stoi(md.at("epoch"));
  const double acc = std::stod(md.at("val_accuracy"));
  CHECK((epoch == 1 || epoch == 2));
  CHECK((acc >= 0 && acc <= 1));
  CHECK_THAT(log, Catch::Contains("new best validation accuracy ") && Catch::Contains("at epoch " + md.at("epoch") + ": saved"));
  CHECK(md.at("moodnet_version") == MOODNET_VERSION_STRING);
}
