// img/s and the ETA after a resume (issue 18): the progress line counts only what this process did.
// A run resumed at batch 440 of 449 used to divide the epoch's 28,160 earlier images by its own
// seconds too (441x the real rate after its first batch) and give an ETA from 441 batches' pace. Deterministic: the bar's
// clock is moved by hand, the arithmetic checked on numbers worked out here.
#include "moodnet/train/progress.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using namespace moodnet::train;

TEST_CASE("rate_since and eta_seconds count from the resume point", "[train][progress]") {
  // 640 images of this process in 2 s, 28,160 earlier ones not counted.
  CHECK(rate_since(28160, 28800, 2.0) == Approx(320.0));
  CHECK(rate_since(0, 640, 2.0) == Approx(320.0));  // a fresh epoch: everything is this process's
  CHECK(rate_since(100, 200, 0.0) == 0.0);          // no time yet
  // Resumed at batch 440 of 449: 5 batches done here in 2.5 s, 0.5 s a batch, 4 left -> 2 s.
  CHECK(eta_seconds(440, 445, 449, 2.5) == Approx(2.0));
  // The old arithmetic (every done batch at this process's pace) said 2.5 / 445 x 4 = 0.022 s.
  CHECK(eta_seconds(0, 445, 449, 2.5) == Approx(2.5 / 445 * 4));
  CHECK(eta_seconds(440, 440, 449, 1.0) == -1);  // nothing done here yet: unknown
  CHECK(eta_seconds(0, 449, 449, 9.0) == 0.0);   // the epoch is done
}

TEST_CASE("whole_epoch_seconds scales a resumed epoch's training time to a whole epoch", "[train][progress]") {
  // 100 of 400 batches trained in 10 s, 14 s in all (4 s validation and checkpoint): a whole epoch
  // trains 40 s, 44 s in all.
  CHECK(whole_epoch_seconds(14, 10, 100, 400) == Approx(44.0));
  CHECK(whole_epoch_seconds(14, 10, 400, 400) == 14.0);  // trained whole: as measured
  CHECK(whole_epoch_seconds(3, 0.1, 0, 400) == 3.0);     // nothing trained here (resumed at its end)
}

TEST_CASE("ProgressBar after resume_from: img/s and ETA of this process's batches", "[train][progress]") {
  double now = 50.0;
  std::ostringstream out;
  ProgressBar bar(out, 449, false, "epoch 7/30", [&now] { return now; });
  bar.resume_from(440, 28160);  // 440 batches of 64 images were trained before the resume
  now += 0.25;
  bar.update(441, 28224, 1.0, 0.5);
  // 64 images in 0.25 s = 256 img/s; 1 batch in 0.25 s, 8 left: 2 s. (Counted from step 0: 112,896
  // img/s and an ETA of 0 s.)
  CHECK(bar.line(false) == "epoch 7/30 441/449  256 img/s  loss 1.0000  acc 50.00%  00:00<00:02");
  now += 1.75;
  bar.update(449, 28736, 1.0, 0.5);  // 576 images in 2 s
  CHECK(bar.line(false) == "epoch 7/30 449/449  288 img/s  loss 1.0000  acc 50.00%  00:02<00:00");

  // Without resume_from (a fresh epoch) the same counts are all this process's.
  double t = 0;
  std::ostringstream out2;
  ProgressBar fresh(out2, 448, false, "", [&t] { return t; });
  t = 220.0;
  fresh.update(440, 28160, 1.0, 0.5);  // 0.5 s a batch, 8 left
  CHECK(fresh.line(false) == "440/448  128 img/s  loss 1.0000  acc 50.00%  03:40<00:04");
}
