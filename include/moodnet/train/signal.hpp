#pragma once
// Ctrl-C handling for the training loop. The first SIGINT, SIGTERM or SIGHUP (the terminal closed)
// only sets a flag that the loop polls (stop_requested()) so it can finish the batch, save a
// checkpoint and exit cleanly. The handler is installed with SA_RESETHAND, so the kernel restores
// the default action as it runs: a second Ctrl-C kills a stuck program the usual way. SIGPIPE is
// ignored meanwhile: with `train | tee log`, Ctrl-C kills tee too, and the next log line would
// otherwise kill the trainer before it saves; writes to the dead pipe fail quietly instead.
//
//   moodnet::train::StopSignalGuard guard;   // installs; the destructor restores the old handlers
//   while (training && !moodnet::train::stop_requested()) { ... }
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "moodnet/core/error.hpp"

namespace moodnet::train {

namespace detail {
// The signal that asked to stop, 0 if none. Lock-free, so safe to store from a signal handler.
inline std::atomic<int> stop_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" inline void on_stop_signal(int sig) {
  stop_signal.store(sig, std::memory_order_relaxed);
  // write() is async-signal-safe; printf and iostreams are not.
  static constexpr char kMsg[] = "\nstopping after this batch (press Ctrl-C again to quit now)\n";
  const ssize_t ignored = ::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  (void)ignored;
}
}  // namespace detail

// True once SIGINT, SIGTERM or SIGHUP arrived while a StopSignalGuard was alive.
inline bool stop_requested() { return detail::stop_signal.load(std::memory_order_relaxed) != 0; }
// The signal number that requested the stop (SIGINT, SIGTERM, SIGHUP), or 0.
inline int stop_signal_number() { return detail::stop_signal.load(std::memory_order_relaxed); }
// Forgets a stop request (e.g. between tests, or after handling it).
inline void clear_stop_request() { detail::stop_signal.store(0, std::memory_order_relaxed); }

class StopSignalGuard {
 public:
  StopSignalGuard() {
    struct sigaction sa {};
    sa.sa_handler = detail::on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_RESTART;  // one-shot: the second signal gets the default action
    for (int i = 0; i < kCount; ++i)
      if (::sigaction(kSignals[i], &sa, &saved_[i]) != 0)
        fail("cannot install a handler for signal ", kSignals[i], ": ", std::strerror(errno));
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (::sigaction(SIGPIPE, &ignore, &saved_pipe_) != 0)
      fail("cannot ignore SIGPIPE: ", std::strerror(errno));
  }
  ~StopSignalGuard() {
    for (int i = 0; i < kCount; ++i) ::sigaction(kSignals[i], &saved_[i], nullptr);
    ::sigaction(SIGPIPE, &saved_pipe_, nullptr);
  }
  StopSignalGuard(const StopSignalGuard&) = delete;
  StopSignalGuard& operator=(const StopSignalGuard&) = delete;

 private:
  static constexpr int kCount = 3;
  static constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction saved_[kCount] {};
  struct sigaction saved_pipe_ {};
};

}  // namespace moodnet::train
