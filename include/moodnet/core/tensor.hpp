#pragma once
// Tensor<T>: owning, contiguous, 64-byte-aligned storage with a shape of up to 4 dimensions.
// TensorView<T>: a non-owning (pointer, shape) window on contiguous storage.
//
// A Tensor *is a* TensorView of its own storage, so every function taking a TensorView<T> (or
// TensorView<const T>) accepts a Tensor. Views never own: they must not outlive their tensor.
//
//   Tensor<float> x({64, 32, 48, 48});        // zero-filled, 64-byte aligned
//   TensorView<float> b = x.batch(8, 16);      // items 8..23: shape [16, 32, 48, 48], same storage
//   TensorView<float> m = x.reshape({64, 32 * 48 * 48});   // an Eigen view of it: core/gemm.hpp
//
// Copying a Tensor copies its data (like std::vector); moving is O(1). `resize` keeps the storage
// when it is large enough, so buffers sized on the first batch are reused without allocation.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "moodnet/core/error.hpp"
#include "moodnet/core/shape.hpp"

namespace moodnet {

inline constexpr std::size_t kTensorAlignment = 64;

template <class T>
class TensorView {
 public:
  using value_type = std::remove_const_t<T>;

  TensorView() = default;
  TensorView(T* data, Shape shape) : data_(data), shape_(shape) {}
  // A view of T converts to a view of const T.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  TensorView(const TensorView<U>& other) : data_(other.data()), shape_(other.shape()) {}

  T* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t dim(int i) const { return shape_.dim(i); }
  std::int64_t numel() const { return shape_.numel(); }
  bool empty() const { return numel() == 0; }
  T* begin() const { return data_; }
  T* end() const { return data_ + numel(); }

  // Unchecked element access by flat index or by up to 4 indices (row-major).
  T& operator[](std::int64_t i) const { return data_[i]; }
  T& operator()(std::int64_t i0) const { return data_[i0]; }
  T& operator()(std::int64_t i0, std::int64_t i1) const { return data_[i0 * shape_[1] + i1]; }
  T& operator()(std::int64_t i0, std::int64_t i1, std::int64_t i2) const {
    return data_[(i0 * shape_[1] + i1) * shape_[2] + i2];
  }
  T& operator()(std::int64_t i0, std::int64_t i1, std::int64_t i2, std::int64_t i3) const {
    return data_[((i0 * shape_[1] + i1) * shape_[2] + i2) * shape_[3] + i3];
  }
  // Checked element access: throws moodnet::Error naming the index and the shape.
  template <class... I>
  T& at(I... idx) const {
    static_assert(sizeof...(I) >= 1 && sizeof...(I) <= Shape::kMaxRank);
    MOODNET_CHECK(static_cast<int>(sizeof...(I)) == rank(), "at() got ", sizeof...(I),
                  " indices for a tensor of shape ", shape_.str());
    const std::int64_t ids[] = {static_cast<std::int64_t>(idx)...};
    std::int64_t flat = 0;
    for (int d = 0; d < rank(); ++d) {
      MOODNET_CHECK(ids[d] >= 0 && ids[d] < shape_[d], "index ", ids[d], " out of range for dimension ",
                    d, " of shape ", shape_.str());
      flat = flat * shape_[d] + ids[d];
    }
    return data_[flat];
  }

  // Same storage, new shape with the same number of elements.
  TensorView reshape(Shape s) const {
    MOODNET_CHECK(s.numel() == numel(), "cannot reshape ", shape_.str(), " (", numel(),
                  " elements) to ", s.str(), " (", s.numel(), " elements)");
    return TensorView(data_, s);
  }
  // Items [first, first + count) of the outermost dimension, same storage.
  TensorView batch(std::int64_t first, std::int64_t count) const {
    MOODNET_CHECK(rank() >= 1, "batch() needs a tensor of rank >= 1, got shape ", shape_.str());
    MOODNET_CHECK(first >= 0 && count >= 0 && first + count <= shape_[0], "batch slice [", first, ", ",
                  first + count, ") out of range for shape ", shape_.str());
    return TensorView(data_ + first * shape_.inner_numel(), shape_.with_outer(count));
  }
  // Item i of the outermost dimension, keeping the rank (count 1).
  TensorView item(std::int64_t i) const { return batch(i, 1); }

  void fill(value_type v) const { std::fill(data_, data_ + numel(), v); }
  void zero() const {
    if (numel()) std::memset(static_cast<void*>(data_), 0, sizeof(value_type) * numel());
  }
  // Copies src into this view; the shapes must have the same number of elements.
  void copy_from(TensorView<const value_type> src) const {
    MOODNET_CHECK(src.numel() == numel(), "copy_from: source shape ", src.shape().str(),
                  " does not match destination shape ", shape_.str());
    if (numel()) std::memcpy(static_cast<void*>(data_), src.data(), sizeof(value_type) * numel());
  }

 protected:
  T* data_ = nullptr;
  Shape shape_{0};  // an empty view/tensor has no elements
};

template <class T>
class Tensor : public TensorView<T> {
  static_assert(std::is_arithmetic_v<T>, "Tensor<T> holds arithmetic values");
  using View = TensorView<T>;

 public:
  Tensor() = default;
  // Zero-filled tensor of the given shape.
  explicit Tensor(Shape shape) { resize(shape); View::zero(); }
  Tensor(std::initializer_list<std::int64_t> dims) : Tensor(Shape(dims)) {}
  // Tensor of the given shape with unspecified contents (for buffers that are overwritten).
  static Tensor uninitialized(Shape shape) {
    Tensor t;
    t.resize(shape);
    return t;
  }

  Tensor(const Tensor& o) : Tensor(uninitialized(o.shape())) { View::copy_from(o); }
  Tensor& operator=(const Tensor& o) {
    if (this != &o) {
      resize(o.shape());
      View::copy_from(o);
    }
    return *this;
  }
  Tensor(Tensor&& o) noexcept { swap(o); }
  Tensor& operator=(Tensor&& o) noexcept {
    Tensor tmp(std::move(o));
    swap(tmp);
    return *this;
  }
  ~Tensor() = default;

  // Gives the tensor a new shape. Keeps the storage when it holds enough elements (contents are
  // then unspecified beyond what was there); otherwise allocates new uninitialized storage.
  void resize(Shape shape) {
    const std::int64_t n = shape.numel();
    if (n > capacity_) {
      storage_.reset(allocate(n));
      capacity_ = n;
    }
    this->data_ = storage_.get();
    this->shape_ = shape;
  }
  std::int64_t capacity() const { return capacity_; }

  // A read-write view of the whole tensor (equivalent to slicing to TensorView).
  View view() const { return *this; }

  void swap(Tensor& o) noexcept {
    std::swap(this->data_, o.data_);
    std::swap(this->shape_, o.shape_);
    std::swap(storage_, o.storage_);
    std::swap(capacity_, o.capacity_);
  }

 private:
  struct AlignedDelete {
    void operator()(T* p) const { ::operator delete[](p, std::align_val_t(kTensorAlignment)); }
  };
  static T* allocate(std::int64_t n) {
    return static_cast<T*>(::operator new[](sizeof(T) * static_cast<std::size_t>(n),
                                            std::align_val_t(kTensorAlignment)));
  }

  std::unique_ptr<T, AlignedDelete> storage_;
  std::int64_t capacity_ = 0;
};

// Throws moodnet::Error when `actual` is not `expected`; `what` names the tensor in the message.
inline void check_shape(const Shape& actual, const Shape& expected, const char* what) {
  MOODNET_CHECK(actual == expected, what, " has shape ", actual.str(), ", expected ", expected.str());
}

}  // namespace moodnet
