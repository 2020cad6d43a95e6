#pragma once
// Per-epoch progress: a bar redrawn in place ('\r') on a terminal, or plain lines at every ~10% of
// the epoch (and at least every `line_interval_seconds`) when the output is a log file, so logs
// stay readable instead of filling with carriage returns. Plus the one-line epoch summary.
//
//   ProgressBar bar(std::cerr, batches, is_terminal(stderr), "epoch 3/30");
//   for (...) bar.update(i + 1, images_so_far, running_loss, running_acc);
//   bar.finish();
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <ostream>
#include <string>

#include "moodnet/core/duration.hpp"

namespace moodnet::train {

// True when f is a terminal (so '\r' redraws are seen as a moving bar, not as log noise).
inline bool is_terminal(std::FILE* f) { return f != nullptr && ::isatty(::fileno(f)) == 1; }

class ProgressBar {
 public:
  using Clock = std::function<double()>;  // seconds, monotonic; injectable for tests

  ProgressBar(std::ostream& out, std::int64_t total_batches, bool in_place, std::string prefix = "",
              Clock clock = steady_seconds)
      : out_(out), total_(std::max<std::int64_t>(total_batches, 1)), in_place_(in_place),
        prefix_(std::move(prefix)), clock_(std::move(clock)), start_(clock_()) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Plain-line mode also prints a line when this many seconds passed since the last one.
  void set_line_interval(double seconds) { line_interval_ = seconds; }

  // After `batches_done` batches (1-based count) and `images_done` images; loss and acc (fraction)
  // are running averages over the epoch so far.
  void update(std::int64_t batches_done, std::int64_t images_done, double loss, double acc) {
    const double now = clock_() - start_;
    done_ = batches_done, images_ = images_done, loss_ = loss, acc_ = acc, elapsed_ = now;
    if (in_place_) {
      // Redraws are throttled to ~10/s: a terminal repaint per batch would cost more than a batch.
      if (now - last_draw_ < 0.1 && batches_done < total_) return;
      const std::string s = line(true);
      out_ << '\r' << s;
      if (s.size() < drawn_width_) out_ << std::string(drawn_width_ - s.size(), ' ');  // erase the tail
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
  std::string line(bool with_bar) const {
    std::string s = prefix_.empty() ? "" : prefix_ + " ";
    if (with_bar) {
      constexpr int kWidth = 24;
      const int filled = static_cast<int>(kWidth * std::clamp<std::int64_t>(done_, 0, total_) / total_);
      std::string bar(kWidth, ' ');
      std::fill_n(bar.begin(), filled, '=');
      if (filled < kWidth) bar[static_cast<std::size_t>(filled)] = '>';
      (s += '[') += bar;
      s += "] ";
    }
    const double rate = elapsed_ > 0 ? static_cast<double>(images_) / elapsed_ : 0.0;
    const double eta = done_ > 0 ? elapsed_ / static_cast<double>(done_) * static_cast<double>(total_ - done_) : -1;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%lld/%lld  %.0f img/s  loss %.4f  acc %.2f%%  ", static_cast<long long>(done_),
                  static_cast<long long>(total_), rate, loss_, 100.0 * acc_);
    return s + buf + format_clock(elapsed_) + "<" + format_clock(eta);
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
  double start_;
  double line_interval_ = 30.0;
  double last_draw_ = -1e9;
  std::int64_t last_decile_ = 0;
  std::size_t drawn_width_ = 0;
  bool finished_ = false;
  std::int64_t done_ = 0, images_ = 0;
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
