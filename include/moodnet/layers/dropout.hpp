#pragma once
// Dropout(p): in training y = x * mask / (1 - p) with mask ~ Bernoulli(1 - p) drawn from the seeded
// generator and kept for backward (dx = dy * mask / (1 - p)); in eval the identity.
// The mask seed is a function of the layer's seed and the step (set_step, or a call counter when
// no step is given), never of the thread count; each element's mask is drawn at its position in the
// global batch (set_step's first_item: a data-parallel shard's first item), so a shard's items get
// the masks the whole batch gives them, whichever rank holds them.
#include <cstdint>
#include <memory>
#include <string>

#include "moodnet/graph/steps/eltwise.hpp"
#include "moodnet/kernels/dropout.hpp"
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(double p) : p_(p) {
    kernels::DropoutParams d;
    d.p = p_;
    d.validate();  // throws unless p is in [0, 1)
  }

  std::string type_name() const override { return "Dropout"; }
  std::string describe() const override {
    std::string s = std::to_string(p_);
    return "p=" + s.erase(s.find_last_not_of('0') + 1);
  }
  Shape output_shape(const Shape& in) const override { return in; }
  void reset_parameters(std::uint64_t seed) override { seed_ = seed; }
  void set_step(std::uint64_t step, std::int64_t first_item = 0) override { step_ = step, first_item_ = first_item; }

  // Training: a DropoutStep drawing its mask from (seed, step, first_item); eval: the identity, so no
  // step at all.
  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    if (!this->training()) return x;
    auto step = std::make_unique<graph::DropoutStep<T>>(p_, x.shape.numel(), x.shape.inner_numel(), &seed_, &step_,
                                                        &first_item_);
    return b.add_step(std::move(step), {x}, x.shape, type_name());
  }

 private:
  double p_;
  std::uint64_t seed_ = 0, step_ = 0;
  std::int64_t first_item_ = 0;
};

}  // namespace moodnet
