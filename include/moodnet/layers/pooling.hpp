#pragma once
// Pooling layers: MaxPool2d (argmax kept for backward), AvgPool2d (count_include_pad, as PyTorch's
// default) and GlobalAvgPool (PyTorch's AdaptiveAvgPool2d(1): [N, C, H, W] -> [N, C, 1, 1]).
#include <cstdint>
#include <memory>
#include <string>

#include "moodnet/graph/steps/pool.hpp"
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

  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);
    return b.add_step(std::make_unique<graph::Pool2dStep<T>>(params(x.shape), mode_ == Mode::max), {x}, out,
                      type_name());
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
  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    const Shape out = output_shape(x.shape);
    return b.add_step(std::make_unique<graph::GlobalAvgPoolStep<T>>(params(x.shape)), {x}, out, type_name());
  }

 private:
  static kernels::GlobalPoolParams params(const Shape& s) {
    kernels::GlobalPoolParams p;
    p.N = s[0], p.C = s[1], p.H = s[2], p.W = s[3];
    p.validate();
    return p;
  }
};

}  // namespace moodnet
