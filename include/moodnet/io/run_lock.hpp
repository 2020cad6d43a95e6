#pragma once
// An exclusive lock on a run folder: two trainers given the same --out would interleave their
// checkpoints, so the second one stops with a one-line error naming the folder and the first one's
// pid. The lock is flock(2) on <folder>/train.lock, which the kernel drops when its holder exits in
// any way (SIGKILL included), so a lock file left by a killed run is stale by construction and the
// next run simply takes it. The file holds the holder's pid (for the message) and is removed on
// release.
//
//   io::RunLock lock(out);  // throws: "--out runs/x is in use by another trainer (pid 1234, ...)"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "moodnet/core/error.hpp"

namespace moodnet::io {

inline constexpr const char* kRunLockFile = "train.lock";

class RunLock {
 public:
  explicit RunLock(const std::string& folder) : path_((std::filesystem::path(folder) / kRunLockFile).string()) {
    // A holder releasing the lock unlinks the file; one opened just before that unlink is no longer
    // the file at path_, so after locking it is compared with path_ and the open retried.
    for (int attempt = 0; attempt < 100; ++attempt) {
      fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ < 0) fail("--out ", folder, ": cannot create the lock file ", path_, ": ", std::strerror(errno));
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        const std::string holder = read_holder();
        ::close(fd_), fd_ = -1;
        if (err == EWOULDBLOCK)
          fail("--out ", folder, " is in use by another trainer (pid ", holder.empty() ? "unknown" : holder,
               ", lock file ", path_, "): wait for it to finish or choose another --out");
        fail("--out ", folder, ": cannot lock ", path_, ": ", std::strerror(err));
      }
      struct stat held {}, named {};
      if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
          held.st_dev == named.st_dev) {
        const std::string pid = std::to_string(::getpid()) + "\n";
        if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
          fail("--out ", folder, ": cannot write the lock file ", path_, ": ", std::strerror(errno));
        return;
      }
      ::close(fd_), fd_ = -1;  // unlinked (or replaced) between open and flock: take the new one
    }
    fail("--out ", folder, ": cannot take the lock file ", path_, " (it keeps being replaced)");
  }
  ~RunLock() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // while still locked: a waiter that opened it re-checks and retries
    ::close(fd_);
  }
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  // The pid text the holder wrote ("" when unreadable or not yet written).
  std::string read_holder() const {
    char buf[32] = {};
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string s = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }

  std::string path_;
  int fd_ = -1;
};

}  // namespace moodnet::io
