#pragma once
// Pooling layers: MaxPool2d (argmax kept for backward), AvgPool2d (count_include_pad, as PyTorch's
// default) and GlobalAvgPool (PyTorch's AdaptiveAvgPool2d(1): [N, C, H, W] -> [N, C, 1, 1]).
#include <cstdint>
#include <string>

#include "moodnet/kernels/pooling.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Pool2d : public Layer<T> {
 public:
  enum class Mode { max, average };
  Pool2d(Mode mode, std::int64_t kernel, std::int64_t stride, std::int64_t padding)
      : mode_(mode), k_(kernel), stride_(stride), pad_(padding) {
    params(Shape{1, 1, k_, k_}).validate();
  }

  std::string type_name() const override { return mode_ == Mode::max ? "MaxPool2d" : "AvgPool2d"; }
  std::string describe() const override {
    return "k" + std::to_string(k_) + " s" + std::to_string(stride_) + (pad_ ? " p" + std::to_string(pad_) : "");
  }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, type_name().c_str());
    const auto p = params(in);
    p.validate();
    return Shape{in[0], in[1], p.out_h(), p.out_w()};
  }

  TensorView<const T> forward(TensorView<const T> x) override {
    y_.resize(output_shape(x.shape()));
    in_shape_ = x.shape();
    const auto p = params(x.shape());
    if (mode_ == Mode::max) {
      argmax_.resize(y_.shape());
      kernels::max_pool2d_forward(p, x.data(), y_.data(), argmax_.data());
    } else {
      kernels::avg_pool2d_forward(p, x.data(), y_.data());
    }
    return y_;
  }
  // Max: dy goes to the argmax of each window. Average: dy / window size to every input of it.
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "pooling output gradient");
    dx_.resize(in_shape_);
    const auto p = params(in_shape_);
    if (mode_ == Mode::max)
      kernels::max_pool2d_backward(p, dy.data(), argmax_.data(), dx_.data());
    else
      kernels::avg_pool2d_backward(p, dy.data(), dx_.data());
    return dx_;
  }

 private:
  kernels::Pool2dParams params(const Shape& s) const {
    kernels::Pool2dParams p;
    p.N = s[0], p.C = s[1], p.H = s[2], p.W = s[3];
    p.kernel_h = p.kernel_w = k_;
    p.stride_h = p.stride_w = stride_;
    p.pad_h = p.pad_w = pad_;
    return p;
  }

  Mode mode_;
  std::int64_t k_, stride_, pad_;
  Shape in_shape_;
  Tensor<std::int32_t> argmax_;
  Tensor<T> y_, dx_;
};

template <class T>
struct MaxPool2d : Pool2d<T> {
  explicit MaxPool2d(std::int64_t kernel, std::int64_t stride = 0, std::int64_t padding = 0)
      : Pool2d<T>(Pool2d<T>::Mode::max, kernel, stride ? stride : kernel, padding) {}
};
template <class T>
struct AvgPool2d : Pool2d<T> {
  explicit AvgPool2d(std::int64_t kernel, std::int64_t stride = 0, std::int64_t padding = 0)
      : Pool2d<T>(Pool2d<T>::Mode::average, kernel, stride ? stride : kernel, padding) {}
};

template <class T>
class GlobalAvgPool : public Layer<T> {
 public:
  std::string type_name() const override { return "AdaptiveAvgPool2d"; }
  std::string describe() const override { return "global average"; }
  Shape output_shape(const Shape& in) const override {
    check_input(in, 4, "GlobalAvgPool");
    return Shape{in[0], in[1], 1, 1};
  }
  TensorView<const T> forward(TensorView<const T> x) override {
    y_.resize(output_shape(x.shape()));
    in_shape_ = x.shape();
    kernels::global_avg_pool2d_forward(params(), x.data(), y_.data());
    return y_;
  }
  // dx[n,c,h,w] = dy[n,c] / (H*W).
  TensorView<const T> backward(TensorView<const T> dy) override {
    check_shape(dy.shape(), y_.shape(), "GlobalAvgPool output gradient");
    dx_.resize(in_shape_);
    kernels::global_avg_pool2d_backward(params(), dy.data(), dx_.data());
    return dx_;
  }

 private:
  kernels::GlobalPoolParams params() const {
    kernels::GlobalPoolParams p;
    p.N = in_shape_[0], p.C = in_shape_[1], p.H = in_shape_[2], p.W = in_shape_[3];
    return p;
  }
  Shape in_shape_;
  Tensor<T> y_, dx_;
};

}  // namespace moodnet
