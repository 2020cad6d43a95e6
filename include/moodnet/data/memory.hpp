#pragma once
// How much memory a dataset needs, checked before it is allocated.
//
// A Dataset holds every image in one uint8 buffer of N * C * H * W bytes (FER-2013 at 1x48x48:
// 35,887 * 2,304 = 83 MB; MNIST at 1x28x28: 70,000 * 784 = 55 MB; 100,000 RGB images at 224x224:
// 15 GB). Datasets larger than memory are out of scope: the readers compute N * C * H * W first
// and throw moodnet::Error naming the size when it overflows or exceeds the limit — by default
// the machine's physical memory — instead of failing inside the allocator or swapping.
#include <cstdint>
#include <cstdio>
#include <limits>
#include <new>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "moodnet/core/error.hpp"
#include "moodnet/data/image_shape.hpp"

namespace moodnet::data {

// Physical memory of this machine in bytes, or 0 when the platform does not say.
inline std::uint64_t physical_memory_bytes() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGE_SIZE)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
#endif
  return 0;
}

// "83.0 MB", "1.50 GB", "2.00 TB": decimal units, as file sizes are usually shown.
inline std::string format_bytes(double bytes) {
  char buf[32];
  if (bytes >= 1e12) std::snprintf(buf, sizeof buf, "%.2f TB", bytes / 1e12);
  else if (bytes >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
  else if (bytes >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  else if (bytes >= 1e3) std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f bytes", bytes);
  return buf;
}

// N * C * H * W for n images of `shape`, after checking that it fits in memory: throws
// moodnet::Error naming `source`, the count, the shape and the size when the product overflows
// or exceeds `limit` bytes (0 = physical_memory_bytes(); no limit when that is unknown).
inline std::int64_t checked_dataset_bytes(std::int64_t n, const ImageShape& shape, const std::string& source,
                                          std::uint64_t limit = 0) {
  MOODNET_CHECK(n >= 0, "dataset ", source, ": negative image count ", n);
  const std::int64_t per_image = shape.numel();
  MOODNET_CHECK(per_image > 0, "dataset ", source, ": empty image shape ", shape.str());
  const std::string what = "dataset " + source + ": " + std::to_string(n) + " images of " + shape.str() + " need ";
  if (n > std::numeric_limits<std::int64_t>::max() / per_image)
    fail(what, "more than 2^63 bytes (N*C*H*W overflows); see docs/data.md, 'Memory'");
  const std::int64_t bytes = n * per_image;
  const bool machine = limit == 0;
  if (machine) limit = physical_memory_bytes();
  if (limit != 0 && static_cast<std::uint64_t>(bytes) > limit)
    fail(what, format_bytes(static_cast<double>(bytes)), " (N*C*H*W bytes), more than the ",
         format_bytes(static_cast<double>(limit)), machine ? " of memory on this machine" : " allowed",
         ": use a smaller image size or fewer images (docs/data.md, 'Memory')");
  return bytes;
}

}  // namespace moodnet::data
