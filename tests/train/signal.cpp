#include "moodnet/train/signal.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

using namespace moodnet::train;

namespace {
void (*current_handler(int sig))(int) {
  struct sigaction now {};
  sigaction(sig, nullptr, &now);
  return now.sa_handler;
}
}  // namespace

TEST_CASE("The first SIGINT only sets the stop flag, and resets SIGINT to its default action", "[train][signal]") {
  clear_stop_request();
  const auto int_before = current_handler(SIGINT), term_before = current_handler(SIGTERM);  // Catch2's own
  {
    StopSignalGuard guard;
    CHECK_FALSE(stop_requested());
    CHECK(current_handler(SIGINT) == moodnet::train::detail::on_stop_signal);
    CHECK(current_handler(SIGTERM) == moodnet::train::detail::on_stop_signal);
    REQUIRE(raise(SIGINT) == 0);  // the process survives: only the flag is set
    CHECK(stop_requested());
    CHECK(stop_signal_number() == SIGINT);
    CHECK(current_handler(SIGINT) == SIG_DFL);  // a second Ctrl-C would kill the program
    CHECK(current_handler(SIGTERM) == moodnet::train::detail::on_stop_signal);
  }
  // The guard restores the handlers that were there before it.
  CHECK(current_handler(SIGINT) == int_before);
  CHECK(current_handler(SIGTERM) == term_before);
  clear_stop_request();
  CHECK_FALSE(stop_requested());
}

TEST_CASE("SIGTERM requests a stop too", "[train][signal]") {
  clear_stop_request();
  StopSignalGuard guard;
  REQUIRE(raise(SIGTERM) == 0);
  CHECK(stop_signal_number() == SIGTERM);
  clear_stop_request();
}

TEST_CASE("A second SIGINT kills the process with the default action", "[train][signal]") {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // child: survive the first, die by the second
    StopSignalGuard guard;
    raise(SIGINT);
    if (!stop_requested()) _exit(3);
    raise(SIGINT);
    _exit(4);  // not reached when the default action ran
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGINT);
}

// Issue 19: SIGHUP (the terminal closed) killed a run without saving, and `train | tee` + Ctrl-C
// died of SIGPIPE on the next log line before saving.
TEST_CASE("SIGHUP requests a stop like SIGINT; SIGPIPE is ignored while the guard lives", "[train][signal]") {
  clear_stop_request();
  const auto hup_before = current_handler(SIGHUP), pipe_before = current_handler(SIGPIPE);
  {
    StopSignalGuard guard;
    CHECK(current_handler(SIGHUP) == moodnet::train::detail::on_stop_signal);
    CHECK(current_handler(SIGPIPE) == SIG_IGN);
    REQUIRE(raise(SIGPIPE) == 0);  // survives
    CHECK_FALSE(stop_requested());
    REQUIRE(raise(SIGHUP) == 0);
    CHECK(stop_signal_number() == SIGHUP);
  }
  CHECK(current_handler(SIGHUP) == hup_before);
  CHECK(current_handler(SIGPIPE) == pipe_before);
  clear_stop_request();
}
