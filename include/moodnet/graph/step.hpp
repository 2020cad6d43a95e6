#pragma once
// Step<T>: one entry of an execution plan (graph/plan.hpp) — one kernel call, or a fused group of
// them, with the values it reads and writes. Steps are made by the PlanBuilder (graph/builder.hpp)
// from a module tree, rewritten by the passes (graph/passes.hpp), and run by the Plan.
//
// A step never owns activations: it names values (ids into the plan's value table) and the plan
// hands it pointers into the planned arena through a StepIO at run time. What a step owns is its
// parameters' views (bound into the model's parameter arena) and small per-channel state.
//
// Backward contract (as the kernels'):
//   * dy is the gradient of the loss w.r.t. the step's output; it is read only.
//   * dx[j] is overwritten with the gradient w.r.t. input j; dx[j] == nullptr means nobody needs
//     it (the network's input: ATen's output_mask), and the step skips that work where it can.
//   * parameter gradients are ACCUMULATED (+=): the model zeroes its gradient arena once per step.
#include <cstdint>
#include <string>
#include <vector>

#include "moodnet/core/shape.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/core/workspace.hpp"

namespace moodnet::graph {

// What a step computes; passes match on it.
enum class StepKind {
  conv2d,
  depthwise_conv2d,
  batchnorm2d,
  groupnorm,
  activation,
  max_pool2d,
  avg_pool2d,
  global_avg_pool2d,
  linear,
  dropout,
  add,
  reshape,  // a view: no kernel, no copy
};

inline const char* to_string(StepKind k) {
  switch (k) {
    case StepKind::conv2d: return "conv2d";
    case StepKind::depthwise_conv2d: return "depthwise_conv2d";
    case StepKind::batchnorm2d: return "batchnorm2d";
    case StepKind::groupnorm: return "groupnorm";
    case StepKind::activation: return "activation";
    case StepKind::max_pool2d: return "max_pool2d";
    case StepKind::avg_pool2d: return "avg_pool2d";
    case StepKind::global_avg_pool2d: return "global_avg_pool2d";
    case StepKind::linear: return "linear";
    case StepKind::dropout: return "dropout";
    case StepKind::add: return "add";
    case StepKind::reshape: return "reshape";
  }
  return "?";
}

// A scratch buffer a step needs between its forward and its backward (a max-pool's argmax, a
// dropout mask), planned in the arena like the activations. Index k is the step's aux slot.
struct AuxSpec {
  std::int64_t bytes = 0;
  bool kept_for_backward = true;  // false: only used inside forward
};

// Pointers a step runs with. in[j]: input j's activation; out: the output activation (in forward
// written, in backward the saved output); aux[k]: the step's aux buffers; dy/dx: see above.
template <class T>
struct StepIO {
  std::vector<const T*> in;
  T* out = nullptr;
  std::vector<void*> aux;
  const T* dy = nullptr;
  std::vector<T*> dx;
  Workspace* ws = nullptr;
};

template <class T>
class Step {
 public:
  virtual ~Step() = default;

  // The kernel family, and a short description of the hyper-parameters ("3->32, k3 s1 p1").
  virtual StepKind kind() const = 0;
  virtual std::string describe() const { return {}; }

  virtual void forward(const StepIO<T>& io) = 0;
  virtual void backward(const StepIO<T>& io) = 0;

  // What backward reads besides dy, so the memory planner keeps exactly that alive.
  virtual bool backward_reads_input(int /*j*/) const { return false; }
  virtual bool backward_reads_output() const { return false; }
  // Inputs whose gradient is dy itself (a view or an add): the plan lends them dy (no copy) and
  // backward is not called for them.
  virtual bool passes_gradient_through(int /*j*/) const { return false; }
  // With passes_gradient_through: backward makes the gradient it lends in aux slot 0 (an add with a
  // fused ReLU lends dy * [y > 0]) instead of lending dy.
  virtual bool lends_aux_gradient() const { return false; }
  // The step's output is its input 0 seen with another shape (no storage of its own).
  virtual bool is_view() const { return false; }

  virtual std::vector<AuxSpec> aux() const { return {}; }

  // Whether backward has parameter gradients to accumulate, and whether it can leave out dx when
  // nobody needs it (else the plan hands it a scratch buffer).
  virtual bool has_parameter_grads() const { return false; }
  virtual bool can_skip_input_grad() const { return false; }
  // The parameter gradients backward accumulates into (views into the model's gradient arena):
  // empty exactly when has_parameter_grads() is false. After this step's backward they are final
  // for the pass (no parameter feeds two steps), which data-parallel overlap relies on
  // (graph/backward_observer.hpp).
  virtual std::vector<TensorView<T>> parameter_gradients() const { return {}; }

  // Forward cost for profiles and summaries: floating-point operations (an FMA is 2), and the bytes
  // of activations read and written once each (parameters and re-reads not counted).
  virtual double flops() const { return 0; }
  double bytes() const {
    if (is_view()) return 0;
    double n = static_cast<double>(output_shape.numel());
    for (const Shape& s : input_shapes) n += static_cast<double>(s.numel());
    return n * static_cast<double>(sizeof(T));
  }

  // Filled by the builder.
  std::string name;                 // the module's state_dict prefix, e.g. "features.3"
  std::string module_type;          // the module's type name, e.g. "Conv2d"
  std::vector<int> inputs;          // value ids
  int output = -1;                  // value id
  std::vector<Shape> input_shapes;  // per input
  Shape output_shape;
  std::int64_t parameters = 0;      // parameter values this step trains (for summaries)
  std::vector<std::string> fused;   // "ReLU features.2": the steps folded into this one by passes
};

}  // namespace moodnet::graph
