#pragma once
// Learning-rate schedules, used once per iteration (and, for plateau, once per epoch):
//
//   for each epoch:
//     for each batch:  optimizer.set_lr(schedule.lr());  optimizer.step();  schedule.step();
//     schedule.end_epoch(validation_metric);   // only ReduceLrOnPlateau reacts
//
// `lr()` is the rate for the current iteration; `step()` advances to the next one. The iteration-
// driven schedules are pure functions of the step count (`lr_at(step)`), so resuming only needs the
// step; `state()` / `load_state()` turn each schedule's state into a string map for the
// training-state file (io/training_state.hpp: set_map("schedule.", s.state())).
//
// Values follow PyTorch where PyTorch has the schedule (MultiStepLR, StepLR, OneCycleLR with cosine
// annealing, ReduceLROnPlateau), with our step = PyTorch's number of scheduler.step() calls.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"

namespace moodnet {

using LrState = std::map<std::string, std::string>;

namespace detail {
inline std::string lr_format(double d) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest exact text; "inf" for infinity
  return std::string(buf, r.ptr);
}
template <class T>
inline T lr_parse(const LrState& s, const std::string& key, const std::string& schedule) {
  const auto it = s.find(key);
  if (it == s.end()) fail("learning-rate schedule ", schedule, ": saved state has no \"", key, "\"");
  T v{};
  const std::string& str = it->second;
  const auto r = std::from_chars(str.data(), str.data() + str.size(), v);
  if (str.empty() || r.ec != std::errc() || r.ptr != str.data() + str.size())
    fail("learning-rate schedule ", schedule, ": saved \"", key, "\" is \"", str, "\", not a number");
  return v;
}
inline double cosine_anneal(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1.0);
}
}  // namespace detail

class LrSchedule {
 public:
  virtual ~LrSchedule() = default;
  // The schedule's name, also stored as "kind" in its state.
  virtual std::string kind() const = 0;
  // Learning rate for the current iteration.
  virtual double lr() const = 0;
  // Advances one iteration (call after the optimizer step).
  virtual void step() { ++step_; }
  // Called once at the end of every epoch with the validation metric; only plateau uses it.
  virtual void end_epoch(double /*metric*/) {}
  std::int64_t step_count() const { return step_; }

  virtual LrState state() const { return {{"kind", kind()}, {"step", std::to_string(step_)}}; }
  // Restores state() output; throws moodnet::Error when it belongs to another kind of schedule.
  virtual void load_state(const LrState& s) {
    const auto k = s.find("kind");
    if (k == s.end() || k->second != kind())
      fail("learning-rate schedule ", kind(), ": saved state is for \"", k == s.end() ? std::string("?") : k->second,
           "\" (resume with the schedule the run was started with)");
    step_ = detail::lr_parse<std::int64_t>(s, "step", kind());
    MOODNET_CHECK(step_ >= 0, "learning-rate schedule ", kind(), ": saved step ", step_, " is negative");
  }

 protected:
  std::int64_t step_ = 0;
};

// A schedule that is a function of the step only.
class StepFunctionLr : public LrSchedule {
 public:
  virtual double lr_at(std::int64_t step) const = 0;
  double lr() const override { return lr_at(step_); }
};

class ConstantLr : public StepFunctionLr {
 public:
  explicit ConstantLr(double lr) : lr_(lr) { MOODNET_CHECK(lr >= 0, "learning rate must be >= 0, got ", lr); }
  std::string kind() const override { return "constant"; }
  double lr_at(std::int64_t) const override { return lr_; }

 private:
  double lr_;
};

// base_lr * gamma^(number of milestones <= step)   (PyTorch MultiStepLR).
class MultiStepLr : public StepFunctionLr {
 public:
  MultiStepLr(double base_lr, std::vector<std::int64_t> milestones, double gamma)
      : base_(base_lr), milestones_(std::move(milestones)), gamma_(gamma) {
    MOODNET_CHECK(base_lr >= 0 && gamma > 0, "MultiStepLr: need base_lr >= 0 and gamma > 0, got ", base_lr, " and ", gamma);
    MOODNET_CHECK(std::is_sorted(milestones_.begin(), milestones_.end()), "MultiStepLr: milestones must be increasing");
  }
  std::string kind() const override { return "multistep"; }
  double lr_at(std::int64_t step) const override {
    const auto passed = std::upper_bound(milestones_.begin(), milestones_.end(), step) - milestones_.begin();
    return base_ * std::pow(gamma_, static_cast<double>(passed));
  }

 private:
  double base_;
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

// base_lr * gamma^(step / step_size)   (PyTorch StepLR).
class StepLr : public StepFunctionLr {
 public:
  StepLr(double base_lr, std::int64_t step_size, double gamma) : base_(base_lr), size_(step_size), gamma_(gamma) {
    MOODNET_CHECK(step_size > 0 && base_lr >= 0 && gamma > 0, "StepLr: need step_size > 0, base_lr >= 0, gamma > 0");
  }
  std::string kind() const override { return "step"; }
  double lr_at(std::int64_t step) const override { return base_ * std::pow(gamma_, static_cast<double>(step / size_)); }

 private:
  double base_;
  std::int64_t size_;
  double gamma_;
};

// Linear warm-up then cosine decay:
//   step < warmup:            base_lr * (step + 1) / warmup         (reaches base_lr at step warmup-1)
//   warmup <= step < total:   min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2,
//                             p = (step - warmup) / (total - 1 - warmup)   (min_lr exactly at step total-1)
//   step >= total:            min_lr
class WarmupCosineLr : public StepFunctionLr {
 public:
  WarmupCosineLr(double base_lr, std::int64_t warmup_steps, std::int64_t total_steps, double min_lr = 0.0)
      : base_(base_lr), warmup_(warmup_steps), total_(total_steps), min_(min_lr) {
    MOODNET_CHECK(warmup_steps >= 0 && total_steps > warmup_steps, "WarmupCosineLr: need 0 <= warmup_steps (",
                  warmup_steps, ") < total_steps (", total_steps, ")");
    MOODNET_CHECK(min_lr >= 0 && min_lr <= base_lr, "WarmupCosineLr: need 0 <= min_lr <= base_lr");
  }
  std::string kind() const override { return "warmup_cosine"; }
  double lr_at(std::int64_t step) const override {
    if (step < warmup_) return base_ * static_cast<double>(step + 1) / static_cast<double>(warmup_);
    if (step >= total_ - 1) return step == total_ - 1 && total_ - 1 == warmup_ ? base_ : min_;
    const double p = static_cast<double>(step - warmup_) / static_cast<double>(total_ - 1 - warmup_);
    return detail::cosine_anneal(base_, min_, p);
  }

 private:
  double base_;
  std::int64_t warmup_, total_;
  double min_;
};

// PyTorch OneCycleLR (two phases, anneal_strategy="cos", three_phase=False; momentum is not cycled):
//   initial = max_lr / div_factor,  final = initial / final_div_factor
//   phase 1: steps [0, e1] with e1 = pct_start * total - 1: cosine from initial up to max_lr
//   phase 2: steps [e1, total - 1]: cosine from max_lr down to final
// Steps past total - 1 keep the final rate (PyTorch raises an error there instead).
class OneCycleLr : public StepFunctionLr {
 public:
  OneCycleLr(double max_lr, std::int64_t total_steps, double pct_start = 0.3, double div_factor = 25.0,
             double final_div_factor = 1e4)
      : max_(max_lr), total_(total_steps), initial_(max_lr / div_factor), final_(max_lr / div_factor / final_div_factor) {
    MOODNET_CHECK(total_steps > 1, "OneCycleLr: total_steps must be > 1, got ", total_steps);
    MOODNET_CHECK(pct_start > 0 && pct_start < 1, "OneCycleLr: pct_start must be in (0, 1), got ", pct_start);
    MOODNET_CHECK(max_lr > 0 && div_factor > 0 && final_div_factor > 0, "OneCycleLr: max_lr, div_factor and final_div_factor must be > 0");
    end1_ = pct_start * static_cast<double>(total_steps) - 1.0;
    end2_ = static_cast<double>(total_steps) - 1.0;
    MOODNET_CHECK(end1_ > 0 && end1_ < end2_, "OneCycleLr: pct_start * total_steps - 1 = ", end1_,
                  " must lie strictly between 0 and total_steps - 1");
  }
  std::string kind() const override { return "one_cycle"; }
  double lr_at(std::int64_t step) const override {
    const double s = static_cast<double>(std::min<std::int64_t>(step, total_ - 1));
    if (s <= end1_) return detail::cosine_anneal(initial_, max_, s / end1_);
    return detail::cosine_anneal(max_, final_, (s - end1_) / (end2_ - end1_));
  }

 private:
  double max_;
  std::int64_t total_;
  double initial_, final_, end1_ = 0, end2_ = 0;
};

// PyTorch ReduceLROnPlateau: after more than `patience` epochs without improvement of the metric,
// lr = max(lr * factor, min_lr) (skipped when the change is below eps), then `cooldown` epochs in
// which bad epochs are not counted. Improvement in mode max with threshold_mode rel means
// metric > best * (1 + threshold); abs means metric > best + threshold (mirrored for mode min).
class ReduceLrOnPlateau : public LrSchedule {
 public:
  enum class Mode { Min, Max };
  enum class ThresholdMode { Rel, Abs };
  struct Options {
    Mode mode = Mode::Max;  // we usually watch validation accuracy
    double factor = 0.1;
    std::int64_t patience = 10;
    double threshold = 1e-4;
    ThresholdMode threshold_mode = ThresholdMode::Rel;
    std::int64_t cooldown = 0;
    double min_lr = 0.0;
    double eps = 1e-8;
  };

  ReduceLrOnPlateau(double initial_lr, Options o) : o_(o), lr_(initial_lr) {
    MOODNET_CHECK(o.factor > 0 && o.factor < 1, "ReduceLrOnPlateau: factor must be in (0, 1), got ", o.factor);
    MOODNET_CHECK(o.patience >= 0 && o.cooldown >= 0 && o.threshold >= 0 && o.min_lr >= 0,
                  "ReduceLrOnPlateau: patience, cooldown, threshold and min_lr must be >= 0");
    best_ = worst();
  }
  explicit ReduceLrOnPlateau(double initial_lr) : ReduceLrOnPlateau(initial_lr, Options{}) {}

  std::string kind() const override { return "plateau"; }
  double lr() const override { return lr_; }

  void end_epoch(double metric) override {
    if (better(metric, best_)) {
      best_ = metric;
      bad_epochs_ = 0;
    } else {
      ++bad_epochs_;
    }
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      bad_epochs_ = 0;
    }
    if (bad_epochs_ > o_.patience) {
      const double new_lr = std::max(lr_ * o_.factor, o_.min_lr);
      if (lr_ - new_lr > o_.eps) lr_ = new_lr;
      cooldown_counter_ = o_.cooldown;
      bad_epochs_ = 0;
    }
  }

  double best() const { return best_; }
  std::int64_t bad_epochs() const { return bad_epochs_; }

  LrState state() const override {
    LrState s = LrSchedule::state();
    s["lr"] = detail::lr_format(lr_);
    s["best"] = detail::lr_format(best_);
    s["bad_epochs"] = std::to_string(bad_epochs_);
    s["cooldown_counter"] = std::to_string(cooldown_counter_);
    return s;
  }
  void load_state(const LrState& s) override {
    LrSchedule::load_state(s);
    lr_ = detail::lr_parse<double>(s, "lr", kind());
    best_ = detail::lr_parse<double>(s, "best", kind());
    bad_epochs_ = detail::lr_parse<std::int64_t>(s, "bad_epochs", kind());
    cooldown_counter_ = detail::lr_parse<std::int64_t>(s, "cooldown_counter", kind());
  }

 private:
  double worst() const {
    return o_.mode == Mode::Min ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  }
  bool better(double a, double best) const {
    const bool rel = o_.threshold_mode == ThresholdMode::Rel;
    if (o_.mode == Mode::Min) return rel ? a < best * (1.0 - o_.threshold) : a < best - o_.threshold;
    return rel ? a > best * (1.0 + o_.threshold) : a > best + o_.threshold;
  }

  Options o_;
  double lr_, best_;
  std::int64_t bad_epochs_ = 0, cooldown_counter_ = 0;
};

}  // namespace moodnet
