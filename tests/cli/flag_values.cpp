// FlagParser::values() / set_value(): what the trainers record of their flags (config.json, the
// training state) and what --resume restores from it, exactly and without counting as given.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "moodnet/cli/flags.hpp"

using moodnet::cli::FlagParser;
using moodnet::cli::FlagValue;

namespace {
struct FlagValuesFixture {
  double lr = 0.1, tiny = 1e-8, budget = 88 * 60 + 0.5;
  int epochs = 30;
  std::uint64_t seed = std::numeric_limits<std::uint64_t>::max();
  bool nesterov = true;
  std::string data, schedule = "onecycle";
  FlagParser flags{"prog"};
  FlagValuesFixture() {
    flags.add("lr", &lr, "").positive();
    flags.add("tiny", &tiny, "");
    flags.add_duration("time-budget", &budget, "");
    flags.add("epochs", &epochs, "").range(1, 100);
    flags.add("seed", &seed, "");
    flags.add("nesterov", &nesterov, "");
    flags.add("data", &data, "").non_empty();
    flags.add_choice("schedule", &schedule, {"cosine", "onecycle"}, "");
  }
  std::string text_of(const std::string& name) const {
    for (const FlagValue& v : flags.values())
      if (v.name == name) return v.text;
    FAIL("no flag " << name);
    return "";
  }
};
}  // namespace

TEST_CASE("FlagParser::values: every flag as text that reads back exactly, with its kind", "[cli]") {
  FlagValuesFixture f;
  const auto values = f.flags.values();
  REQUIRE(values.size() == 8);
  CHECK(values[0].name == "lr");  // registration order
  CHECK(f.text_of("lr") == "0.1");
  CHECK(f.text_of("tiny") == "1e-08");
  CHECK(f.text_of("time-budget") == "5280.5");  // seconds, never "1h28m" (rounded) nor an exponent
  CHECK(f.text_of("epochs") == "30");
  CHECK(f.text_of("seed") == "18446744073709551615");
  CHECK(f.text_of("nesterov") == "true");
  CHECK(f.text_of("data").empty());
  CHECK(values[0].kind == FlagValue::Kind::number);
  CHECK(values[5].kind == FlagValue::Kind::boolean);
  CHECK(values[7].kind == FlagValue::Kind::text);

  // Written back into a parser with other values, every one comes back bit for bit.
  FlagValuesFixture g;
  g.lr = 0.5, g.tiny = 3, g.budget = 0, g.epochs = 2, g.seed = 1, g.nesterov = false, g.data = "x", g.schedule = "cosine";
  for (const FlagValue& v : values) g.flags.set_value(v.name, v.text);
  CHECK(g.lr == f.lr);
  CHECK(g.tiny == f.tiny);
  CHECK(g.budget == f.budget);
  CHECK(g.epochs == f.epochs);
  CHECK(g.seed == f.seed);
  CHECK(g.nesterov == f.nesterov);
  CHECK(g.data.empty());  // a plain string flag takes "" though --data "" is refused on the command line
  CHECK(g.schedule == f.schedule);
}

TEST_CASE("FlagParser::set_value: checks like the command line, does not count as given", "[cli]") {
  FlagValuesFixture f;
  f.flags.parse({"--epochs", "7"});
  f.flags.set_value("lr", "0.25");
  CHECK(f.lr == 0.25);
  CHECK_FALSE(f.flags.is_set("lr"));  // restored, not given
  f.flags.set_value("epochs", "9");
  CHECK(f.flags.is_set("epochs"));  // given stays given
  CHECK_THROWS_WITH(f.flags.set_value("epochs", "101"), Catch::Contains("--epochs") && Catch::Contains("out of range"));
  CHECK_THROWS_WITH(f.flags.set_value("schedule", "step"), Catch::Contains("unknown value 'step'"));
  CHECK_THROWS_WITH(f.flags.set_value("nope", "1"), Catch::Contains("unknown flag --nope"));
  CHECK(f.flags.has("lr"));
  CHECK_FALSE(f.flags.has("nope"));
}
