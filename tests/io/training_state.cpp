#include "moodnet/io/training_state.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <vector>

#include "moodnet/optim/lr_schedule.hpp"
#include "../support/temp_dir.hpp"

using namespace moodnet::io;

TEST_CASE("training state round-trips buffers, values, RNG and schedule state exactly", "[io][training_state]") {
  moodnet::test::TempDir dir;
  const std::string path = dir.file("last.state.safetensors");
  std::vector<float> m(1000), v(1000);
  for (int i = 0; i < 1000; ++i) {
    m[i] = 1e-3f * static_cast<float>(i) - 0.3f;
    v[i] = 1e-7f * static_cast<float>(i * i);
  }
  const std::vector<std::int64_t> counts = {0, -7, 1LL << 40};
  moodnet::Rng rng(1234, 5);
  rng.normal();  // leaves a cached normal in the state
  moodnet::OneCycleLr sched(0.1, 100);
  for (int i = 0; i < 17; ++i) sched.step();

  TrainingState s;
  s.set_int("step", 1700);
  s.set_int("epoch", 17);
  s.set_double("best_val_accuracy", 0.6123456789012345);
  s.set_double("best_loss", std::numeric_limits<double>::infinity());
  s.set_string("optimizer", "adamw");
  s.set_rng("rng.data", rng.state());
  s.set_map("schedule.", sched.state());
  s.add_buffer("adam.m", m.data(), {1000});
  s.add_buffer("adam.v", v.data(), {10, 100});
  s.add_buffer("counts", counts.data(), {3});
  save_training_state(path, s);

  const TrainingState r = load_training_state(path);
  CHECK(r.get_int("step") == 1700);
  CHECK(r.get_int("epoch") == 17);
  CHECK(r.get_double("best_val_accuracy") == 0.6123456789012345);
  CHECK(r.get_double("best_loss") == std::numeric_limits<double>::infinity());
  CHECK(r.get_string("optimizer") == "adamw");
  CHECK(r.get_rng("rng.data") == rng.state());
  moodnet::Rng resumed;
  resumed.set_state(r.get_rng("rng.data"));
  CHECK(resumed.normal() == rng.normal());
  CHECK(resumed.next_u64() == rng.next_u64());

  moodnet::OneCycleLr sched2(0.1, 100);
  sched2.load_state(r.get_map("schedule."));
  CHECK(sched2.step_count() == 17);
  CHECK(sched2.lr() == sched.lr());

  std::vector<float> m2(1000), v2(1000);
  r.copy_buffer("adam.m", m2.data(), {1000});
  r.copy_buffer("adam.v", v2.data(), {10, 100});
  CHECK(std::memcmp(m.data(), m2.data(), 4000) == 0);
  CHECK(std::memcmp(v.data(), v2.data(), 4000) == 0);
  std::vector<std::int64_t> c2(3);
  r.copy_buffer("counts", c2.data(), {3});
  CHECK(c2 == counts);
}

TEST_CASE("training state errors name the file and the key or buffer", "[io][training_state]") {
  moodnet::test::TempDir dir;
  const std::string path = dir.file("s.safetensors");
  std::vector<float> m(10, 1.0f);
  TrainingState s;
  s.set_string("step", "12x");
  s.add_buffer("adam.m", m.data(), {10});
  CHECK_THROWS_WITH(s.add_buffer("adam.m", m.data(), {10}), Catch::Contains("buffer adam.m is added twice"));
  CHECK_THROWS_WITH(s.set_string("format", "x"), Catch::Contains("reserved"));
  save_training_state(path, s);
  const TrainingState r = load_training_state(path);
  CHECK_THROWS_WITH(r.get_int("step"), "training state " + path + ": value \"step\" is \"12x\", not a valid number");
  CHECK_THROWS_WITH(r.get_int("epoch"), "training state " + path + ": value \"epoch\" is missing");
  std::vector<float> big(12);
  CHECK_THROWS_WITH(r.copy_buffer("adam.m", big.data(), {12}),
                    "training state " + path + ": buffer adam.m has shape [10], expected [12] (was it saved for another model?)");
  CHECK_THROWS_WITH(r.copy_buffer("adam.v", big.data(), {12}), "training state " + path + ": buffer adam.v is missing");
  std::vector<double> dd(10);
  CHECK_THROWS_WITH(r.copy_buffer("adam.m", dd.data(), {10}), Catch::Contains("has dtype F32, expected F64"));

  // A weights file is not a training-state file.
  const std::string weights = dir.file("w.safetensors");
  save_safetensors(weights, {tensor_ref("fc.bias", m.data(), {7})}, {{"model", "customnet"}});
  CHECK_THROWS_WITH(load_training_state(weights), Catch::Contains("not a moodnet training-state file") &&
                                                      Catch::Contains("\"format\" is missing"));
}
