#include "moodnet/cli/flags.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using moodnet::Error;
using moodnet::cli::FlagParser;

namespace {
// The flags of a typical trainer, registered on the given config.
struct Config {
  double lr = 1e-3, weight_decay = 0, time_budget = 0;
  int batch_size = 64, epochs = 30;
  std::int64_t seed = 42;
  std::string optimizer = "adam", out_dir = "runs/mobilenet";
  bool augment = true, resume = false;
};
FlagParser make_parser(Config& c) {
  FlagParser p("train_mobilenet", "Trains MobileNet-V1 on FER-2013.");
  p.add("lr", &c.lr, "learning rate").positive();
  p.add("weight-decay", &c.weight_decay, "L2 weight decay").min(0);
  p.add("batch-size", &c.batch_size, "images per batch").range(1, 4096);
  p.add("epochs", &c.epochs, "training epochs").min(1);
  p.add("seed", &c.seed, "random seed");
  p.add_choice("optimizer", &c.optimizer, {"sgd", "adam", "adamw"}, "optimizer");
  p.add("out", &c.out_dir, "output folder").metavar("dir");
  p.add("augment", &c.augment, "random flips, crops and rotations");
  p.add("resume", &c.resume, "continue from the last checkpoint in --out");
  p.add_duration("time-budget", &c.time_budget, "stop after this long (0 = no limit)");
  p.set_positional("<data-dir>", 1, 1);
  return p;
}
std::vector<std::string> parse(Config& c, std::vector<std::string> args) {
  FlagParser p = make_parser(c);
  return p.parse(args);
}
}  // namespace

TEST_CASE("Flags: --name value, --name=value, booleans and positionals", "[cli][flags]") {
  Config c;
  FlagParser p = make_parser(c);
  const char* argv[] = {"train", "--lr", "0.01", "--batch-size=128", "--no-augment", "--resume", "data/fer2013",
                        "--optimizer", "sgd", "--time-budget", "1h30m", "--seed", "-7", "--out=/tmp/x y"};
  const auto pos = p.parse(static_cast<int>(std::size(argv)), argv);
  CHECK(pos == std::vector<std::string>{"data/fer2013"});
  CHECK(c.lr == 0.01);
  CHECK(c.batch_size == 128);
  CHECK_FALSE(c.augment);
  CHECK(c.resume);
  CHECK(c.optimizer == "sgd");
  CHECK(c.time_budget == 5400);
  CHECK(c.seed == -7);
  CHECK(c.out_dir == "/tmp/x y");
  CHECK(c.epochs == 30);  // untouched flags keep their defaults
  CHECK(p.is_set("lr"));
  CHECK_FALSE(p.is_set("epochs"));
  CHECK_FALSE(p.help_requested());

  Config d;
  parse(d, {"--augment=false", "--resume=yes", "--", "--not-a-flag"});
  CHECK_FALSE(d.augment);
  CHECK(d.resume);
}

TEST_CASE("Flags: durations in every accepted form", "[cli][flags]") {
  for (const auto& [text, seconds] : std::vector<std::pair<std::string, double>>{
           {"90m", 5400}, {"1h30m", 5400}, {"45s", 45}, {"5400", 5400}, {"1.5h", 5400}, {"2h0m30s", 7230}, {"1d", 86400}, {"0", 0}}) {
    Config c;
    parse(c, {"--time-budget", text, "data"});
    INFO(text);
    CHECK(c.time_budget == seconds);
  }
}

TEST_CASE("Flags: every user mistake is a one-line moodnet::Error naming the flag and value", "[cli][flags]") {
  Config c;
  const auto fails = [&](std::vector<std::string> args) { return [&c, args] { parse(c, args); }; };
  REQUIRE_THROWS_WITH(fails({"--lerning-rate", "1", "d"})(), "unknown flag --lerning-rate (see --help)");
  REQUIRE_THROWS_WITH(fails({"--epoch", "3", "d"})(), "unknown flag --epoch (did you mean --epochs?) (see --help)");
  REQUIRE_THROWS_WITH(fails({"-x", "d"})(), Catch::Contains("unknown flag -x"));
  REQUIRE_THROWS_WITH(fails({"d", "--lr"})(), "flag --lr needs a value");
  REQUIRE_THROWS_WITH(fails({"--lr", "--epochs", "3", "d"})(), "flag --lr needs a value");
  REQUIRE_THROWS_WITH(fails({"--lr", "abc", "d"})(), "flag --lr: 'abc' is not a number");
  REQUIRE_THROWS_WITH(fails({"--lr", "nan", "d"})(), "flag --lr: 'nan' is not a number");
  REQUIRE_THROWS_WITH(fails({"--lr=1e-3x", "d"})(), "flag --lr: '1e-3x' is not a number");
  REQUIRE_THROWS_WITH(fails({"--lr", "-0.1", "d"})(), "flag --lr: -0.1 is out of range (must be > 0)");
  REQUIRE_THROWS_WITH(fails({"--lr", "0", "d"})(), "flag --lr: 0 is out of range (must be > 0)");
  REQUIRE_THROWS_WITH(fails({"--batch-size", "0", "d"})(), "flag --batch-size: 0 is out of range (must be in [1, 4096])");
  REQUIRE_THROWS_WITH(fails({"--batch-size", "3.5", "d"})(), "flag --batch-size: '3.5' is not an integer");
  REQUIRE_THROWS_WITH(fails({"--batch-size", "99999999999", "d"})(),
                      "flag --batch-size: 99999999999 is out of range for an integer");
  REQUIRE_THROWS_WITH(fails({"--optimizer", "foo", "d"})(), "flag --optimizer: unknown value 'foo' (allowed: sgd, adam, adamw)");
  REQUIRE_THROWS_WITH(fails({"--augment=maybe", "d"})(), "flag --augment: 'maybe' is not a boolean (use true or false)");
  REQUIRE_THROWS_WITH(fails({"--no-augment=1", "d"})(), "flag --no-augment takes no value, got '1'");
  REQUIRE_THROWS_WITH(fails({"--no-lr", "d"})(), Catch::StartsWith("unknown flag --no-lr"));
  REQUIRE_THROWS_WITH(fails({"--time-budget", "10x", "d"})(),
                      Catch::StartsWith("flag --time-budget: '10x' is not a duration (unknown unit"));
  REQUIRE_THROWS_WITH(fails({"--time-budget", "-5m", "d"})(), Catch::StartsWith("flag --time-budget: '-5m' is not a duration"));
  REQUIRE_THROWS_WITH(fails({"--time-budget", "30m1h", "d"})(), Catch::Contains("largest to smallest"));
  REQUIRE_THROWS_WITH(fails({"--time-budget", "1h30", "d"})(), Catch::Contains("missing unit"));
  REQUIRE_THROWS_WITH(fails({"--time-budget=", "d"})(), Catch::Contains("'' is not a duration (empty"));
  REQUIRE_THROWS_WITH(fails({})(), "expected 1 positional argument(s) <data-dir>, got 0");
  REQUIRE_THROWS_WITH(fails({"a", "b"})(), "expected 1 positional argument(s) <data-dir>, got 2: 'a' 'b'");
  REQUIRE_THROWS_AS(fails({"--lr", "x", "d"})(), Error);
}

// Issue 19: a seed or a width given as 1e30 or 8.7 was cast to an integer (out of range: undefined
// behaviour; in range: silently truncated while the metadata recorded the rounded value).
TEST_CASE("Flags: unsigned and whole-number flags reject what an integer cannot hold", "[cli][flags]") {
  std::uint64_t seed = 1;
  double width = 32, alpha = 1;
  FlagParser p("train", "");
  p.add("seed", &seed, "random seed");
  p.add("width", &width, "channel width").range(8, 1024).integer();
  p.add("alpha", &alpha, "width multiplier").range(0.25, 4);
  const auto run = [&](std::vector<std::string> args) { return [&p, args] { p.parse(args); }; };
  REQUIRE_THROWS_WITH(run({"--seed", "1e30"})(), "flag --seed: '1e30' is not an integer");
  REQUIRE_THROWS_WITH(run({"--seed", "1.5"})(), "flag --seed: '1.5' is not an integer");
  REQUIRE_THROWS_WITH(run({"--seed", "-1"})(), "flag --seed: '-1' is not a non-negative integer");
  REQUIRE_THROWS_WITH(run({"--seed", "18446744073709551616"})(), "flag --seed: '18446744073709551616' is not an integer");
  REQUIRE_THROWS_WITH(run({"--width", "8.7"})(), "flag --width: '8.7' is not a whole number");
  REQUIRE_THROWS_WITH(run({"--width", "1e30"})(), "flag --width: 1e30 is out of range (must be in [8, 1024])");
  CHECK(seed == 1);
  CHECK(width == 32);
  p.parse({"--seed", "18446744073709551615", "--width", "1.6e1", "--alpha", "0.75"});
  CHECK(seed == 18446744073709551615ULL);  // the whole uint64 range, exactly
  CHECK(width == 16);
  CHECK(alpha == 0.75);  // a plain double flag still takes fractions
  CHECK_THAT(p.help(), Catch::Contains("--width <integer>") && Catch::Contains("--alpha <number>"));
}

TEST_CASE("Flags: --help lists every flag with its type, default and range", "[cli][flags]") {
  Config c;
  FlagParser p = make_parser(c);
  p.parse(std::vector<std::string>{"--help"});  // no positional needed with --help
  CHECK(p.help_requested());
  const std::string h = p.help(200);  // wide enough for every entry on one line (tests/cli/help_wrap.cpp wraps)
  CHECK(h.rfind("usage: train_mobilenet [flags] <data-dir>\n\nTrains MobileNet-V1 on FER-2013.\n\nflags:\n", 0) == 0);
  CHECK(h.find("  --lr <number>                  learning rate (default: 0.001; must be > 0)\n") != std::string::npos);
  CHECK(h.find("--batch-size <integer>         images per batch (default: 64; must be in [1, 4096])\n") != std::string::npos);
  CHECK(h.find("--optimizer <sgd|adam|adamw>   optimizer (default: adam)\n") != std::string::npos);
  CHECK(h.find("--[no-]augment                 random flips, crops and rotations (default: true)\n") != std::string::npos);
  CHECK(h.find("--out <dir>                    output folder (default: runs/mobilenet)\n") != std::string::npos);
  CHECK(h.find("--time-budget <duration>       stop after this long (0 = no limit) (default: 0; must be >= 0; e.g. 90m") !=
        std::string::npos);
  CHECK(h.find("  -h, --help ") != std::string::npos);
  CHECK(h.find("  --version ") != std::string::npos);
  INFO(h);
  CHECK(std::count(h.begin(), h.end(), '\n') == 17);
  CHECK(p.requested_text() == p.help());
}

TEST_CASE("Flags: --version names moodnet's version, the compiler and the compiled paths", "[cli][flags]") {
  Config c;
  FlagParser p = make_parser(c);
  CHECK(p.requested_text().empty());  // before parsing: nothing asked for
  p.parse(std::vector<std::string>{"--version"});  // no positional needed with --version
  CHECK(p.version_requested());
  CHECK_FALSE(p.help_requested());
  const std::string v = p.requested_text();
  INFO(v);
  CHECK(v.rfind("train_mobilenet (moodnet " MOODNET_VERSION_STRING ")\n", 0) == 0);
  CHECK_THAT(v, Catch::Contains("\ncompiler: " + moodnet::cli::compiler_name() + "\n"));
#if defined(__AVX512F__)
  CHECK_THAT(v, Catch::Contains("AVX-512 paths: compiled in"));
#else
  CHECK_THAT(v, Catch::Contains("AVX-512 paths: not compiled in"));
#endif
  CHECK(std::count(v.begin(), v.end(), '\n') == 5);
  // --help wins when both are given.
  FlagParser q = make_parser(c);
  q.parse(std::vector<std::string>{"--version", "--help"});
  CHECK(q.requested_text() == q.help());
}

TEST_CASE("guarded_main turns errors into exit codes", "[cli][flags]") {
  CHECK(moodnet::cli::guarded_main([] { return 0; }) == 0);
  CHECK(moodnet::cli::guarded_main([]() -> int { moodnet::fail("flag --lr: 'abc' is not a number"); }) == 2);
  CHECK(moodnet::cli::guarded_main([]() -> int { throw std::runtime_error("boom"); }) == 1);
}

// Issue 19: `evaluate ... /nonexistent/fer2013` ignored the stray path, and --data "" silently meant
// the default dataset.
TEST_CASE("Flags: a program without positionals names a stray argument; non_empty refuses \"\"", "[cli][flags]") {
  std::string data = "default";
  FlagParser p("evaluate", "");
  p.add("data", &data, "dataset").non_empty();
  p.set_positional("", 0, 0);
  CHECK_THROWS_WITH(p.parse({"--data", "d", "/nonexistent/fer2013"}),
                    "unexpected argument '/nonexistent/fer2013': evaluate takes no positional arguments (flags start "
                    "with --; see --help)");
  CHECK_THROWS_WITH(p.parse({"a", "b"}), Catch::StartsWith("unexpected arguments 'a' 'b': evaluate takes no"));
  CHECK_THROWS_WITH(p.parse({"--data", ""}), "flag --data is empty: give a value, or leave the flag out");
  CHECK_THROWS_WITH(p.parse({"--data="}), "flag --data is empty: give a value, or leave the flag out");
  p.parse({"--data", "x"});
  CHECK(data == "x");
}
