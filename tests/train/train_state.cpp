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
  c.name = "adam";
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

// Issue 19: a state with 0 or absurd epoch totals (or any value no run writes) steered the resumed
// run; each is refused naming the file and the key.
TEST_CASE("A loaded progress with values no run writes is refused, naming the key", "[train][state]") {
  TrainProgress good;
  good.epochs_total = 30, good.epoch = 4, good.batch_in_epoch = 3, good.step = 4 * 50 + 3;
  good.sum_loss = 2.5, good.sum_correct = 5, good.sum_seen = 12, good.best_val_acc = 0.25, good.best_epoch = 4;
  CHECK_NOTHROW(good.validate("s.safetensors", 50));
  const auto refused = [&](void (*edit)(TrainProgress&), const std::string& message) {
    TrainProgress p = good;
    edit(p);
    CHECK_THROWS_WITH(p.validate("s.safetensors", 50), "training state s.safetensors: " + message);
  };
  refused([](TrainProgress& p) { p.epochs_total = 0; }, "\"epochs_total\" is 0, expected 1 to 100000");
  refused([](TrainProgress& p) { p.epochs_total = 2000000000; }, "\"epochs_total\" is 2000000000, expected 1 to 100000");
  refused([](TrainProgress& p) { p.epoch = 31; }, "\"epoch\" is 31, expected 0 to epochs_total 30");
  refused([](TrainProgress& p) { p.batch_in_epoch = 51; },
          "\"batch_in_epoch\" is 51, expected 0 to 50 (batches per epoch)");
  refused([](TrainProgress& p) { p.step = -1; }, "\"step\" is -1, expected a count >= 0");
  refused([](TrainProgress& p) { p.sum_correct = 13; }, "\"sum_correct\" is 13, expected 0 to sum_seen");
  refused([](TrainProgress& p) { p.best_val_acc = 7; },
          "\"best_val_acc\" is 7, expected -1 (none yet) or an accuracy in [0, 1]");
  refused([](TrainProgress& p) { p.best_epoch = 5; }, "\"best_epoch\" is 5, expected 0 to epoch 4");

  // An int field beyond int's range is refused when read, not narrowed.
  io::TrainingState t;
  t.set_int("epochs_total", 1LL << 40);
  int v = 0;
  CHECK_THROWS_WITH(train::detail::get_field(t, "epochs_total", v), Catch::Contains("\"epochs_total\" is 1099511627776, out of range"));
}

TEST_CASE("Settings recorded only by newer files are compared when present, and named with today's value",
          "[train][state]") {
  const RunSettings settings = {{"model", "customnet"}, {"seed", "7"}};
  const RunSettings later = {{"lr", "0.05"}, {"epochs", "30"}};
  io::TrainingState old_file;
  save_run_settings(old_file, settings);
  CHECK_NOTHROW(check_run_settings(old_file, settings, later));  // an older file resumes
  io::TrainingState t = old_file;
  save_run_settings(t, later);
  CHECK_NOTHROW(check_run_settings(t, settings, later));
  const RunSettings changed = {{"lr", "0.1"}, {"epochs", "30"}};
  CHECK_THROWS_WITH(check_run_settings(t, settings, changed),
                    Catch::Contains("other settings (model customnet, seed 7; lr 0.05, now 0.1)"));
}
