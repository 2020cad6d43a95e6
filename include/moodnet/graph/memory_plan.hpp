#pragma once
// MemoryPlan: offsets in one arena for buffers whose lifetimes are known in advance (XNNPACK's
// memory planner, ggml's graph allocator). A buffer lives from its first to its last access on the
// plan's timeline (forward step k at time k, then the backward steps); two buffers may share bytes
// only when their lifetimes do not overlap.
//
// Placement is greedy: largest first, each at the lowest 64-byte-aligned offset that does not
// collide with a placed buffer alive at the same time. Not optimal (that is NP-hard) but within a
// few percent of the peak of live bytes on chain-like networks.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

#include "moodnet/core/error.hpp"

namespace moodnet::graph {

class MemoryPlan {
 public:
  static constexpr std::int64_t kAlign = 64;

  // A new buffer of `bytes`; returns its id. Accesses set its lifetime.
  int add(std::int64_t bytes) {
    MOODNET_ASSERT(bytes >= 0);
    buffers_.push_back({bytes, std::numeric_limits<int>::max(), -1, 0});
    return static_cast<int>(buffers_.size()) - 1;
  }
  // Buffer `id` is read or written at time t.
  void touch(int id, int t) {
    Buffer& b = buffers_[static_cast<std::size_t>(id)];
    b.first = std::min(b.first, t);
    b.last = std::max(b.last, t);
  }

  // Assigns offsets; returns the arena size in bytes.
  std::int64_t place() {
    std::vector<int> order(buffers_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return buffers_[static_cast<std::size_t>(a)].bytes > buffers_[static_cast<std::size_t>(b)].bytes; });
    std::vector<int> placed;
    total_ = 0;
    for (int id : order) {
      Buffer& b = buffers_[static_cast<std::size_t>(id)];
      if (b.last < 0 || b.bytes == 0) continue;  // never used
      // Placed buffers alive at the same time, by offset.
      std::vector<const Buffer*> live;
      for (int q : placed) {
        const Buffer& o = buffers_[static_cast<std::size_t>(q)];
        if (o.first <= b.last && b.first <= o.last) live.push_back(&o);
      }
      std::sort(live.begin(), live.end(), [](const Buffer* x, const Buffer* y) { return x->offset < y->offset; });
      std::int64_t offset = 0;
      for (const Buffer* o : live) {
        if (offset + b.bytes <= o->offset) break;
        offset = std::max(offset, align(o->offset + o->bytes));
      }
      b.offset = offset;
      total_ = std::max(total_, align(offset + b.bytes));
      placed.push_back(id);
    }
    return total_;
  }

  std::int64_t offset(int id) const { return buffers_[static_cast<std::size_t>(id)].offset; }
  std::int64_t bytes(int id) const { return buffers_[static_cast<std::size_t>(id)].bytes; }
  std::size_t size() const { return buffers_.size(); }
  std::int64_t total_bytes() const { return total_; }
  // Sum of all buffer sizes: the memory without reuse (what one buffer per tensor would take).
  std::int64_t unshared_bytes() const {
    std::int64_t s = 0;
    for (const auto& b : buffers_)
      if (b.last >= 0) s += align(b.bytes);
    return s;
  }

 private:
  struct Buffer {
    std::int64_t bytes;
    int first, last;
    std::int64_t offset;
  };
  static std::int64_t align(std::int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

  std::vector<Buffer> buffers_;
  std::int64_t total_ = 0;
};

}  // namespace moodnet::graph
