#pragma once
// Atomic file writes: a checkpoint is either the complete old file or the complete new one.
//
// write_file_atomic(path, fill) creates a uniquely named temporary file in the same folder
// (".<name>.tmp.XXXXXX", so the rename never crosses file systems), lets `fill` write into it,
// flushes and fsyncs it, closes it, renames it over `path` (atomic on POSIX) and fsyncs the folder
// so the rename itself survives a power cut. If anything fails — `fill` throws, the disk is full,
// the rename is impossible — the temporary is removed, `path` is left untouched, and a
// moodnet::Error names the path and the errno text. A process killed mid-write (SIGKILL) cannot
// remove its temporary: remove_stale_temporaries clears them for the folder's owner.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "moodnet/core/error.hpp"

namespace moodnet::io {

namespace detail {
inline std::string errno_text(int err) { return std::strerror(err); }

// Folder of `path` ("." when it has none) and its last component.
inline std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
inline std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}
}  // namespace detail

// Sequential writer into the temporary file; every write is checked.
class FileSink {
 public:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  void write(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    while (n > 0) {
      const ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail("cannot write ", path_, " at byte ", written_, ": ", detail::errno_text(errno));
      }
      p += w;
      n -= static_cast<std::size_t>(w);
      written_ += static_cast<std::uint64_t>(w);
    }
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  std::uint64_t bytes_written() const { return written_; }

 private:
  int fd_;
  std::string path_;  // the final path, for messages
  std::uint64_t written_ = 0;
};

// Removes the temporaries write_file_atomic leaves in `dir` when its process is killed mid-write
// (".<name>.tmp.XXXXXX": a leading dot, ".tmp." and six characters). Only the folder's owner may
// call it — the trainer, holding the run lock (io/run_lock.hpp) — since another live writer's
// temporary looks the same. Returns how many it removed.
inline int remove_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  int removed = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const std::size_t at = name.rfind(".tmp.");
    if (name.size() < 2 || name[0] != '.' || at == std::string::npos || at == 0 || name.size() - at != 11) continue;
    std::error_code rm;
    if (e.is_regular_file(rm) && std::filesystem::remove(e.path(), rm)) ++removed;
  }
  return removed;
}

// Writes `path` atomically with the bytes `fill` writes into the sink (see the file comment).
inline void write_file_atomic(const std::string& path, const std::function<void(FileSink&)>& fill) {
  MOODNET_CHECK(!path.empty(), "cannot write a file with an empty path");
  const std::string dir = detail::parent_dir(path);
  std::string tmp = dir + "/." + detail::base_name(path) + ".tmp.XXXXXX";
  std::vector<char> tmpl(tmp.begin(), tmp.end());
  tmpl.push_back('\0');
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) fail("cannot create a temporary file to write ", path, ": ", detail::errno_text(errno));
  tmp = tmpl.data();
  bool fd_open = true;
  try {
    ::fchmod(fd, 0644);  // mkstemp creates 0600; a checkpoint is an ordinary readable file
    FileSink sink(fd, path);
    fill(sink);
    if (::fsync(fd) != 0) fail("cannot flush ", path, " to disk: ", detail::errno_text(errno));
    fd_open = false;
    if (::close(fd) != 0) fail("cannot close ", path, ": ", detail::errno_text(errno));
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      fail("cannot replace ", path, " (rename from ", tmp, "): ", detail::errno_text(errno));
  } catch (...) {
    if (fd_open) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename durable. Best effort: some file systems refuse fsync on a folder (EINVAL), and
  // the new file is already complete and in place, so this is not reported as a failure.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

// Writes `bytes` to `path` atomically.
inline void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, [&](FileSink& s) { s.write(bytes); });
}

// Reads a whole file; throws naming the path and the errno text.
inline std::vector<unsigned char> read_file_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("cannot open ", path, ": ", detail::errno_text(errno));
  std::vector<unsigned char> out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    fail("cannot read ", path, ": it is a directory");
  }
  if (st.st_size > 0) out.reserve(static_cast<std::size_t>(st.st_size));
  unsigned char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail("cannot read ", path, " at byte ", out.size(), ": ", detail::errno_text(err));
    }
    if (r == 0) break;
    out.insert(out.end(), buf, buf + r);
  }
  ::close(fd);
  return out;
}

}  // namespace moodnet::io
