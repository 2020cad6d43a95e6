#pragma once
// What a resumed training run needs besides the weights, listed once and walked by both directions:
//
//   TrainProgress   where the loop is: epoch, batch, step, running sums, best epoch; its fields()
//                   is the one list, and save_train_state / load_train_state both walk it
//   optimizer       step count and moments (Optimizer::state_buffers)
//   schedule        the learning-rate schedule's state map ("schedule.*")
//   weight average  with --ema: its update count and averages (save/load_weight_average)
//
// The run settings a resume must share with the run that saved (model, size, seed, ...) are a list
// too, RunSettings: saved beside the state and compared, all of them, on load.
//
// Keys are the ones the training-state file has always used (docs/checkpoints.md), so files written
// before this list existed still resume.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/io/training_state.hpp"
#include "moodnet/optim/lr_schedule.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "moodnet/optim/weight_average.hpp"

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

  // Throws naming `file` unless the values are ones a run can have written: 1..kMaxEpochs epochs in
  // all, 0 <= epoch <= epochs_total, a batch position inside an epoch of `steps_per_epoch` batches,
  // counts that are not negative and sums that fit them (a state edited by hand, or from another
  // dataset, is refused before it steers a run).
  static constexpr int kMaxEpochs = 100000;  // the --epochs limit
  void validate(const std::string& file, std::int64_t steps_per_epoch) const {
    const auto bad = [&](const char* key, const auto& v, const std::string& rule) {
      fail("training state ", file, ": \"", key, "\" is ", v, ", expected ", rule);
    };
    if (epochs_total < 1 || epochs_total > kMaxEpochs) bad("epochs_total", epochs_total, "1 to 100000");
    if (epoch < 0 || epoch > epochs_total) bad("epoch", epoch, "0 to epochs_total " + std::to_string(epochs_total));
    if (batch_in_epoch < 0 || batch_in_epoch > steps_per_epoch)
      bad("batch_in_epoch", batch_in_epoch, "0 to " + std::to_string(steps_per_epoch) + " (batches per epoch)");
    if (step < 0) bad("step", step, "a count >= 0");
    if (sum_seen < 0) bad("sum_seen", sum_seen, "a count >= 0");
    if (sum_correct < 0 || sum_correct > sum_seen) bad("sum_correct", sum_correct, "0 to sum_seen");
    if (!(sum_loss >= 0) || !std::isfinite(sum_loss)) bad("sum_loss", sum_loss, "a finite sum >= 0");
    if (!(best_val_acc == -1 || (best_val_acc >= 0 && best_val_acc <= 1)))
      bad("best_val_acc", best_val_acc, "-1 (none yet) or an accuracy in [0, 1]");
    if (best_epoch < 0 || best_epoch > epoch) bad("best_epoch", best_epoch, "0 to epoch " + std::to_string(epoch));
  }

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
inline void get_field(const io::TrainingState& t, const char* key, int& v) {
  const std::int64_t x = t.get_int(key);
  if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
    fail("training state ", t.path(), ": value \"", key, "\" is ", x, ", out of range");
  v = static_cast<int>(x);
}
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

// The weight average (--ema, optim/weight_average.hpp): "ema.updates" and its buffers
// ("ema.parameters", "ema.buffers"). Loading throws naming the file and key when one is missing or
// has another size.
template <class T>
inline void save_weight_average(io::TrainingState& t, WeightAverage<T>& average) {
  t.set_int("ema.updates", average.updates());
  for (auto& [name, buf] : average.state_buffers()) t.add_buffer(name, buf.data(), {buf.numel()});
}
template <class T>
inline void load_weight_average(const io::TrainingState& t, WeightAverage<T>& average) {
  for (auto& [name, buf] : average.state_buffers()) t.copy_buffer(name, buf.data(), {buf.numel()});
  average.set_updates(t.get_int("ema.updates"));
}

// The settings a resumed run must share with the run that saved the state, as (key, value) text.
using RunSettings = std::vector<std::pair<std::string, std::string>>;

inline void save_run_settings(io::TrainingState& t, const RunSettings& settings) {
  for (const auto& [key, value] : settings) t.set_string(key, value);
}

// Throws unless `t` holds every setting with the same value; the message lists what the file has.
// `if_recorded` are settings recorded only by newer files: each is compared when the file has it
// (so older state files still resume), and the message names those that differ, with today's value.
inline void check_run_settings(const io::TrainingState& t, const RunSettings& settings,
                               const RunSettings& if_recorded = {}) {
  bool same = true;
  std::string saved, changed;
  for (const auto& [key, value] : settings) {
    const std::string s = t.has(key) ? t.get_string(key) : "(none)";
    same = same && s == value;
    saved += (saved.empty() ? "" : ", ") + key + " " + s;
  }
  for (const auto& [key, value] : if_recorded)
    if (t.has(key) && t.get_string(key) != value)
      changed += (changed.empty() ? "; " : ", ") + key + " " + t.get_string(key) + ", now " + value;
  if (!same || !changed.empty())
    fail("--resume: ", t.path(), " was written by a run with other settings (", saved, changed,
         "): resume with the same flags, or start a new run without --resume");
}

}  // namespace moodnet::train
