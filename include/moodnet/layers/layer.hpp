#pragma once
// Layer<T>: a module — what a piece of network IS: named parameters with their gradients, named
// buffers, children, hyper-parameters, train/eval mode, output shape from input shape, a type name.
// A layer computes nothing itself: emit() records the steps it stands for into a PlanBuilder, and
// the compiled Plan (graph/plan.hpp) runs them. No layer knows about another layer; what crosses
// layers (fusion, folding, memory) is done by the plan's passes on the flat step list.
//
//   * Parameters do not own storage: Parameter::value/grad are views into the model's arena (one
//     allocation for all values, one for all gradients), bound by the Model after construction.
//     Plan steps hold these views, so a plan is valid as long as the model it was compiled from.
//   * Buffers (batchnorm running statistics) are owned by the layer; steps update them in place.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/graph/builder.hpp"

namespace moodnet {

// A trainable tensor: its name inside the layer ("weight", "bias"), its shape, whether weight decay
// applies to it (false for biases and normalisation parameters), and views into the arena.
template <class T>
struct Parameter {
  std::string name;
  Shape shape;
  bool decay = true;
  TensorView<T> value;  // bound by Model::bind_arena
  TensorView<T> grad;
};

// A non-trainable state tensor saved in checkpoints (batchnorm running statistics): either a view of
// T values or a single int64 counter (PyTorch's num_batches_tracked, saved as I64).
template <class T>
struct BufferRef {
  std::string name;
  TensorView<T> values;              // empty when this is a counter
  std::int64_t* counter = nullptr;   // non-null for an int64 scalar
};

template <class T>
class Layer {
 public:
  virtual ~Layer() = default;

  // "Conv2d", "BatchNorm2d", ... (PyTorch's class names where one exists).
  virtual std::string type_name() const = 0;
  // One-line description of the hyper-parameters: "1->32, k=3, s=1, p=1".
  virtual std::string describe() const { return {}; }
  // Output shape for an input shape; throws moodnet::Error when the input does not fit the layer.
  virtual Shape output_shape(const Shape& input) const = 0;

  // Records this module's steps reading x (with the batch dimension) and returns the value they
  // produce; throws moodnet::Error when x does not fit. Containers emit their children inside a
  // PlanBuilder::Scope named after each child, which gives every step its state_dict prefix.
  virtual graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) = 0;

  virtual void set_training(bool training) { training_ = training; }
  bool training() const { return training_; }

  // This layer's own parameters and buffers (containers return none; they expose children).
  std::vector<Parameter<T>>& parameters() { return params_; }
  const std::vector<Parameter<T>>& parameters() const { return params_; }
  virtual std::vector<BufferRef<T>> buffers() { return {}; }

  // Direct children with their names ("0", "1", ... in a Sequential; "body"/"shortcut" in a Residual).
  virtual void for_each_child(const std::function<void(const std::string&, Layer<T>&)>&) {}

  // Called once the arena views are bound: layers initialise their parameters here.
  // `seed` is unique per layer (derived from the model seed and the layer's position).
  virtual void reset_parameters(std::uint64_t /*seed*/) {}

  // Tells stochastic layers (dropout) the training step about to run, so their random draws are a
  // function of (seed, step) and a resumed run reproduces an uninterrupted one, and the position of
  // the batch's first item in the global batch (data parallel: the shard's begin; else 0), so each
  // item's draws are those of its global position whichever rank holds it.
  virtual void set_step(std::uint64_t /*step*/, std::int64_t /*first_item*/ = 0) {}

 protected:
  // Declares a parameter; call from the constructor. Views are bound later by the Model.
  void add_parameter(std::string name, Shape shape, bool decay) {
    params_.push_back(Parameter<T>{std::move(name), shape, decay, {}, {}});
  }
  Parameter<T>& param(std::size_t i) { return params_[i]; }
  // Number of values in this layer's own parameters (for plan summaries).
  std::int64_t own_parameter_count() const {
    std::int64_t n = 0;
    for (const auto& p : params_) n += p.shape.numel();
    return n;
  }

  bool training_ = true;
  std::vector<Parameter<T>> params_;
};

template <class T>
using LayerPtr = std::unique_ptr<Layer<T>>;

// Checks that an input has the rank and (where given, >= 0) the dimensions a layer expects.
inline void check_input(const Shape& in, int rank, const char* layer, std::int64_t c = -1) {
  MOODNET_CHECK(in.rank() == rank, layer, " expects a rank-", rank, " input, got shape ", in.str());
  MOODNET_CHECK(c < 0 || in[1] == c, layer, " expects ", c, " input channels/features, got shape ", in.str());
}

}  // namespace moodnet
