#pragma once
// What a resumed training run needs besides the weights, listed once and walked by both directions:
//
//   TrainProgress   where the loop is: epoch, batch, step, running sums, best epoch; its fields()
//                   is the one list, and save_train_state / load_train_state both walk it
//   optimizer       step count and moments (Optimizer::state_buffers)
//   schedule        the learning-rate schedule's state map ("schedule.*")
//
// The run settings a resume must share with the run that saved (model, size, seed, ...) are a list
// too, RunSettings: saved beside the state and compared, all of them, on load.
//
// Keys are the ones the training-state file has always used (docs/checkpoints.md), so files written
// before this list existed still resume.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/io/training_state.hpp"
#include "moodnet/optim/lr_schedule.hpp"
#include "moodnet/optim/optimizer.hpp"

namespace moodnet::train {

struct TrainProgress {
  int epochs_total = 0;             // the run's length (the time budget may shorten it)
  int epoch = 0;                    // epochs finished
  std::int64_t batch_in_epoch = 0;  // batches of the current epoch already trained
  std::int64_t step = 0;            // optimizer steps taken
  double sum_loss = 0;              // running sums over the current epoch's batches
  std::int64_t sum_correct = 0, sum_seen = 0;
  double best_val_acc = -1;  // best validation accuracy so far (-1: none yet)
  int best_epoch = 0;

  // The one list: f(key, field) for every field, in save order.
  template <class Self, class F>
  static void fields(Self& p, F&& f) {
    f("epochs_total", p.epochs_total);
    f("epoch", p.epoch);
    f("batch_in_epoch", p.batch_in_epoch);
    f("step", p.step);
    f("sum_loss", p.sum_loss);
    f("sum_correct", p.sum_correct);
    f("sum_seen", p.sum_seen);
    f("best_val_acc", p.best_val_acc);
    f("best_epoch", p.best_epoch);
  }
};

namespace detail {
inline void put_field(io::TrainingState& t, const char* key, int v) { t.set_int(key, v); }
inline void put_field(io::TrainingState& t, const char* key, std::int64_t v) { t.set_int(key, v); }
inline void put_field(io::TrainingState& t, const char* key, double v) { t.set_double(key, v); }
inline void get_field(const io::TrainingState& t, const char* key, int& v) { v = static_cast<int>(t.get_int(key)); }
inline void get_field(const io::TrainingState& t, const char* key, std::int64_t& v) { v = t.get_int(key); }
inline void get_field(const io::TrainingState& t, const char* key, double& v) { v = t.get_double(key); }
}  // namespace detail

// Writes the progress, the optimizer's step count and moments, and the schedule's state into `t`.
template <class T>
inline void save_train_state(io::TrainingState& t, const TrainProgress& p, Optimizer<T>& opt,
                             const LrSchedule& schedule) {
  TrainProgress::fields(p, [&](const char* key, const auto& v) { detail::put_field(t, key, v); });
  t.set_int("optimizer_steps", opt.steps());
  for (auto& [name, buf] : opt.state_buffers()) t.add_buffer(name, buf.data(), {buf.numel()});
  t.set_map("schedule.", schedule.state());
}

// Reads back what save_train_state wrote, in the same order: the progress, the optimizer, then the
// schedule, which make_schedule(progress) builds first (its length depends on epochs_total).
// Throws naming the file and the key when something is missing or malformed.
template <class T>
inline std::unique_ptr<LrSchedule> load_train_state(
    const io::TrainingState& t, TrainProgress& p, Optimizer<T>& opt,
    const std::function<std::unique_ptr<LrSchedule>(const TrainProgress&)>& make_schedule) {
  TrainProgress::fields(p, [&](const char* key, auto& v) { detail::get_field(t, key, v); });
  for (auto& [name, buf] : opt.state_buffers()) t.copy_buffer(name, buf.data(), {buf.numel()});
  opt.set_steps(t.get_int("optimizer_steps"));
  std::unique_ptr<LrSchedule> schedule = make_schedule(p);
  schedule->load_state(t.get_map("schedule."));
  return schedule;
}

// The settings a resumed run must share with the run that saved the state, as (key, value) text.
using RunSettings = std::vector<std::pair<std::string, std::string>>;

inline void save_run_settings(io::TrainingState& t, const RunSettings& settings) {
  for (const auto& [key, value] : settings) t.set_string(key, value);
}

// Throws unless `t` holds every setting with the same value; the message lists what the file has.
inline void check_run_settings(const io::TrainingState& t, const RunSettings& settings) {
  bool same = true;
  std::string saved;
  for (const auto& [key, value] : settings) {
    const std::string s = t.has(key) ? t.get_string(key) : "(none)";
    same = same && s == value;
    saved += (saved.empty() ? "" : ", ") + key + " " + s;
  }
  if (!same)
    fail("--resume: ", t.path(), " was written by a run with other settings (", saved,
         "): resume with the same flags");
}

}  // namespace moodnet::train
