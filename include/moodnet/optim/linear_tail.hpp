#pragma once
// LinearTailLr: any schedule with its last steps replaced by a linear decay to zero (the
// "linear-to-zero" ending of budgeted training, Li, Yumer & Ramanan 2020; airbench ends on one).
//
//   steps [0, begin):      the inner schedule's rate (it is stepped and told of epoch ends)
//   steps [begin, total):  anchor * (total - step) / (total - begin)      (anchor at begin, then down)
//   steps >= total:        0
//
// The tail begins at begin = start = total - round(fraction * total), and anchor is the inner
// schedule's rate at that step: lr_at(start) for a step function, the rate it has reached for
// plateau. From begin on, the inner schedule is frozen (neither stepped nor told of epoch ends).
//
// The state holds the inner schedule's (under "inner."), the length, the step the tail began at
// (-1: not yet) and its anchor (shortest exact text), so a resumed run continues bit-identically.
// Loaded into a schedule of another length (the trainer's time budget shortens a run and rebuilds
// its schedule), the rate does not jump: a tail not yet begun begins at max(start, step) from the
// inner schedule's current rate; a tail under way decays on from the rate it had reached, to 0 at
// the new length.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "moodnet/core/error.hpp"
#include "moodnet/optim/lr_schedule.hpp"

namespace moodnet {

class LinearTailLr : public LrSchedule {
 public:
  // inner: the schedule of the run's first 1 - fraction; total_steps: the run's length;
  // fraction in [0, 1] (1: a linear decay from the inner schedule's first rate over the whole run).
  LinearTailLr(std::unique_ptr<LrSchedule> inner, std::int64_t total_steps, double fraction)
      : inner_(std::move(inner)), total_(total_steps) {
    MOODNET_CHECK(inner_ != nullptr, "LinearTailLr: no inner schedule");
    MOODNET_CHECK(total_steps >= 1, "LinearTailLr: total_steps must be >= 1, got ", total_steps);
    MOODNET_CHECK(fraction >= 0 && fraction <= 1, "LinearTailLr: the tail fraction must be in [0, 1], got ", fraction);
    start_ = total_ - static_cast<std::int64_t>(std::llround(fraction * static_cast<double>(total_)));
    MOODNET_CHECK(inner_->step_count() == 0, "LinearTailLr: the inner schedule must be fresh (step 0)");
    if (start_ <= 0) begin_tail();
  }

  std::string kind() const override { return "linear_tail"; }
  double lr() const override {
    if (begin_ < 0) return inner_->lr();
    if (step_ >= total_) return 0.0;
    return anchor_ * static_cast<double>(total_ - step_) / static_cast<double>(total_ - begin_);
  }
  void step() override {
    ++step_;
    if (begin_ >= 0) return;
    inner_->step();
    if (step_ >= start_) begin_tail();
  }
  void end_epoch(double metric) override {
    if (begin_ < 0) inner_->end_epoch(metric);
  }

  // The step the tail began at (-1: not yet), and the rate it decays from.
  std::int64_t tail_begin() const { return begin_; }
  double anchor() const { return anchor_; }
  std::int64_t tail_start() const { return start_; }

  LrState state() const override {
    LrState s = LrSchedule::state();
    for (const auto& [key, value] : inner_->state()) s["inner." + key] = value;
    s["total"] = std::to_string(total_);
    s["tail_begin"] = std::to_string(begin_);
    s["anchor"] = detail::lr_format(anchor_);
    return s;
  }
  void load_state(const LrState& s) override {
    LrSchedule::load_state(s);
    LrState inner;
    for (const auto& [key, value] : s)
      if (key.rfind("inner.", 0) == 0) inner[key.substr(6)] = value;
    inner_->load_state(inner);
    const auto saved_total = detail::lr_parse<std::int64_t>(s, "total", kind());
    const auto saved_begin = detail::lr_parse<std::int64_t>(s, "tail_begin", kind());
    const auto saved_anchor = detail::lr_parse<double>(s, "anchor", kind());
    MOODNET_CHECK(saved_total >= 1 && saved_begin >= -1 && saved_begin <= step_ && saved_anchor >= 0 &&
                      std::isfinite(saved_anchor),
                  "learning-rate schedule ", kind(), ": saved total ", saved_total, ", tail_begin ", saved_begin,
                  ", anchor ", saved_anchor, " are not a state it writes at step ", step_);
    begin_ = -1, anchor_ = 0;
    if (saved_begin < 0) {
      if (step_ >= start_) begin_tail();  // a shorter run whose tail should have begun already
    } else if (saved_total == total_) {
      begin_ = saved_begin, anchor_ = saved_anchor;  // the same run: exactly where it was
    } else {  // another length: on from the rate reached, to 0 at the new total
      anchor_ = step_ >= saved_total ? 0.0
                                     : saved_anchor * static_cast<double>(saved_total - step_) /
                                           static_cast<double>(saved_total - saved_begin);
      begin_ = step_;
    }
  }

 private:
  void begin_tail() {
    begin_ = step_;
    anchor_ = inner_->lr();
  }

  std::unique_ptr<LrSchedule> inner_;
  std::int64_t total_ = 0, start_ = 0;
  std::int64_t begin_ = -1;  // the step the tail began at; -1: not yet
  double anchor_ = 0;
};

}  // namespace moodnet
