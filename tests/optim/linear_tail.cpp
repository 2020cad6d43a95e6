// LinearTailLr (optim/linear_tail.hpp): the inner schedule, then a linear decay to 0 from its rate
// at the tail's start; plateau frozen in the tail; the state resumes bit-identically before and in
// the tail; a shorter run (the time budget) continues without a jump; bad values are errors.
#include "moodnet/optim/linear_tail.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <vector>

using namespace moodnet;

namespace {
std::unique_ptr<LrSchedule> tail_of_onecycle(std::int64_t total, double fraction) {
  return std::make_unique<LinearTailLr>(std::make_unique<OneCycleLr>(0.1, total), total, fraction);
}
// A one-cycle run of `total` steps with a 0.2 tail, at `step`, continued as a run of `shorter`
// steps (what the trainer's time budget does): the new schedule, loaded with the old one's state.
std::unique_ptr<LrSchedule> tail_cut(std::int64_t total, std::int64_t step, std::int64_t shorter) {
  auto a = tail_of_onecycle(total, 0.2);
  for (std::int64_t i = 0; i < step; ++i) a->step();
  auto b = tail_of_onecycle(shorter, 0.2);
  b->load_state(a->state());
  return b;
}
}  // namespace

TEST_CASE("LinearTailLr: the inner schedule, then linear to 0 from its rate at the tail's start", "[optim][lr_schedule]") {
  const OneCycleLr ref(0.1, 100);
  LinearTailLr s(std::make_unique<OneCycleLr>(0.1, 100), 100, 0.2);
  CHECK(s.kind() == "linear_tail");
  CHECK(s.tail_start() == 80);
  const double anchor = ref.lr_at(80);
  for (std::int64_t step = 0; step <= 101; ++step) {
    INFO("step " << step);
    if (step < 80) REQUIRE(s.lr() == ref.lr_at(step));  // exactly the inner schedule
    else if (step < 100) REQUIRE(s.lr() == Approx(anchor * static_cast<double>(100 - step) / 20).epsilon(1e-15));
    else REQUIRE(s.lr() == 0.0);
    if (step == 80) CHECK(s.lr() == anchor);  // continuous where the tail begins
    s.step();
  }
  CHECK(s.tail_begin() == 80);
  CHECK(s.anchor() == anchor);

  // The whole run (fraction 1): linear from the inner schedule's first rate.
  LinearTailLr all(std::make_unique<WarmupCosineLr>(0.1, 0, 10), 10, 1.0);
  CHECK(all.tail_begin() == 0);
  for (int i = 0; i < 10; ++i, all.step()) CHECK(all.lr() == Approx(0.1 * (10 - i) / 10).epsilon(1e-15));
  CHECK(all.lr() == 0.0);
}

TEST_CASE("LinearTailLr over plateau: reductions before the tail count, the tail freezes it", "[optim][lr_schedule]") {
  ReduceLrOnPlateau::Options o;
  o.factor = 0.5, o.patience = 0;
  LinearTailLr s(std::make_unique<ReduceLrOnPlateau>(0.1, o), 10, 0.5);  // 2 steps per epoch, tail at 5
  std::vector<double> got;
  const double metric[] = {0.5, 0.4, 0.3, 0.2, 0.1};  // worse every epoch after the first
  for (int step = 0; step < 10; ++step) {
    got.push_back(s.lr());
    s.step();
    if (step % 2 == 1) s.end_epoch(metric[step / 2]);
  }
  // Epoch 2 (steps 2, 3) was worse: halved to 0.05 for step 4; the tail starts at 5 from 0.05
  // and the later epochs' reports no longer reduce it.
  const std::vector<double> want = {0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.04, 0.03, 0.02, 0.01};
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-15));
}

TEST_CASE("LinearTailLr: the state resumes bit-identically before and inside the tail", "[optim][lr_schedule]") {
  for (const std::int64_t stop : {0, 30, 79, 80, 85, 100}) {
    INFO("stopped at step " << stop);
    auto a = tail_of_onecycle(100, 0.2);
    for (std::int64_t i = 0; i < stop; ++i) a->step();
    const LrState saved = a->state();
    auto b = tail_of_onecycle(100, 0.2);
    b->load_state(saved);
    CHECK(b->state() == saved);
    for (std::int64_t i = stop; i < 102; ++i) {
      REQUIRE(b->lr() == a->lr());  // the same bits
      a->step();
      b->step();
    }
  }
  // Plateau inside: its best, counters and rate travel under "inner.".
  ReduceLrOnPlateau::Options o;
  o.factor = 0.5, o.patience = 0;
  LinearTailLr a(std::make_unique<ReduceLrOnPlateau>(0.1, o), 20, 0.25);
  for (int i = 0; i < 8; ++i) {
    a.step();
    if (i % 2 == 1) a.end_epoch(1.0 - i);
  }
  LinearTailLr b(std::make_unique<ReduceLrOnPlateau>(0.1, o), 20, 0.25);
  b.load_state(a.state());
  CHECK(b.state().at("inner.kind") == "plateau");
  for (int i = 8; i < 20; ++i) {
    REQUIRE(b.lr() == a.lr());
    a.step(), b.step();
    if (i % 2 == 1) a.end_epoch(1.0 - i), b.end_epoch(1.0 - i);
  }
}

TEST_CASE("LinearTailLr: a shorter run continues from the rate reached, to 0 at its new end", "[optim][lr_schedule]") {
  // Inside the tail: 100 steps, tail from 80; at step 90 the run is cut to 95 steps.
  const double reached = OneCycleLr(0.1, 100).lr_at(80) * 10 / 20;
  auto b = tail_cut(100, 90, 95);
  CHECK(b->lr() == Approx(reached).epsilon(1e-15));
  for (int i = 90; i < 95; ++i, b->step()) CHECK(b->lr() == Approx(reached * (95 - i) / 5).epsilon(1e-15));
  CHECK(b->lr() == 0.0);

  // Before the tail: at step 70 of 100 (tail from 80) cut to 75 steps, whose tail (from 60) should
  // have begun: it begins now, from the shorter inner schedule's rate at step 70.
  auto d = tail_cut(100, 70, 75);
  const double from = OneCycleLr(0.1, 75).lr_at(70);
  for (int i = 70; i < 75; ++i, d->step()) CHECK(d->lr() == Approx(from * (75 - i) / 5).epsilon(1e-15));
  CHECK(d->lr() == 0.0);

  // Cut to a length whose tail has not begun yet: the inner schedule goes on.
  CHECK(tail_cut(100, 30, 90)->lr() == OneCycleLr(0.1, 90).lr_at(30));
}

TEST_CASE("LinearTailLr: bad fractions and foreign or damaged states are errors", "[optim][lr_schedule]") {
  CHECK_THROWS_WITH(tail_of_onecycle(100, 1.5), "LinearTailLr: the tail fraction must be in [0, 1], got 1.5");
  CHECK_THROWS_WITH(tail_of_onecycle(100, -0.1), Catch::Contains("the tail fraction must be in [0, 1], got -0.1"));
  CHECK_THROWS_WITH(LinearTailLr(nullptr, 10, 0.5), Catch::Contains("no inner schedule"));
  auto s = tail_of_onecycle(100, 0.2);
  // A plain schedule's state, and a tail state given to a plain schedule.
  CHECK_THROWS_WITH(s->load_state(OneCycleLr(0.1, 100).state()), Catch::Contains("saved state is for \"one_cycle\""));
  OneCycleLr plain(0.1, 100);
  CHECK_THROWS_WITH(plain.load_state(s->state()), Catch::Contains("saved state is for \"linear_tail\""));
  LrState bad = s->state();
  bad["tail_begin"] = "50";  // beyond the saved step 0
  CHECK_THROWS_WITH(s->load_state(bad), Catch::Contains("tail_begin 50") && Catch::Contains("at step 0"));
  bad = s->state();
  bad.erase("anchor");
  CHECK_THROWS_WITH(s->load_state(bad), Catch::Contains("saved state has no \"anchor\""));
  bad = s->state();
  bad["inner.kind"] = "warmup_cosine";
  CHECK_THROWS_WITH(s->load_state(bad), Catch::Contains("learning-rate schedule one_cycle: saved state is for \"warmup_cosine\""));
}
