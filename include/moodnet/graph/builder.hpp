#pragma once
// PlanBuilder<T>: what a module tree talks to when it is compiled (graph/plan.hpp). Each module's
// emit(builder, x) records the steps it stands for and returns the value it produces; nothing is
// computed. The builder keeps the module path ("features.3") so every step carries the
// state_dict name of the module that made it.
//
//   Value y = b.add_step(std::make_unique<Conv2dStep<T>>(...), {x}, out_shape, "Conv2d", params);
//
// Values are numbered in the order they are made; value 0 is the network input.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/shape.hpp"
#include "moodnet/graph/step.hpp"
#include "moodnet/graph/steps/eltwise.hpp"

namespace moodnet::graph {

// A tensor of the plan: its id and shape.
struct Value {
  int id = -1;
  Shape shape;
};

template <class T>
class PlanBuilder {
 public:
  PlanBuilder(Shape input, bool training) : training_(training) { shapes_.push_back(input); }

  Value input() const { return Value{0, shapes_[0]}; }
  // The mode being compiled (a module in eval mode inside a training plan may still emit its eval
  // steps: modules ask their own flag, this is the plan's).
  bool training() const { return training_; }

  // Records a step reading `inputs` and producing a new value of shape `out`. `module_type` is the
  // module's type name; `parameters` the number of parameter values the step trains (for summaries).
  Value add_step(std::unique_ptr<Step<T>> step, const std::vector<Value>& inputs, Shape out,
                 std::string module_type, std::int64_t parameters = 0) {
    MOODNET_CHECK(step != nullptr, "PlanBuilder: null step");
    for (const Value& v : inputs)
      MOODNET_CHECK(v.id >= 0 && v.id < static_cast<int>(shapes_.size()), "PlanBuilder: unknown value ", v.id);
    step->name = path();
    step->module_type = std::move(module_type);
    step->parameters = parameters;
    for (const Value& v : inputs) {
      step->inputs.push_back(v.id);
      step->input_shapes.push_back(shapes_[static_cast<std::size_t>(v.id)]);
    }
    step->output = static_cast<int>(shapes_.size());
    step->output_shape = out;
    shapes_.push_back(out);
    steps_.push_back(std::move(step));
    return Value{steps_.back()->output, out};
  }

  // x seen with another shape of as many elements (no copy).
  Value reshape(Value x, Shape out, std::string module_type) {
    MOODNET_CHECK(out.numel() == x.shape.numel(), "cannot reshape ", x.shape.str(), " to ", out.str());
    return add_step(std::make_unique<ReshapeStep<T>>(), {x}, out, std::move(module_type));
  }

  // Names: a module emitting a child wraps the call in a scope with the child's name
  // ("" adds nothing, for bodies whose children are named at the parent's level).
  class Scope {
   public:
    Scope(PlanBuilder& b, const std::string& name) : b_(b), pushed_(!name.empty()) {
      if (pushed_) b_.names_.push_back(name);
    }
    ~Scope() {
      if (pushed_) b_.names_.pop_back();
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    PlanBuilder& b_;
    bool pushed_;
  };
  std::string path() const {
    std::string s;
    for (const auto& n : names_) s += (s.empty() ? "" : ".") + n;
    return s;
  }

  std::vector<std::unique_ptr<Step<T>>>& steps() { return steps_; }
  const std::vector<Shape>& value_shapes() const { return shapes_; }

 private:
  bool training_;
  std::vector<Shape> shapes_;  // per value id
  std::vector<std::unique_ptr<Step<T>>> steps_;
  std::vector<std::string> names_;
};

}  // namespace moodnet::graph
