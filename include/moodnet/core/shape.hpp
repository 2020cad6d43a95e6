#pragma once
// Shape: up to 4 dimensions, outermost first (NCHW for activations, OIHW for conv weights).
#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>

#include "moodnet/core/error.hpp"

namespace moodnet {

class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims) {
    MOODNET_CHECK(dims.size() <= kMaxRank, "a shape has at most ", kMaxRank, " dimensions, got ",
                  dims.size());
    for (std::int64_t d : dims) {
      MOODNET_CHECK(d >= 0, "shape dimensions must be >= 0, got ", d, " in a rank-", dims.size(),
                    " shape");
      dims_[rank_++] = d;
    }
  }

  int rank() const { return rank_; }
  std::int64_t operator[](int i) const {
    MOODNET_ASSERT(i >= 0 && i < rank_);
    return dims_[i];
  }
  // Dimension i, checked: throws when i is outside [0, rank).
  std::int64_t dim(int i) const {
    MOODNET_CHECK(i >= 0 && i < rank_, "dimension ", i, " out of range for shape ", str());
    return dims_[i];
  }
  // Product of all dimensions (1 for rank 0).
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  // Elements in one item of the outermost dimension (C*H*W for NCHW).
  std::int64_t inner_numel() const { return rank_ == 0 ? 1 : numel() / (dims_[0] ? dims_[0] : 1); }

  // Same shape with dimension 0 replaced by n (a batch slice).
  Shape with_outer(std::int64_t n) const {
    Shape s = *this;
    MOODNET_ASSERT(rank_ > 0);
    s.dims_[0] = n;
    return s;
  }

  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  // "[64, 32, 48, 48]"
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
    return s + "]";
  }

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.str(); }

}  // namespace moodnet
