#pragma once
// Plan<T>: a network compiled for one input shape and one mode — the executor. A module tree
// emits its steps into a PlanBuilder (graph/builder.hpp); the passes rewrite the flat step list
// (graph/passes.hpp); then the plan decides, once, where every activation, gradient and saved
// tensor lives in a single arena (graph/memory_plan.hpp), and forward/backward just walk the list.
//
//   auto plan = Plan<float>::compile(net, Shape{64, 1, 48, 48}, {.training = true}, &workspace);
//   TensorView<const float> logits = plan.forward(x);     // x: [64, 1, 48, 48], kept by the caller
//   plan.backward(dlogits);                                // parameter gradients += ...
//
// Timeline: forward step k runs at time k, the backward of step k at time 2S-1-k (S steps).
// What backward needs is kept alive until then: a step's input when its backward reads it
// (convolutions, normalisations, linear), its output when it reads that (ReLU), its aux buffers
// (argmax, dropout mask); everything else is reused as soon as its last reader has run.
//
// Gradients: the backward of a step overwrites dx for each input that needs a gradient. When a
// value feeds several steps (a residual block's input), the first contribution (in backward order)
// is written in place and later ones are added to it; when a step passes dy through unchanged (an
// add, a reshape) its inputs borrow the buffer, and a later contribution to a borrowed gradient
// is summed into a fresh one. This is the same arithmetic, in the same order, as
// dx = body.backward(dy) + shortcut.backward(dy) (a + b == b + a in IEEE arithmetic).
//
// The network input gets no gradient unless PlanOptions::input_grad asks for it (ATen's
// output_mask): the first convolution then skips its dx GEMM entirely.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/graph/backward_observer.hpp"
#include "moodnet/graph/builder.hpp"
#include "moodnet/graph/conv_algorithm.hpp"
#include "moodnet/graph/memory_plan.hpp"
#include "moodnet/graph/passes.hpp"
#include "moodnet/graph/step.hpp"
#include "moodnet/graph/steps/conv.hpp"
#include "moodnet/kernels/activations.hpp"

namespace moodnet::graph {

struct PlanOptions {
  bool training = true;
  bool input_grad = false;  // compute the gradient w.r.t. the network input too
  PassOptions passes;
  // Where the dense 3x3 convolutions may run Winograd (graph/conv_algorithm.hpp); null: nowhere.
  // The table outlives the plan; compiling may measure shapes it lacks and add them.
  ConvAlgorithmTable* conv_algorithms = nullptr;
};

// Seconds per step, filled by a plan that has them attached (Plan::set_step_times): forward[i] for
// step i, backward[i] for the backward of step i (with the gradient sums it causes).
struct StepTimes {
  std::vector<double> forward, backward;
};

template <class T>
class Plan {
 public:
  // Compiles `root` (anything with `Value emit(PlanBuilder<T>&, Value)`) for `input` (with the
  // batch dimension). ws: the scratch space shared by all steps (owned by the caller, may be
  // shared between plans that never run at the same time).
  template <class Module>
  static std::unique_ptr<Plan> compile(Module& root, Shape input, PlanOptions options, Workspace* ws) {
    PlanBuilder<T> b(input, options.training);
    const Value out = root.emit(b, b.input());
    return std::unique_ptr<Plan>(new Plan(b, out.id, options, ws));
  }

  // Runs the steps in order on x (shape as compiled; the caller keeps x alive and unchanged until
  // backward). Returns the output, valid until the next forward of this plan.
  TensorView<const T> forward(TensorView<const T> x) {
    MOODNET_CHECK(x.shape() == shapes_[0], "plan compiled for input ", shapes_[0].str(), " got ", x.shape().str());
    input_ = x.data();
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      Step<T>& s = *steps_[i];
      if (s.is_view()) continue;
      StepIO<T>& io = io_[i];
      for (std::size_t j = 0; j < s.inputs.size(); ++j) io.in[j] = value_ptr(s.inputs[j]);
      io.out = value_ptr(s.output);
      io.dy = nullptr;
      const auto t0 = times_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      s.forward(io);
      if (times_) times_->forward[i] = seconds_since(t0);
    }
    forwarded_ = true;
    return TensorView<const T>(value_ptr(output_), shapes_[static_cast<std::size_t>(output_)]);
  }

  // dy: gradient of the loss w.r.t. the output of the last forward (read only). Accumulates the
  // parameter gradients; returns the input gradient when compiled with input_grad, else an empty view.
  // observer (optional): told when the pass starts and after each step (graph/backward_observer.hpp).
  TensorView<const T> backward(TensorView<const T> dy, BackwardObserver<T>* observer = nullptr) {
    MOODNET_CHECK(options_.training, "backward needs a plan compiled for training");
    MOODNET_CHECK(forwarded_, "backward needs a forward first");
    MOODNET_CHECK(dy.shape() == shapes_[static_cast<std::size_t>(output_)], "output gradient has shape ",
                  dy.shape().str(), ", expected ", shapes_[static_cast<std::size_t>(output_)].str());
    dy_ = dy.data();
    if (observer) observer->backward_started(*this);
    for (const BackwardOp& op : backward_ops_) {
      Step<T>& s = *steps_[static_cast<std::size_t>(op.step)];
      const auto t0 = times_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      if (op.run) {
        StepIO<T>& io = io_[static_cast<std::size_t>(op.step)];
        for (std::size_t j = 0; j < s.inputs.size(); ++j) {
          io.in[j] = value_ptr(s.inputs[j]);
          io.dx[j] = op.dx[j] >= 0 ? buffer_ptr(op.dx[j]) : nullptr;
        }
        io.out = value_ptr(s.output);
        io.dy = buffer_ptr(op.dy);
        s.backward(io);
      }
      for (const Sum& a : op.sums) {
        const std::int64_t n = a.count;
        const T* x = buffer_ptr(a.a);
        const T* y = buffer_ptr(a.b);
        T* out = buffer_ptr(a.out);
        kernels::detail::eltwise_for(n, [=](std::int64_t lo, std::int64_t hi) {
#pragma omp simd
          for (std::int64_t i = lo; i < hi; ++i) out[i] = x[i] + y[i];
        });
      }
      if (times_) times_->backward[static_cast<std::size_t>(op.step)] = seconds_since(t0);
      if (observer && op.run) observer->step_done(s);
    }
    if (!options_.input_grad) return {};
    return TensorView<const T>(buffer_ptr(grad_of_[0]), shapes_[0]);
  }

  // The steps in execution order (names, kinds, shapes, FLOPs: summaries, profiles, benchmarks).
  const std::vector<std::unique_ptr<Step<T>>>& steps() const { return steps_; }
  std::vector<std::unique_ptr<Step<T>>>& steps() { return steps_; }
  const Shape& input_shape() const { return shapes_[0]; }
  const Shape& output_shape() const { return shapes_[static_cast<std::size_t>(output_)]; }
  const PlanOptions& options() const { return options_; }
  // Bytes of the planned arena (activations, gradients, saved tensors), and what one buffer per
  // tensor would take without reuse.
  std::int64_t arena_bytes() const { return memory_.total_bytes(); }
  std::int64_t unshared_bytes() const { return memory_.unshared_bytes(); }

  // Times every step of each later forward and backward into `times` (nullptr: stop timing).
  void set_step_times(StepTimes* times) {
    times_ = times;
    if (times_) times_->forward.assign(steps_.size(), 0.0), times_->backward.assign(steps_.size(), 0.0);
  }

 private:
  static constexpr int kInputBuffer = -2, kOutputGradBuffer = -3;

  // One backward step: run the step's backward (dy from buffer `dy`, dx[j] into buffer dx[j] or
  // none), then the gradient sums it causes.
  struct Sum {
    int out, a, b;
    std::int64_t count;
  };
  struct BackwardOp {
    int step = -1;
    bool run = false;
    int dy = -1;
    std::vector<int> dx;
    std::vector<Sum> sums;
  };

  Plan(PlanBuilder<T>& b, int output, PlanOptions options, Workspace* ws)
      : options_(options), ws_(ws), output_(output) {
    MOODNET_CHECK(ws_ != nullptr, "Plan needs a workspace");
    steps_ = std::move(b.steps());
    shapes_ = b.value_shapes();
    StepList<T> list(steps_, output_);
    run_passes(list, options_.passes, options_.training);
    if (options_.conv_algorithms) choose_conv_algorithms(*options_.conv_algorithms);
    plan_memory();
    arena_ = Tensor<unsigned char>({memory_.total_bytes() + kTailBytes});
    io_.resize(steps_.size());
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      StepIO<T>& io = io_[i];
      io.in.assign(steps_[i]->inputs.size(), nullptr);
      io.dx.assign(steps_[i]->inputs.size(), nullptr);
      io.ws = ws_;
      for (int a : aux_[i]) io.aux.push_back(arena_.data() + memory_.offset(a));
    }
  }

  void choose_conv_algorithms(ConvAlgorithmTable& table) {
    for (auto& s : steps_)
      if (auto* conv = dynamic_cast<Conv2dStep<T>*>(s.get())) conv->set_algorithms(table.template choose<T>(conv->params(), *ws_));
  }

  static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  // Kernels may read (never write) a little past the end of a row; keep such reads in the arena.
  static constexpr std::int64_t kTailBytes = 256;

  std::int64_t value_bytes(int v) const {
    return shapes_[static_cast<std::size_t>(v)].numel() * static_cast<std::int64_t>(sizeof(T));
  }
  T* buffer_ptr(int buf) const {
    if (buf == kInputBuffer) return const_cast<T*>(input_);
    if (buf == kOutputGradBuffer) return const_cast<T*>(dy_);
    return reinterpret_cast<T*>(arena_.data() + memory_.offset(buf));
  }
  T* value_ptr(int v) const { return buffer_ptr(storage_[static_cast<std::size_t>(v)]); }

  // Decides every buffer and its lifetime, simulating one forward and one backward.
  void plan_memory() {
    const int S = static_cast<int>(steps_.size());
    const std::size_t V = shapes_.size();
    storage_.assign(V, -1);
    storage_[0] = kInputBuffer;
    // Forward: each step writes its output (views share their input's storage) and its aux.
    aux_.assign(steps_.size(), {});
    for (int k = 0; k < S; ++k) {
      Step<T>& s = *steps_[static_cast<std::size_t>(k)];
      for (int in : s.inputs) touch_buf(storage_[static_cast<std::size_t>(in)], k);
      storage_[static_cast<std::size_t>(s.output)] =
          s.is_view() ? storage_[static_cast<std::size_t>(s.inputs[0])] : memory_.add(value_bytes(s.output));
      touch_buf(storage_[static_cast<std::size_t>(s.output)], k);
      for (const AuxSpec& a : s.aux()) {
        aux_[static_cast<std::size_t>(k)].push_back(memory_.add(a.bytes));
        touch_buf(aux_[static_cast<std::size_t>(k)].back(), k);
      }
    }
    const int end = options_.training ? 2 * S : S;
    touch_buf(storage_[static_cast<std::size_t>(output_)], end);  // the caller reads the output
    if (!options_.training) {
      memory_.place();
      return;
    }

    // Which values need a gradient: the input if asked, and everything downstream of a step with
    // parameters or of a value that needs one.
    std::vector<bool> needs(V, false);
    needs[0] = options_.input_grad;
    for (const auto& s : steps_) {
      bool n = s->has_parameter_grads();
      for (int in : s->inputs) n = n || needs[static_cast<std::size_t>(in)];
      needs[static_cast<std::size_t>(s->output)] = n;
    }
    grad_of_.assign(V, -1);
    std::vector<bool> owned(V, false);
    grad_of_[static_cast<std::size_t>(output_)] = kOutputGradBuffer;

    for (int k = S - 1; k >= 0; --k) {
      const int t = 2 * S - 1 - k;
      Step<T>& s = *steps_[static_cast<std::size_t>(k)];
      const int dy = grad_of_[static_cast<std::size_t>(s.output)];
      if (dy == -1) continue;  // the output reaches no loss
      BackwardOp op;
      op.step = k;
      op.dy = dy;
      op.dx.assign(s.inputs.size(), -1);
      const bool any_input = [&] {
        for (int in : s.inputs)
          if (needs[static_cast<std::size_t>(in)]) return true;
        return false;
      }();
      // A pass-through step runs backward only to make the gradient it lends (an add with a fused ReLU).
      const bool lends_own = s.lends_aux_gradient();
      op.run = s.passes_gradient_through(0) ? (lends_own && any_input) : (s.has_parameter_grads() || any_input);
      if (!op.run && !any_input) continue;
      touch_buf(dy, t);  // backward reads the output gradient here: it lives at least until now
      if (op.run) {
        for (std::size_t j = 0; j < s.inputs.size(); ++j)
          if (s.backward_reads_input(static_cast<int>(j))) touch_buf(storage_[static_cast<std::size_t>(s.inputs[j])], t);
        if (s.backward_reads_output()) touch_buf(storage_[static_cast<std::size_t>(s.output)], t);
        for (int a : aux_[static_cast<std::size_t>(k)]) touch_buf(a, t);
      }
      for (std::size_t j = 0; j < s.inputs.size(); ++j) {
        const int v = s.inputs[j];
        const std::size_t vi = static_cast<std::size_t>(v);
        const std::int64_t n = shapes_[vi].numel();
        if (!needs[vi]) {
          if (op.run && !s.passes_gradient_through(static_cast<int>(j)) && !s.can_skip_input_grad()) {
            op.dx[j] = memory_.add(value_bytes(v));  // scratch: the kernel writes dx regardless
            touch_buf(op.dx[j], t);
          }
          continue;
        }
        if (s.passes_gradient_through(static_cast<int>(j))) {
          const int lent = lends_own ? aux_[static_cast<std::size_t>(k)][0] : dy;
          contribute_borrowed(vi, lent, n, t, op, owned);
        } else {
          contribute_computed(vi, n, t, op, j, owned);
        }
      }
      backward_ops_.push_back(std::move(op));
    }
    if (options_.input_grad) touch_buf(grad_of_[0], end);  // the caller reads the input gradient
    memory_.place();
  }

  // Input value v receives a gradient that the step lends (its dy, or a buffer of its own).
  void contribute_borrowed(std::size_t v, int lent, std::int64_t n, int t, BackwardOp& op, std::vector<bool>& owned) {
    int& g = grad_of_[v];
    if (g == -1) {
      g = lent;
      owned[v] = false;
    } else if (owned[v]) {
      op.sums.push_back({g, g, lent, n});
      touch_buf(g, t);
    } else {
      const int fresh = memory_.add(static_cast<std::int64_t>(n) * static_cast<std::int64_t>(sizeof(T)));
      op.sums.push_back({fresh, g, lent, n});
      touch_buf(g, t), touch_buf(fresh, t);
      g = fresh;
      owned[v] = true;
    }
    touch_buf(lent, t);
  }
  // Input value v receives a gradient the step computes into op.dx[j].
  void contribute_computed(std::size_t v, std::int64_t n, int t, BackwardOp& op, std::size_t j, std::vector<bool>& owned) {
    int& g = grad_of_[v];
    const std::int64_t bytes = n * static_cast<std::int64_t>(sizeof(T));
    if (g == -1) {
      g = memory_.add(bytes);
      owned[v] = true;
      op.dx[j] = g;
    } else if (owned[v]) {
      op.dx[j] = memory_.add(bytes);  // a temporary, added in place
      op.sums.push_back({g, g, op.dx[j], n});
      touch_buf(g, t);
    } else {
      const int fresh = memory_.add(bytes);  // dx written here, then the borrowed gradient added
      op.dx[j] = fresh;
      op.sums.push_back({fresh, fresh, g, n});
      touch_buf(g, t);
      g = fresh;
      owned[v] = true;
    }
    touch_buf(op.dx[j], t);
  }
  void touch_buf(int buf, int t) {
    if (buf >= 0) memory_.touch(buf, t);
  }

  PlanOptions options_;
  Workspace* ws_;
  std::vector<std::unique_ptr<Step<T>>> steps_;
  std::vector<Shape> shapes_;         // per value
  int output_;
  std::vector<int> storage_;          // per value: its activation's buffer
  std::vector<std::vector<int>> aux_;  // per step: its aux buffers
  std::vector<int> grad_of_;          // per value: its gradient's buffer (training)
  std::vector<BackwardOp> backward_ops_;
  MemoryPlan memory_;
  Tensor<unsigned char> arena_;
  std::vector<StepIO<T>> io_;
  const T* input_ = nullptr;
  const T* dy_ = nullptr;
  bool forwarded_ = false;
  StepTimes* times_ = nullptr;
};

}  // namespace moodnet::graph
