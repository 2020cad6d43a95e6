#pragma once
// Workspace: scratch buffers that kernels borrow instead of allocating, so that steady-state
// training allocates nothing. Each buffer slot grows to the largest size ever asked for and is
// then reused. Slots are indexed by the caller (e.g. one slot per thread, or per block of work).
//
//   Workspace ws;                               // owned by a layer, lives across calls
//   float* col = ws.get<float>(thread_index(), rows * cols);
//
// get() may allocate, so call it for every slot *before* entering a parallel region (reserve),
// or from inside the region with one distinct slot per thread (each slot is touched by one thread).
#include <cstddef>
#include <cstdint>
#include <new>
#include <vector>

#include "moodnet/core/tensor.hpp"

namespace moodnet {

class Workspace {
 public:
  // Makes sure `slots` slots exist (call outside parallel regions: it may reallocate the table).
  void reserve_slots(int slots) {
    if (static_cast<int>(buffers_.size()) < slots) buffers_.resize(static_cast<std::size_t>(slots));
  }
  // A 64-byte-aligned buffer of at least n elements of T in slot `slot` (contents unspecified).
  template <class T>
  T* get(int slot, std::int64_t n) {
    MOODNET_ASSERT(slot >= 0 && slot < static_cast<int>(buffers_.size()));
    Tensor<unsigned char>& b = buffers_[static_cast<std::size_t>(slot)];
    const std::int64_t bytes = n * static_cast<std::int64_t>(sizeof(T));
    if (b.capacity() < bytes) b.resize({bytes});
    return reinterpret_cast<T*>(b.data());
  }
  int slots() const { return static_cast<int>(buffers_.size()); }
  // Bytes held by all slots.
  std::int64_t bytes() const {
    std::int64_t s = 0;
    for (const auto& b : buffers_) s += b.capacity();
    return s;
  }

 private:
  std::vector<Tensor<unsigned char>> buffers_;
};

}  // namespace moodnet
