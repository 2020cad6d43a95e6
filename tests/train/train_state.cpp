// The state a resumed run needs (train/train_state.hpp), listed once: every listed field survives a
// save/load round trip through the file exactly, and every value or buffer the save writes is one the
// load needs (so a field cannot be saved without being loaded). The resume settings are compared.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/train/train_state.hpp"
#include "../support/temp_dir.hpp"

using namespace moodnet;
using namespace moodnet::train;

namespace {

// A 6-element arena with Adam moments that are not all zero after a few steps.
struct Arena {
  Tensor<float> values{Shape{6}}, grads{Shape{6}};
  ParamArena<float> view() { return {values, grads, {{"w", 0, 4, true}, {"b", 4, 2, false}}}; }
};
OptimizerConfig adam() {
  OptimizerConfig c;
  c.kind = OptimizerKind::adam;
  c.lr = 0.01;
  return c;
}
std::unique_ptr<LrSchedule> schedule_of(const TrainProgress& p) {
  return std::make_unique<OneCycleLr>(0.1, std::max<std::int64_t>(4, p.epochs_total * 10), 0.3);
}

// A copy of `t` without the value or buffer called `name`.
io::TrainingState without(const io::TrainingState& t, const std::string& name) {
  io::TrainingState out;
  for (const auto& [k, v] : t.values())
    if (k != name) out.set_string(k, v);
  for (const auto& b : t.buffers()) {
    if (b.name == name) continue;
    REQUIRE(b.dtype == io::DType::F32);
    std::vector<float> data(b.bytes.size() / sizeof(float));
    std::memcpy(data.data(), b.bytes.data(), b.bytes.size());
    out.add_buffer(b.name, data.data(), b.shape);
  }
  return out;
}

}  // namespace

TEST_CASE("Every listed training-state field round-trips exactly through the file", "[train][state]") {
  // Distinct, awkward values for every field of the one list (fractions, a negative best accuracy).
  TrainProgress saved;
  int i = 0;
  TrainProgress::fields(saved, [&](const char*, auto& v) {
    ++i;
    v = static_cast<std::remove_reference_t<decltype(v)>>(i * 1000 + i);
    if constexpr (std::is_floating_point_v<std::remove_reference_t<decltype(v)>>) v = v / 3.0 - 0.1;
  });
  REQUIRE(i >= 9);
  saved.epochs_total = 5, saved.best_val_acc = -1;  // a schedule of 50 steps; no best epoch yet

  Arena a;
  Optimizer<float> opt(a.view(), adam());
  for (int s = 0; s < 3; ++s) {
    for (std::int64_t k = 0; k < 6; ++k) a.grads[k] = 0.1f * static_cast<float>(k + 1) * static_cast<float>(s + 1);
    opt.step();
  }
  std::unique_ptr<LrSchedule> sched = schedule_of(saved);
  for (int s = 0; s < 7; ++s) sched->step();

  const test::TempDir dir("train-state");
  io::TrainingState t;
  save_train_state(t, saved, opt, *sched);
  io::save_training_state(dir.file("s.safetensors"), t);
  const io::TrainingState back = io::load_training_state(dir.file("s.safetensors"));

  TrainProgress loaded;
  Arena b;
  Optimizer<float> opt2(b.view(), adam());
  const std::unique_ptr<LrSchedule> sched2 = load_train_state(back, loaded, opt2, schedule_of);

  // Walk the list on both: every field equal, bit for bit.
  std::vector<std::string> keys;
  TrainProgress::fields(saved, [&](const char* key, const auto&) { keys.emplace_back(key); });
  std::vector<double> want, got;
  TrainProgress::fields(saved, [&](const char*, const auto& v) { want.push_back(static_cast<double>(v)); });
  TrainProgress::fields(loaded, [&](const char*, const auto& v) { got.push_back(static_cast<double>(v)); });
  REQUIRE(want.size() == got.size());
  for (std::size_t f = 0; f < want.size(); ++f) {
    INFO(keys[f]);
    CHECK(std::memcmp(&want[f], &got[f], sizeof(double)) == 0);
  }
  CHECK(opt2.steps() == opt.steps());
  const auto sa = opt.state_buffers(), sb = opt2.state_buffers();
  REQUIRE(sa.size() == sb.size());
  for (std::size_t k = 0; k < sa.size(); ++k)
    CHECK(std::memcmp(sa[k].second.data(), sb[k].second.data(), sizeof(float) * sa[k].second.numel()) == 0);
  CHECK(sched2->state() == sched->state());
  CHECK(sched2->lr() == sched->lr());
}

TEST_CASE("The load needs every value and buffer the save writes", "[train][state]") {
  TrainProgress p;
  p.epochs_total = 3;
  Arena a;
  Optimizer<float> opt(a.view(), adam());
  const std::unique_ptr<LrSchedule> sched = schedule_of(p);
  io::TrainingState t;
  save_train_state(t, p, opt, *sched);
  REQUIRE(!t.values().empty());
  REQUIRE(t.buffers().size() == 2);  // exp_avg, exp_avg_sq

  std::vector<std::string> written;
  for (const auto& [k, v] : t.values()) written.push_back(k);
  for (const auto& b : t.buffers()) written.push_back(b.name);
  for (const std::string& name : written) {
    INFO(name);  // a value saved but never loaded would make this load succeed
    TrainProgress q;
    Arena b;
    Optimizer<float> opt2(b.view(), adam());
    const io::TrainingState missing = without(t, name);
    CHECK_THROWS(load_train_state(missing, q, opt2, schedule_of));
    if (name.rfind("schedule.", 0) != 0)  // the schedule's own messages name its keys without the prefix
      CHECK_THROWS_WITH(load_train_state(missing, q, opt2, schedule_of), Catch::Contains("\"" + name + "\"") ||
                                                                           Catch::Contains("buffer " + name));
  }
}

TEST_CASE("A resume must share the run settings: all are compared, the message lists the file's", "[train][state]") {
  const RunSettings settings = {{"model", "customnet"}, {"size.w", "8"}, {"seed", "7"}, {"batch_size", "16"}};
  io::TrainingState t;
  save_run_settings(t, settings);
  CHECK_NOTHROW(check_run_settings(t, settings));

  RunSettings other = settings;
  other[1].second = "16";
  CHECK_THROWS_WITH(check_run_settings(t, other),
                    Catch::Contains("other settings (model customnet, size.w 8, seed 7, batch_size 16)"));
  other = settings;
  other.emplace_back("size.blocks", "2");  // a setting the file does not have
  CHECK_THROWS_WITH(check_run_settings(t, other), Catch::Contains("size.blocks (none)"));
}
