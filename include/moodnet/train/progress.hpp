#pragma once
// Per-epoch progress: a bar redrawn in place ('\r') on a terminal, or plain lines at every ~10% of
// the epoch (and at least every `line_interval_seconds`) when the output is a log file, so logs
// stay readable instead of filling with carriage returns. Plus the one-line epoch summary.
// The redrawn line always fits the terminal's width (cli/terminal.hpp): the bar narrows first,
// then the line is cut; a line that wrapped could not be redrawn and would leave a row per redraw.
//
//   ProgressBar bar(std::cout, batches, is_terminal(stdout), "epoch 3/30");
//   bar.resume_from(batches_before, images_before);  // a resumed epoch: what earlier processes did
//   for (...) bar.update(i + 1, images_so_far, running_loss, running_acc);
//   bar.finish();
// img/s and the time left count only what this process did (rate_since, eta_seconds): counting the
// epoch's earlier images and batches against this process's seconds, a run resumed at batch 440 of
// 449 showed 441x the real rate after its first batch (and falling; issue 18 saw up to 70x) and an
// ETA of almost nothing.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "moodnet/cli/terminal.hpp"
#include "moodnet/core/duration.hpp"

namespace moodnet::train {

using cli::is_terminal;

// Items per second of what this process did: `now` items done, `at_start` of them before it began
// (a resumed epoch), in `seconds` since it began. 0 before any time passed.
inline double rate_since(std::int64_t at_start, std::int64_t now, double seconds) {
  return seconds > 0 ? static_cast<double>(now - at_start) / seconds : 0.0;
}
// Seconds left for `total` batches at this process's pace: `done` are done, `done_at_start` of them
// before it began, and the done_here = done - done_at_start batches took `seconds`:
//   eta = seconds / done_here x (total - done).   -1 (unknown) before this process finished one.
inline double eta_seconds(std::int64_t done_at_start, std::int64_t done, std::int64_t total, double seconds) {
  const std::int64_t here = done - done_at_start;
  return here > 0 ? seconds / static_cast<double>(here) * static_cast<double>(std::max<std::int64_t>(total - done, 0)) : -1;
}
// The wall time a whole epoch takes, from one of which this process trained `batches` of
// `batches_per_epoch` (a resumed epoch trains only the rest) in `train_seconds` and spent
// `epoch_seconds` in all (training, then validation and checkpoints, which do not shrink):
//   epoch_seconds + train_seconds x (batches_per_epoch / batches - 1).
// The time budget plans the remaining epochs with it. An epoch trained whole is returned as it is.
inline double whole_epoch_seconds(double epoch_seconds, double train_seconds, std::int64_t batches,
                                  std::int64_t batches_per_epoch) {
  if (batches <= 0 || batches >= batches_per_epoch) return epoch_seconds;
  return epoch_seconds + train_seconds * (static_cast<double>(batches_per_epoch) / static_cast<double>(batches) - 1);
}
// The epoch time the time budget plans the remaining epochs with: the median of this process's
// last kPlannedEpochWindow whole-epoch times (whole_epoch_seconds; the lower of the two middle ones
// for an even count). A mean let one stalled epoch (the machine busy for minutes, a stopped
// process, a suspended laptop) cut a run for good — the budget only ever shortens a run — as one
// 12-minute epoch among 1m44s ones once cut a planned 66 epochs to 35; the median ignores it, and
// follows a lasting slowdown after 3 epochs. 0 before any epoch.
inline constexpr std::size_t kPlannedEpochWindow = 5;
inline double planned_epoch_seconds(const std::vector<double>& epoch_seconds) {
  if (epoch_seconds.empty()) return 0;
  const std::size_t n = std::min(epoch_seconds.size(), kPlannedEpochWindow);
  std::vector<double> last(epoch_seconds.end() - static_cast<std::ptrdiff_t>(n), epoch_seconds.end());
  std::sort(last.begin(), last.end());
  return last[(n - 1) / 2];
}

class ProgressBar {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic; injectable for tests
  using Columns = std::function<int()>;   // the terminal's width, <= 0 for no limit; injectable

  ProgressBar(std::ostream& out, std::int64_t total_batches, bool in_place, std::string prefix = "",
              Clock clock = steady_seconds)
      : out_(out), total_(std::max<std::int64_t>(total_batches, 1)), in_place_(in_place),
        prefix_(std::move(prefix)), clock_(std::move(clock)), start_(clock_()) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Plain-line mode also prints a line when this many seconds passed since the last one.
  void set_line_interval(double seconds) { line_interval_ = seconds; }
  // Where the width of an in-place line comes from; asked at every redraw, so resizing the window
  // is followed. Default: stdout's terminal ($COLUMNS, else TIOCGWINSZ; no limit when neither).
  void set_columns(Columns columns) { columns_ = std::move(columns); }
  // The epoch resumes after `batches` batches and `images` images that an earlier process trained:
  // update() still takes the epoch's counts, img/s and the ETA count from here.
  void resume_from(std::int64_t batches, std::int64_t images) { done_at_start_ = batches, images_at_start_ = images; }

  // After `batches_done` batches (1-based count) and `images_done` images; loss and acc (fraction)
  // are running averages over the epoch so far.
  void update(std::int64_t batches_done, std::int64_t images_done, double loss, double acc) {
    const double now = clock_() - start_;
    done_ = batches_done, images_ = images_done, loss_ = loss, acc_ = acc, elapsed_ = now;
    if (in_place_) {
      // Redraws are throttled to ~10/s: a terminal repaint per batch would cost more than a batch.
      if (now - last_draw_ < 0.1 && batches_done < total_) return;
      const int columns = columns_ ? columns_() : 0;
      const std::string s = line(true, columns);
      // Erase the tail of a longer previous line, without reaching the last column.
      const std::size_t tail = std::min(drawn_width_, columns > 1 ? static_cast<std::size_t>(columns - 1) : drawn_width_);
      out_ << '\r' << s;
      if (s.size() < tail) out_ << std::string(tail - s.size(), ' ');
      drawn_width_ = s.size();
      out_.flush();
    } else {
      const std::int64_t decile = batches_done * 10 / total_;
      if (decile <= last_decile_ && now - last_draw_ < line_interval_) return;
      last_decile_ = decile;
      out_ << line(false) << '\n';
      out_.flush();
    }
    last_draw_ = now;
  }

  // Ends the bar (newline after an in-place bar). Safe to call twice.
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (in_place_ && drawn_width_ > 0) out_ << '\n';
    out_.flush();
  }
  ~ProgressBar() { finish(); }

  double elapsed_seconds() const { return elapsed_; }

  // "epoch 3/30 [=====>    ] 123/449  812 img/s  loss 1.2345  acc 45.67%  00:42<01:51"
  // columns > 0: at most columns - 1 characters — the bar narrows (down to 4 cells, else it is
  // left out), then the line is cut (cli::fit_to_columns).
  std::string line(bool with_bar, int columns = 0) const {
    const std::string head = prefix_.empty() ? "" : prefix_ + " ";
    const double rate = rate_since(images_at_start_, images_, elapsed_);
    const double eta = eta_seconds(done_at_start_, done_, total_, elapsed_);
    char buf[160];
    std::snprintf(buf, sizeof buf, "%lld/%lld  %.0f img/s  loss %.4f  acc %.2f%%  ", static_cast<long long>(done_),
                  static_cast<long long>(total_), rate, loss_, 100.0 * acc_);
    const std::string tail = buf + format_clock(elapsed_) + "<" + format_clock(eta);
    if (!with_bar) return columns > 0 ? cli::fit_to_columns(head + tail, columns) : head + tail;
    constexpr int kWidth = 24, kMinWidth = 4;
    int width = kWidth;
    if (columns > 0) {  // room left for the bar's cells once "[", "] " and the rest are written
      const int room = columns - 1 - static_cast<int>(head.size() + tail.size()) - 3;
      width = std::min(kWidth, room);
    }
    if (width < kMinWidth) return cli::fit_to_columns(head + tail, columns);
    const int filled = static_cast<int>(width * std::clamp<std::int64_t>(done_, 0, total_) / total_);
    std::string bar(static_cast<std::size_t>(width), ' ');
    std::fill_n(bar.begin(), filled, '=');
    if (filled < width) bar[static_cast<std::size_t>(filled)] = '>';
    return head + "[" + bar + "] " + tail;
  }

  static double steady_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }

 private:
  std::ostream& out_;
  std::int64_t total_;
  bool in_place_;
  std::string prefix_;
  Clock clock_;
  Columns columns_ = [] { return cli::terminal_columns(stdout, 0); };
  double start_;
  double line_interval_ = 30.0;
  double last_draw_ = -1e9;
  std::int64_t last_decile_ = 0;
  std::size_t drawn_width_ = 0;
  bool finished_ = false;
  std::int64_t done_ = 0, images_ = 0;
  std::int64_t done_at_start_ = 0, images_at_start_ = 0;  // resume_from
  double loss_ = 0, acc_ = 0, elapsed_ = 0;
};

// What one line of epoch summary shows. Accuracies are fractions; NaN val values print as "-"
// (no validation set).
struct EpochSummary {
  int epoch = 0, epochs = 0;
  double train_loss = 0, train_acc = 0, val_loss = 0, val_acc = 0;
  double lr = 0, epoch_seconds = 0, data_wait_seconds = 0;
};

// "epoch  3/30  train loss 1.2345 acc 45.67%  val loss 1.3000 acc 44.10%  lr 1.00e-03  62.0s (data wait 3.1s)"
inline std::string format_epoch_summary(const EpochSummary& e) {
  const auto num = [](const char* fmt, double v) {
    if (v != v) return std::string("-");
    char b[32];
    std::snprintf(b, sizeof b, fmt, v);
    return std::string(b);
  };
  const int digits = static_cast<int>(std::to_string(std::max(e.epochs, e.epoch)).size());
  char head[64];
  std::snprintf(head, sizeof head, "epoch %*d/%d", digits, e.epoch, e.epochs);
  return std::string(head) + "  train loss " + num("%.4f", e.train_loss) + " acc " + num("%.2f%%", 100 * e.train_acc) +
         "  val loss " + num("%.4f", e.val_loss) + " acc " + num("%.2f%%", 100 * e.val_acc) + "  lr " +
         num("%.2e", e.lr) + "  " + format_duration(e.epoch_seconds) + " (data wait " +
         format_duration(e.data_wait_seconds) + ")";
}

}  // namespace moodnet::train
