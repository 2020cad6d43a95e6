#pragma once
// Private stand-in for io/atomic_file.hpp (being written in parallel); switch callers to it when it
// lands. A file is written to a temporary beside it, flushed, fsynced and renamed over the target,
// so a crash or Ctrl-C mid-write never leaves a truncated history.csv or PNG.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "moodnet/core/error.hpp"

namespace moodnet::train::detail {

inline void write_file_atomically(const std::string& path, std::string_view bytes) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) fail("cannot create a temporary file for '", path, "': ", std::strerror(errno));
  const auto give_up = [&](const char* step) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot write '", path, "' (", step, "): ", std::strerror(err));
  };
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) give_up("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) give_up("chmod");  // mkstemp creates 0600; plots are meant to be shared
  if (::fsync(fd) != 0) give_up("fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write '", path, "' (close): ", std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write '", path, "' (rename): ", std::strerror(err));
  }
}

}  // namespace moodnet::train::detail
