#pragma once
// A cap on the memory that decodes running in parallel hold at once.
//
// Image folders are decoded by io_threads() threads (8 or more). One decode of a large photo holds
// about 9 bytes a pixel (stb's interleaved copy, its JPEG component buffers, the planar copy): a
// 24-megapixel photo 216 MB, so 8 of them at once would need 1.7 GB, and the largest image
// moodnet accepts (kMaxImagePixels = 2^25) 300 MB each. The loader gives every decode a
// reservation from one MemoryBudget (the readers set it for their threads with DecodeBudgetScope;
// decode_image reserves once it has read the header): a decode whose bytes do not fit beside the
// others' waits until they do, and one larger than the whole budget runs alone. FER-2013's 2 KB
// images never wait. The file's own bytes (read before the header is known; at most
// kMaxImageFileBytes, usually a few MB) are counted in the reservation but read before it.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "moodnet/data/memory.hpp"

namespace moodnet::data {

class MemoryBudget {
 public:
  explicit MemoryBudget(std::uint64_t limit_bytes) : limit_(limit_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Blocks until `bytes` fit beside what the other holders hold, or nothing else is held (a request
  // larger than the whole budget runs alone). Requests are granted in arrival order, so a large one
  // is not starved by a stream of small ones; every request is granted as long as each thread
  // holds at most one reservation at a time.
  void acquire(std::uint64_t bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    const std::uint64_t ticket = next_ticket_++;
    freed_.wait(lock, [&] { return ticket == serving_ && (used_ == 0 || used_ + bytes <= limit_); });
    used_ += bytes;
    peak_ = std::max(peak_, used_);
    ++serving_;
    lock.unlock();
    freed_.notify_all();  // the next in line may fit too
  }
  void release(std::uint64_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      used_ -= bytes;
    }
    freed_.notify_all();
  }
  std::uint64_t limit() const { return limit_; }
  // The most held at once so far (the tests check it against the limit).
  std::uint64_t peak() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return peak_;
  }

 private:
  const std::uint64_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::uint64_t used_ = 0, peak_ = 0;
  std::uint64_t next_ticket_ = 0, serving_ = 0;  // arrival order
};

// The default budget of a dataset load: an eighth of physical memory, at least 256 MiB and at most
// 4 GiB (3 GiB on a 24 GiB machine), or 1 GiB when the platform does not say.
inline std::uint64_t default_decode_budget_bytes() {
  const std::uint64_t mem = physical_memory_bytes();
  if (mem == 0) return std::uint64_t{1} << 30;
  return std::clamp<std::uint64_t>(mem / 8, std::uint64_t{256} << 20, std::uint64_t{4} << 30);
}

namespace detail {
inline MemoryBudget*& thread_decode_budget() {
  thread_local MemoryBudget* budget = nullptr;
  return budget;
}
}  // namespace detail

// Makes `budget` the one this thread's decodes reserve from, for the scope's lifetime (nullptr: none).
class DecodeBudgetScope {
 public:
  explicit DecodeBudgetScope(MemoryBudget* budget) : previous_(detail::thread_decode_budget()) {
    detail::thread_decode_budget() = budget;
  }
  ~DecodeBudgetScope() { detail::thread_decode_budget() = previous_; }
  DecodeBudgetScope(const DecodeBudgetScope&) = delete;
  DecodeBudgetScope& operator=(const DecodeBudgetScope&) = delete;

 private:
  MemoryBudget* previous_;
};

// `bytes` reserved from this thread's budget (if it has one) until the object is destroyed.
class DecodeReservation {
 public:
  explicit DecodeReservation(std::uint64_t bytes) : budget_(detail::thread_decode_budget()), bytes_(bytes) {
    if (budget_) budget_->acquire(bytes_);
  }
  ~DecodeReservation() {
    if (budget_) budget_->release(bytes_);
  }
  DecodeReservation(const DecodeReservation&) = delete;
  DecodeReservation& operator=(const DecodeReservation&) = delete;

 private:
  MemoryBudget* budget_;
  std::uint64_t bytes_;
};

}  // namespace moodnet::data
