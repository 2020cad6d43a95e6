#include "moodnet/optim/lr_schedule.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace moodnet;

// Expected values were produced with torch 1.13 (torch.optim.lr_scheduler), reading
// optimizer.param_groups[0]["lr"] before the i-th optimizer.step()/scheduler.step().
namespace {
Approx exact(double v) { return Approx(v).epsilon(1e-13).margin(1e-18); }
}  // namespace

TEST_CASE("OneCycleLr matches PyTorch OneCycleLR", "[optim][lr_schedule]") {
  OneCycleLr s(0.1, 100);  // pct_start 0.3, div 25, final div 1e4: warm-up ends at step 29
  CHECK(s.lr_at(0) == exact(0.0040000000000000036));  // max_lr / 25
  CHECK(s.lr_at(1) == exact(0.004281378056590748));
  CHECK(s.lr_at(10) == exact(0.029516394846410082));
  CHECK(s.lr_at(28) == exact(0.09971862194340926));
  CHECK(s.lr_at(29) == exact(0.1));  // end of warm-up
  CHECK(s.lr_at(30) == exact(0.09994965352845243));
  CHECK(s.lr_at(50) == exact(0.0793893450575732));
  CHECK(s.lr_at(98) == exact(5.07464715475788e-05));
  CHECK(s.lr_at(99) == exact(4e-07));  // last step: max_lr / 25 / 1e4
  CHECK(s.lr_at(150) == exact(4e-07));

  OneCycleLr t(0.01, 37, 0.25, 10, 100);  // phase boundary at 8.25: a fractional end step
  CHECK(t.lr_at(0) == exact(0.0009999999999999992));
  CHECK(t.lr_at(5) == exact(0.006971805834928397));
  CHECK(t.lr_at(8) == exact(0.009979623651578881));
  CHECK(t.lr_at(9) == exact(0.00998200545526992));
  CHECK(t.lr_at(20) == exact(0.006195101664158709));
  CHECK(t.lr_at(36) == exact(1e-05));

  // lr()/step() walk the same values.
  for (int i = 0; i < 30; ++i) s.step();
  CHECK(s.lr() == exact(0.09994965352845243));
  CHECK_THROWS_WITH(OneCycleLr(0.1, 2, 0.3), Catch::Contains("must lie strictly between"));
}

TEST_CASE("MultiStepLr and StepLr match PyTorch", "[optim][lr_schedule]") {
  MultiStepLr m(0.1, {3, 5}, 0.1);
  const std::vector<double> m_expected = {0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002,
                                          0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002};
  StepLr st(0.1, 3, 0.5);
  const std::vector<double> s_expected = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
  for (int i = 0; i < 8; ++i) {
    CHECK(m.lr() == exact(m_expected[i]));
    CHECK(st.lr() == exact(s_expected[i]));
    m.step();
    st.step();
  }
  CHECK_THROWS_WITH(MultiStepLr(0.1, {5, 3}, 0.1), Catch::Contains("increasing"));
}

TEST_CASE("WarmupCosineLr warms up linearly and decays to min_lr at the last step", "[optim][lr_schedule]") {
  WarmupCosineLr s(0.1, 4, 14, 0.001);  // cosine over steps 4..13, p = (step - 4) / 9
  CHECK(s.lr_at(0) == exact(0.025));
  CHECK(s.lr_at(1) == exact(0.05));
  CHECK(s.lr_at(3) == exact(0.1));
  CHECK(s.lr_at(4) == exact(0.1));
  // p = 1/2: halfway between 0.1 and 0.001
  WarmupCosineLr h(0.1, 4, 15, 0.001);
  CHECK(h.lr_at(9) == exact(0.0505));
  // p = 1/3 in s: min + (base - min) * (1 + cos(pi/3)) / 2 = 0.001 + 0.099 * 0.75
  CHECK(s.lr_at(7) == exact(0.07525));
  CHECK(s.lr_at(13) == exact(0.001));
  CHECK(s.lr_at(100) == exact(0.001));
  WarmupCosineLr no_warmup(0.2, 0, 3, 0.0);
  CHECK(no_warmup.lr_at(0) == exact(0.2));
  CHECK(no_warmup.lr_at(1) == exact(0.1));
  CHECK(no_warmup.lr_at(2) == exact(0.0));
  CHECK_THROWS_WITH(WarmupCosineLr(0.1, 10, 10), Catch::Contains("warmup_steps"));
}

TEST_CASE("ReduceLrOnPlateau matches PyTorch ReduceLROnPlateau", "[optim][lr_schedule]") {
  ReduceLrOnPlateau::Options o;
  o.mode = ReduceLrOnPlateau::Mode::Max;
  o.factor = 0.5;
  o.patience = 2;
  o.cooldown = 1;
  o.min_lr = 0.02;
  ReduceLrOnPlateau s(0.1, o);
  const std::vector<double> metrics = {0.5, 0.6, 0.6, 0.6, 0.6, 0.59, 0.61, 0.61, 0.61, 0.61, 0.61, 0.61, 0.61};
  // lr before each epoch's end_epoch(metric), from torch 1.13.
  const std::vector<double> expected = {0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025};
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    INFO("epoch " << i);
    CHECK(s.lr() == exact(expected[i]));
    s.step();  // per-iteration calls do not change the rate
    s.end_epoch(metrics[i]);
  }
  // min_lr floors the rate.
  for (int i = 0; i < 20; ++i) s.end_epoch(0.0);
  CHECK(s.lr() == exact(0.02));

  ReduceLrOnPlateau::Options mn;
  mn.mode = ReduceLrOnPlateau::Mode::Min;
  mn.patience = 0;
  mn.threshold_mode = ReduceLrOnPlateau::ThresholdMode::Abs;
  mn.threshold = 0.1;
  ReduceLrOnPlateau l(1.0, mn);
  l.end_epoch(2.0);  // first value always improves on +inf
  CHECK(l.lr() == exact(1.0));
  l.end_epoch(1.95);  // not better by 0.1: reduce at once (patience 0)
  CHECK(l.lr() == exact(0.1));
  l.end_epoch(1.5);
  CHECK(l.lr() == exact(0.1));
  CHECK(l.best() == 1.5);
}

TEST_CASE("schedule state round-trips through the string map", "[optim][lr_schedule]") {
  ReduceLrOnPlateau::Options o;
  o.patience = 1;
  ReduceLrOnPlateau a(0.1, o);
  for (double m : {0.3, 0.4, 0.4}) a.end_epoch(m);
  for (int i = 0; i < 5; ++i) a.step();
  const LrState st = a.state();
  CHECK(st.at("kind") == "plateau");
  CHECK(st.at("step") == "5");
  ReduceLrOnPlateau b(0.1, o);
  b.load_state(st);
  CHECK(b.lr() == a.lr());
  CHECK(b.best() == 0.4);
  CHECK(b.bad_epochs() == 1);
  a.end_epoch(0.4);
  b.end_epoch(0.4);
  CHECK(b.lr() == a.lr());
  CHECK(b.lr() == exact(0.01));

  ReduceLrOnPlateau fresh(0.1, o);  // best = -inf survives the text round trip
  ReduceLrOnPlateau fresh2(0.5, o);
  fresh2.load_state(fresh.state());
  CHECK(fresh2.best() == -std::numeric_limits<double>::infinity());
  CHECK(fresh2.lr() == 0.1);

  OneCycleLr c(0.1, 100);
  CHECK_THROWS_WITH(c.load_state(st), Catch::Contains("saved state is for \"plateau\""));
  LrState broken = {{"kind", "one_cycle"}, {"step", "x"}};
  CHECK_THROWS_WITH(c.load_state(broken), Catch::Contains("saved \"step\" is \"x\", not a number"));
  ConstantLr k(0.3);
  CHECK(k.lr_at(1000) == 0.3);
}
