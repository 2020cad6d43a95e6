// The recipe flags of every trainer (issue 15): --crop, --flip, --tail-fraction,
// --norm-bias-lr-scale and --erase parse on the FER-2013 presets and on `train`, bad values are
// one-line errors, the schedule gets its tail, a run with all of them resumes to the uninterrupted
// run's bytes, a resume with any of them changed is refused, and a preset trains on 40x40 crops of
// FER-2013 and tests on ten 40x40 crops.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "moodnet/train/train_cli.hpp"
#include "tiny_run.hpp"

using namespace moodnet;
using namespace moodnet::train;
namespace fs = std::filesystem;

namespace {

// Parses `args` with the flags of the preset train_customnet into its default config.
TrainConfig recipe_parse(const std::vector<std::string>& args) {
  TrainConfig c = default_config("customnet");
  cli::FlagParser flags("train_customnet", "");
  add_train_flags(flags, c);
  flags.parse(args);
  return c;
}

// tiny_run's configuration on `data` (20x20 images: CustomNet takes 16x16 crops at the least) with
// every recipe flag on.
TrainConfig recipe_config(const fs::path& data, const fs::path& out) {
  TrainConfig c = test::tiny_run_config(data, out);
  c.crop = 16;
  c.flip = "alternate";
  c.tail_fraction = 0.5;
  c.norm_bias_lr_scale = 2;
  c.erase = 0.3;
  c.tta = "tencrop";
  return c;
}

TrainResult recipe_run(const TrainConfig& c) { return test::tiny_run(c); }

}  // namespace

TEST_CASE("recipe flags: the FER-2013 presets parse them; bad values are one-line errors", "[train][recipe]") {
  const TrainConfig d = recipe_parse({});
  CHECK(d.crop == 0);
  CHECK(d.flip == "random");
  CHECK(d.tail_fraction == 0);
  CHECK(d.norm_bias_lr_scale == 1);
  CHECK(d.erase == 0.5);  // the recipe's: a default run is the run of before these flags
  const TrainConfig c = recipe_parse(
      {"--crop", "40", "--flip", "alternate", "--tail-fraction", "0.2", "--norm-bias-lr-scale", "3", "--erase", "0.25"});
  CHECK(c.crop == 40);
  CHECK(c.flip == "alternate");
  CHECK(c.tail_fraction == 0.2);
  CHECK(c.norm_bias_lr_scale == 3);
  CHECK(c.erase == 0.25);
  CHECK(recipe_parse({"--flip", "none"}).flip == "none");

  CHECK_THROWS_WITH(recipe_parse({"--flip", "sometimes"}),
                    "flag --flip: unknown value 'sometimes' (allowed: random, alternate, none)");
  CHECK_THROWS_WITH(recipe_parse({"--crop", "-4"}), "flag --crop: -4 is out of range (must be >= 0)");
  CHECK_THROWS_WITH(recipe_parse({"--crop", "40.5"}), "flag --crop: '40.5' is not an integer");
  CHECK_THROWS_WITH(recipe_parse({"--tail-fraction", "1.5"}), "flag --tail-fraction: 1.5 is out of range (must be in [0, 1])");
  CHECK_THROWS_WITH(recipe_parse({"--norm-bias-lr-scale", "0"}),
                    "flag --norm-bias-lr-scale: 0 is out of range (must be > 0)");
  CHECK_THROWS_WITH(recipe_parse({"--erase", "-0.1"}), "flag --erase: -0.1 is out of range (must be in [0, 1])");

  // The same checks in validate(), for configurations built in code; and the combinations.
  TrainConfig v = default_config("customnet");
  v.flip = "sometimes";
  CHECK_THROWS_WITH(validate(v), "--flip must be random, alternate or none, got 'sometimes'");
  v.flip = "alternate", v.augment = 0;
  CHECK_THROWS_WITH(validate(v), Catch::StartsWith("--flip alternate says when the recipe's flips happen, but --augment 0"));
  v.augment = 1, v.hflip = false;
  CHECK_THROWS_WITH(validate(v), Catch::Contains("--no-hflip says a mirror image changes the class"));
  v = default_config("customnet");
  v.erase = 2;
  CHECK_THROWS_WITH(validate(v), "--erase must be a probability in [0, 1], got 2");
  v.erase = 0.5, v.tail_fraction = -1;
  CHECK_THROWS_WITH(validate(v), "--tail-fraction must be in [0, 1], got -1");
  v.tail_fraction = 0, v.norm_bias_lr_scale = -2;
  CHECK_THROWS_WITH(validate(v), "--norm-bias-lr-scale must be > 0, got -2");

  // `train`: --no-hflip with a flip mode that mirrors is refused before anything runs (exit 2).
  const char* argv[] = {"train", "--data", "/nonexistent", "--no-hflip", "--flip", "alternate"};
  CHECK(train_any_main(6, argv) == 2);
}

TEST_CASE("recipe flags: --tail-fraction wraps the schedule, 0 leaves it as it was", "[train][recipe]") {
  TrainConfig c = default_config("customnet");
  for (const char* s : {"onecycle", "cosine", "step", "plateau"}) {
    c.schedule = s;
    c.tail_fraction = 0;
    const auto plain = make_schedule(c, 10, 100);
    CHECK(plain->kind() != "linear_tail");
    c.tail_fraction = 0.25;
    const auto tail = make_schedule(c, 10, 100);
    REQUIRE(tail->kind() == "linear_tail");
    CHECK(tail->state().at("inner.kind") == plain->kind());
    const auto* t = dynamic_cast<const LinearTailLr*>(tail.get());
    REQUIRE(t != nullptr);
    CHECK(t->tail_start() == 75);
  }
}

TEST_CASE("recipe flags: a run with all of them resumes to the same bytes; a changed one is refused",
          "[train][recipe]") {
  test::TempDir dir("recipe-flags");
  test::write_class_folders(dir / "data", "", {"left", "right"}, 12, 20);
  TrainConfig c = recipe_config(dir / "data", dir / "a");
  recipe_run(c);  // uninterrupted
  const std::string last = test::read_bytes(dir / "a" / "last.safetensors");
  const std::string best = test::read_bytes(dir / "a" / "best.safetensors");
  const io::ModelMetadata md = io::read_weights_metadata((dir / "a" / "best.safetensors").string());
  CHECK(md.input == Shape{1, 16, 16});  // trained on 16x16 crops of the 20x20 images
  CHECK(md.image_height == 20);
  const std::string report = test::read_bytes(dir / "a" / "test_results.txt");
  CHECK_THAT(report, Catch::Contains("with tencrop TTA"));

  // Stopped inside the tail (the last half of 3 epochs), then resumed.
  c.out = (dir / "b").string();
  c.max_steps = 11;
  const TrainResult stopped = recipe_run(c);
  CHECK(stopped.stopped_early);
  c.max_steps = 0, c.resume = true;
  recipe_run(c);
  CHECK(test::read_bytes(dir / "b" / "last.safetensors") == last);
  CHECK(test::read_bytes(dir / "b" / "best.safetensors") == best);

  // A partial run, resumed with one flag changed: refused naming it.
  TrainConfig p = recipe_config(dir / "data", dir / "c");
  p.max_steps = 1;
  recipe_run(p);
  p.max_steps = 0, p.resume = true;
  const auto refused = [&](TrainConfig changed, const std::string& says) {
    INFO(says);
    CHECK_THROWS_WITH(recipe_run(changed), Catch::Contains("other settings (") && Catch::Contains(says));
  };
  TrainConfig x = p;
  x.flip = "random";
  refused(x, "flip alternate, now random");
  x = p, x.tail_fraction = 0;
  refused(x, "tail_fraction 0.5, now 0");
  x = p, x.norm_bias_lr_scale = 1;
  refused(x, "norm_bias_lr_scale 2, now 1");
  x = p, x.erase = 0.5;
  refused(x, "erase 0.3, now 0.5");
  x = p, x.crop = 18;
  refused(x, "crop 16, now 18");
  recipe_run(p);  // the same flags resume
  CHECK(fs::exists(dir / "c" / "best.safetensors"));
}

TEST_CASE("recipe flags: train_customnet on 40x40 crops of FER-2013, ten-crop TTA on 40x40 crops", "[train][recipe]") {
  test::TempDir dir("recipe-crop");
  TrainConfig c = default_config("customnet");
  c.size = {{"w", 8}};
  c.data.path = (fs::path(MOODNET_SOURCE_DIR) / "data" / "fer2013-sample").string();
  c.epochs = 1;
  c.batch_size = 16;
  c.threads = 1;
  c.time_budget = 0;
  c.crop = 40;
  c.tta = "tencrop";
  c.out = (dir / "run").string();
  const TrainResult r = recipe_run(c);
  CHECK(r.epochs_done == 1);
  CHECK(r.private_total == 35);  // the sample's PrivateTest, each image as ten 40x40 views
  const io::ModelMetadata md = io::read_weights_metadata((dir / "run" / "best.safetensors").string());
  CHECK(md.input == Shape{1, 40, 40});
  CHECK(md.image_height == 48);
  CHECK(md.centre_crop() == 40);
  c.crop = 49;
  c.out = (dir / "too-big").string();
  CHECK_THROWS_WITH(recipe_run(c), Catch::Contains("--crop 49 is larger than the images (1x48x48)"));
}
