// The run folder's lock (io/run_lock.hpp): a second holder is refused with a message naming the
// folder and the first holder's pid; a released lock, or one whose holder was killed, is taken.
#include "moodnet/io/run_lock.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "../support/temp_dir.hpp"

using namespace moodnet;

TEST_CASE("RunLock: a second trainer on the same folder is refused, naming the folder and the holder", "[io][lock]") {
  test::TempDir dir("run-lock");
  const std::string folder = dir.path.string();
  auto first = std::make_unique<io::RunLock>(folder);
  CHECK(std::filesystem::exists(dir / io::kRunLockFile));
  CHECK_THROWS_WITH(io::RunLock(folder), "--out " + folder + " is in use by another trainer (pid " +
                                             std::to_string(::getpid()) + ", lock file " + first->path() +
                                             "): wait for it to finish or choose another --out");
  first.reset();  // released: the file is gone and the next run takes the folder
  CHECK_FALSE(std::filesystem::exists(dir / io::kRunLockFile));
  io::RunLock second(folder);
  CHECK_THROWS_WITH(io::RunLock(folder), Catch::Contains("is in use by another trainer"));
}

TEST_CASE("RunLock: the lock of a killed holder is stale and taken over", "[io][lock]") {
  test::TempDir dir("run-lock-stale");
  const std::string folder = dir.path.string();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    new io::RunLock(folder);  // never released: the process dies holding it
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(std::filesystem::exists(dir / io::kRunLockFile));  // left behind, with the dead pid in it
  io::RunLock taken(folder);
  CHECK_THROWS_WITH(io::RunLock(folder), Catch::Contains("(pid " + std::to_string(::getpid()) + ","));
}

TEST_CASE("RunLock: a folder that cannot hold the lock file is a one-line error", "[io][lock]") {
  test::TempDir dir("run-lock-missing");
  const std::string missing = (dir / "no/such/folder").string();
  CHECK_THROWS_WITH(io::RunLock(missing), Catch::StartsWith("--out " + missing + ": cannot create the lock file"));
}
