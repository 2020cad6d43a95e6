#include "moodnet/train/progress.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "moodnet/core/duration.hpp"

using namespace moodnet;
using namespace moodnet::train;

namespace {
// A clock the test moves by hand.
struct FakeClock {
  double now = 100.0;
  ProgressBar::Clock fn() {
    return [this] { return now; };
  }
};
int count(const std::string& s, char c) { return static_cast<int>(std::count(s.begin(), s.end(), c)); }
}  // namespace

TEST_CASE("format_duration and format_clock", "[train][progress]") {
  CHECK(format_duration(3.21) == "3.2s");
  CHECK(format_duration(42) == "42s");
  CHECK(format_duration(125) == "2m05s");
  CHECK(format_duration(3723) == "1h02m03s");
  CHECK(format_duration(-1) == "-");
  CHECK(format_clock(125) == "02:05");
  CHECK(format_clock(3723) == "1:02:03");
  CHECK(format_clock(NAN) == "--:--");
}

TEST_CASE("ProgressBar line shows batches, images/s, loss, accuracy, elapsed and ETA, within the width", "[train][progress]") {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, 100, false, "epoch 3/30", clock.fn());
  clock.now += 10;
  bar.update(25, 1600, 1.23456, 0.4567);
  CHECK(bar.line(false) == "epoch 3/30 25/100  160 img/s  loss 1.2346  acc 45.67%  00:10<00:30");
  CHECK(bar.line(true) == "epoch 3/30 [======>                 ] 25/100  160 img/s  loss 1.2346  acc 45.67%  00:10<00:30");

  // The line fits the terminal: the bar narrows, then the line is cut. 80 columns: 79 characters at
  // most (a line filling the last column wraps), the bar 10 cells wide.
  CHECK(bar.line(true, 80) == "epoch 3/30 [==>       ] 25/100  160 img/s  loss 1.2346  acc 45.67%  00:10<00:30");
  CHECK(bar.line(true, 80).size() == 79);
  CHECK(bar.line(true, 200) == bar.line(true));  // room to spare: the full 24-cell bar
  // Too narrow for a bar of 4 cells: no bar, the line cut to the width.
  CHECK(bar.line(true, 60) == "epoch 3/30 25/100  160 img/s  loss 1.2346  acc 45.67%  00:1");
  CHECK(bar.line(false, 30).size() == 29);
  CHECK(cli::fit_to_columns("abcdef", 4) == "abc");
  CHECK(cli::fit_to_columns("abc", 0) == "a");
}

TEST_CASE("ProgressBar redraws in place within the terminal's width", "[train][progress]") {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, 1000, true, "epoch 12/30", clock.fn());
  int columns = 100;
  bar.set_columns([&] { return columns; });
  for (int i = 1; i <= 1000; ++i) {
    clock.now += 0.2;
    if (i == 500) columns = 50;  // the window is narrowed mid-epoch
    bar.update(i, i * 64, 2.0 / i, 0.001 * i);
  }
  bar.finish();
  const std::string s = out.str();
  std::size_t start = 0, longest_after = 0, draws = 0;
  for (std::size_t i = 1; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '\r' || s[i] == '\n') {
      const std::size_t n = i - start - 1;  // without the '\r' that starts it
      CHECK(n <= 99);
      if (draws >= 500) longest_after = std::max(longest_after, n);
      ++draws, start = i;
    }
  CHECK(draws >= 1000);
  CHECK(longest_after <= 49);
}

TEST_CASE("terminal_columns: $COLUMNS, else the window size, else the fallback", "[train][progress]") {
  std::FILE* f = std::tmpfile();  // not a terminal: TIOCGWINSZ fails
  REQUIRE(f != nullptr);
  const char* old = std::getenv("COLUMNS");
  const std::string saved = old ? old : "";
  ::setenv("COLUMNS", "123", 1);
  CHECK(cli::terminal_columns(f) == 123);
  ::setenv("COLUMNS", "12x", 1);
  CHECK(cli::terminal_columns(f, 77) == 77);
  ::setenv("COLUMNS", "0", 1);
  CHECK(cli::terminal_columns(f) == 80);
  ::unsetenv("COLUMNS");
  CHECK(cli::terminal_columns(f, 0) == 0);
  if (old) ::setenv("COLUMNS", saved.c_str(), 1);
  std::fclose(f);
}

TEST_CASE("ProgressBar prints a plain line per ~10% when not on a terminal", "[train][progress]") {
  FakeClock clock;
  std::ostringstream out;
  {
    ProgressBar bar(out, 50, false, "", clock.fn());
    for (int i = 1; i <= 50; ++i) {
      clock.now += 0.5;
      bar.update(i, i * 64, 1.0, 0.5);
    }
  }
  const std::string s = out.str();
  CHECK(count(s, '\r') == 0);
  CHECK(count(s, '\n') == 11);  // the first batch, then each 10% (5, 10, ..., 50)
  CHECK(s.find("1/50 ") == 0);
  CHECK(s.find("50/50 ") != std::string::npos);

  // ... and also every line_interval seconds on a slow epoch.
  std::ostringstream slow;
  ProgressBar bar(slow, 1000, false, "", clock.fn());
  bar.set_line_interval(30);
  for (int i = 1; i <= 20; ++i) {
    clock.now += 10;
    bar.update(i, i, 1.0, 0.5);
  }
  CHECK(count(slow.str(), '\n') == 7);  // batch 1, then every 3rd batch (30 s)
}

TEST_CASE("ProgressBar redraws in place with \\r on a terminal, throttled, and ends with a newline", "[train][progress]") {
  FakeClock clock;
  std::ostringstream out;
  ProgressBar bar(out, 10, true, "", clock.fn());
  bar.set_columns([] { return 0; });  // no width limit: the full bar
  for (int i = 1; i <= 10; ++i) {
    clock.now += (i == 5 ? 0.01 : 0.2);  // batch 5 comes too soon after batch 4: not redrawn
    bar.update(i, i * 64, 2.0 / i, 0.1 * i);
  }
  bar.finish();
  bar.finish();
  const std::string s = out.str();
  CHECK(count(s, '\r') == 9);
  CHECK(count(s, '\n') == 1);
  CHECK(s.back() == '\n');
  CHECK(s.find("[========================] 10/10") != std::string::npos);
}

TEST_CASE("format_epoch_summary", "[train][progress]") {
  EpochSummary e{3, 30, 1.23456, 0.4567, 1.3, 0.441, 1e-3, 62.04, 3.14};
  CHECK(format_epoch_summary(e) ==
        "epoch  3/30  train loss 1.2346 acc 45.67%  val loss 1.3000 acc 44.10%  lr 1.00e-03  1m02s (data wait 3.1s)");
  e.val_loss = e.val_acc = NAN;
  CHECK(format_epoch_summary(e).find("val loss - acc -") != std::string::npos);
}

TEST_CASE("is_terminal is false for a regular file", "[train][progress]") {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  CHECK_FALSE(is_terminal(f));
  std::fclose(f);
  CHECK_FALSE(is_terminal(nullptr));
}

TEST_CASE("The time budget plans with the median of the last 5 epochs: one stalled epoch does not cut a run",
          "[train][progress]") {
  CHECK(planned_epoch_seconds({}) == 0);
  CHECK(planned_epoch_seconds({104}) == 104);
  CHECK(planned_epoch_seconds({104, 743}) == 104);  // the lower middle of an even count
  // The case that cut a run from 66 epochs to 35: a 12-minute epoch (the process stopped for 10
  // minutes) among 1m44s ones. Their mean was 3m17s.
  CHECK(planned_epoch_seconds({115, 104, 104, 104, 100, 104, 743}) == 104);
  CHECK(planned_epoch_seconds({104, 104, 104, 104, 104, 743, 743}) == 104);
  // A lasting slowdown counts from its third epoch.
  CHECK(planned_epoch_seconds({104, 104, 104, 104, 200, 200}) == 104);
  CHECK(planned_epoch_seconds({104, 104, 104, 104, 200, 200, 200}) == 200);
  // Only the last 5: a slow start is forgotten.
  CHECK(planned_epoch_seconds({900, 900, 104, 104, 104, 104, 104}) == 104);
}
