#pragma once
// Flatten: [N, C, H, W] -> [N, C*H*W] (a view of the same storage; no copy).
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Flatten : public Layer<T> {
 public:
  std::string type_name() const override { return "Flatten"; }
  Shape output_shape(const Shape& in) const override {
    MOODNET_CHECK(in.rank() >= 2, "Flatten expects a rank >= 2 input, got shape ", in.str());
    return Shape{in[0], in.inner_numel()};
  }
  // A view: dx is dy seen with the input's shape.
  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    return b.reshape(x, output_shape(x.shape), type_name());
  }
};

}  // namespace moodnet
