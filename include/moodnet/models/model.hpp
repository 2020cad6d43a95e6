#pragma once
// Model<T>: a root Sequential (the definition), the parameter arena that holds every parameter and
// gradient, and the execution plans compiled from the definition (graph/plan.hpp).
//
//   values_: [P]  one allocation, parameters back to back in state_dict order
//   grads_:  [P]  same layout; zero_grad() is one fill
// Each Parameter's value/grad is a view into these at its offset, so an optimizer is one flat loop
// over P elements (state indexed by arena position) and a checkpoint is a table plus one blob.
//
// forward(x) runs the plan compiled for x's shape and the current train/eval mode of every layer,
// compiling it on first use (plans are cached: a training loop alternating train and eval batches
// compiles four plans at most — full and last batch, train and eval). All plans share one workspace.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/workspace.hpp"
#include "moodnet/graph/plan.hpp"
#include "moodnet/layers/layer.hpp"
#include "moodnet/layers/param_arena.hpp"
#include "moodnet/layers/sequential.hpp"

namespace moodnet {

// A cap on the parameters of Models built on this thread (limit 0 = none), set for one build by
// io::load_model (ModelParameterCap) from the number of values its weights file holds: metadata that
// claims a huge width is refused before gigabytes are allocated and initialised, not after.
struct ModelParameterCap {
  std::int64_t limit = 0;
  std::int64_t values = 0;  // what the file holds, for the message
  std::string source;       // names the file in the message
};
inline thread_local ModelParameterCap model_parameter_cap;

template <class T>
class Model {
 public:
  // A parameter with its full state_dict name ("features.0.weight") and arena offset.
  struct NamedParameter {
    std::string name;
    Parameter<T>* param;
    std::int64_t offset;
  };
  struct NamedBuffer {
    std::string name;
    BufferRef<T> buffer;
  };

  // root: the network; sample_shape: one input item without the batch dimension, e.g. {1, 48, 48};
  // metadata: free-form strings saved with the weights (model name, width, classes, normalisation).
  Model(std::unique_ptr<Sequential<T>> root, Shape sample_shape, std::uint64_t seed,
        std::map<std::string, std::string> metadata = {})
      : root_(std::move(root)), sample_shape_(sample_shape), metadata_(std::move(metadata)) {
    MOODNET_CHECK(root_ != nullptr, "Model needs a network");
    root_->output_shape(batch_shape(1));  // validates the whole chain of shapes
    collect("", *root_);
    std::int64_t total = 0;
    for (auto& p : params_) {
      p.offset = total;
      total += p.param->shape.numel();
    }
    if (model_parameter_cap.limit > 0 && total > model_parameter_cap.limit)
      fail(model_parameter_cap.source, ": the network its metadata describes has ", total,
           " parameters, but the file holds only ", model_parameter_cap.values, " values (at most ",
           model_parameter_cap.limit, " allowed)");
    values_ = Tensor<T>({total});
    grads_ = Tensor<T>({total});
    for (auto& p : params_) {
      p.param->value = TensorView<T>(values_.data() + p.offset, p.param->shape);
      p.param->grad = TensorView<T>(grads_.data() + p.offset, p.param->shape);
    }
    reset_parameters(seed);
  }

  // Re-initialises every parameter (and resets buffers) from `seed`; layer i uses a seed derived
  // from (seed, i), so the result does not depend on the thread count.
  void reset_parameters(std::uint64_t seed) {
    std::uint64_t index = 0;
    for_each_layer([&](const std::string&, Layer<T>& l) {
      std::uint64_t s = seed ^ (0x9E3779B97F4A7C15ull * ++index);
      l.reset_parameters(splitmix(s));
    });
  }

  Model(Model&&) noexcept = default;
  Model& operator=(Model&&) noexcept = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // x: [N, sample shape...]; the caller keeps x alive and unchanged until backward. Returns the
  // output, valid until the next forward with the same shape and mode.
  TensorView<const T> forward(TensorView<const T> x) {
    MOODNET_CHECK(x.rank() == sample_shape_.rank() + 1 && x.shape().inner_numel() == sample_shape_.numel(),
                  "model input has shape ", x.shape().str(), ", expected [N, ", sample_shape_.str().substr(1));
    last_ = &plan(x.shape());
    return last_->forward(x);
  }
  // dy: gradient of the loss w.r.t. the last forward's output. Accumulates the parameter gradients;
  // returns the gradient w.r.t. the input when set_input_grad(true), else an empty view (it lives
  // in the plan's arena: valid until the next forward). observer: graph/backward_observer.hpp.
  TensorView<const T> backward(TensorView<const T> dy, graph::BackwardObserver<T>* observer = nullptr) {
    MOODNET_CHECK(last_ != nullptr, "Model::backward needs a forward first");
    return last_->backward(dy, observer);
  }
  // Whether backward also computes the input's gradient (off by default: the first layer then
  // skips that work, as nobody reads it).
  void set_input_grad(bool on) {
    if (on != input_grad_) plans_.clear(), last_ = nullptr;
    input_grad_ = on;
  }
  // The passes that compiled plans run (all on by default; tests turn them off to compare bits).
  void set_passes(graph::PassOptions passes) {
    passes_ = passes;
    plans_.clear(), last_ = nullptr;
  }

  // Where the dense 3x3 convolutions may run Winograd (graph/conv_algorithm.hpp): plans compiled
  // from now on take their algorithms from `table` (shared: it may measure and grow); null = none.
  void set_conv_algorithms(std::shared_ptr<graph::ConvAlgorithmTable> table) {
    conv_algorithms_ = std::move(table);
    plans_.clear(), last_ = nullptr;
  }
  const std::shared_ptr<graph::ConvAlgorithmTable>& conv_algorithms() const { return conv_algorithms_; }

  // The plan for a batch of this shape in the current mode (compiled on first use).
  graph::Plan<T>& plan(const Shape& batch) {
    const std::vector<bool>& modes = layer_modes();
    for (auto& c : plans_)
      if (c.shape == batch && c.modes == modes) return *c.plan;
    graph::PlanOptions o;
    o.training = root_->training();
    o.input_grad = input_grad_;
    o.passes = passes_;
    o.conv_algorithms = conv_algorithms_.get();
    plans_.push_back({batch, modes, graph::Plan<T>::template compile(*root_, batch, o, workspace_.get())});
    return *plans_.back().plan;
  }
  // Bytes held by the compiled plans' arenas and the shared workspace.
  std::int64_t activation_bytes() const {
    std::int64_t n = workspace_->bytes();
    for (const auto& c : plans_) n += c.plan->arena_bytes();
    return n;
  }

  void zero_grad() { grads_.zero(); }
  // The training step about to run, and the position of the batch's first item in the global batch
  // (a data-parallel shard's begin; else 0): they drive the dropout masks (see Layer::set_step).
  void set_step(std::uint64_t step, std::int64_t first_item = 0) {
    for_each_layer([&](const std::string&, Layer<T>& l) { l.set_step(step, first_item); });
  }
  void train() { root_->set_training(true); }
  void eval() { root_->set_training(false); }
  bool training() const { return root_->training(); }

  std::int64_t num_parameters() const { return values_.numel(); }
  TensorView<T> parameter_values() { return values_; }
  TensorView<T> parameter_grads() { return grads_; }
  // The arena as an optimizer sees it (layers/param_arena.hpp): values, grads, one slot per parameter.
  ParamArena<T> arena() {
    ParamArena<T> a{values_, grads_, {}};
    for (const auto& p : params_) a.slots.push_back({p.name, p.offset, p.param->shape.numel(), p.param->decay});
    return a;
  }
  const std::vector<NamedParameter>& named_parameters() const { return params_; }
  std::vector<NamedBuffer> named_buffers() {
    std::vector<NamedBuffer> out;
    walk("", *root_, [&](const std::string& prefix, Layer<T>& l) {
      for (auto& b : l.buffers()) out.push_back({prefix + b.name, b});
    });
    return out;
  }
  Sequential<T>& network() { return *root_; }
  const Shape& sample_shape() const { return sample_shape_; }
  Shape batch_shape(std::int64_t n) const {
    switch (sample_shape_.rank()) {
      case 1: return Shape{n, sample_shape_[0]};
      case 2: return Shape{n, sample_shape_[0], sample_shape_[1]};
      default: return Shape{n, sample_shape_[0], sample_shape_[1], sample_shape_[2]};
    }
  }
  std::map<std::string, std::string>& metadata() { return metadata_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Calls f(full_name_prefix, layer) for every leaf layer in order (containers are walked into).
  void for_each_layer(const std::function<void(const std::string&, Layer<T>&)>& f) { walk("", *root_, f); }

  // A model summary read from the training plan for `batch` items: one row per step (after the
  // passes: "(+ ReLU features.2)" marks what a step absorbed) with its module's name, type, the
  // step's configuration, output shape, parameter count and forward FLOPs; then the totals and the
  // planned activation memory.
  std::string summary(std::int64_t batch = 1) {
    const bool was_training = training();
    train();
    graph::Plan<T>& p = plan(batch_shape(batch));
    std::ostringstream os;
    char line[320];
    std::snprintf(line, sizeof line, "%-24s %-18s %-34s %-20s %10s %10s\n", "layer", "type", "config",
                  "output shape", "params", "MFLOP");
    os << line << std::string(121, '-') << "\n";
    std::snprintf(line, sizeof line, "%-24s %-18s %-34s %-20s\n", "input", "", "", p.input_shape().str().c_str());
    os << line;
    double flops = 0;
    for (const auto& s : p.steps()) {
      std::string config = s->describe();
      for (const auto& f : s->fused) config += " (+ " + f + ")";
      std::snprintf(line, sizeof line, "%-24s %-18s %-34s %-20s %10s %10.2f\n", s->name.c_str(),
                    s->module_type.c_str(), config.c_str(), s->output_shape.str().c_str(),
                    s->parameters ? with_commas(s->parameters).c_str() : "", s->flops() / 1e6);
      os << line;
      flops += s->flops();
    }
    os << std::string(121, '-') << "\n";
    std::int64_t trainable = num_parameters(), buffered = 0;
    for (auto& b : named_buffers()) buffered += b.buffer.counter ? 1 : b.buffer.values.numel();
    os << "trainable parameters: " << with_commas(trainable) << "  (buffers: " << with_commas(buffered) << ")\n";
    std::snprintf(line, sizeof line, "forward: %.1f MFLOP per batch of %lld; training activations: %.1f MiB planned "
                  "(%.1f MiB without reuse)\n", flops / 1e6, static_cast<long long>(batch),
                  static_cast<double>(p.arena_bytes()) / (1 << 20), static_cast<double>(p.unshared_bytes()) / (1 << 20));
    os << line;
    if (!was_training) eval();
    return os.str();
  }

 private:
  static std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  // 1234567 -> "1,234,567". Built front to back: std::string::insert here made GCC 12 report a
  // false -Wrestrict (an overlapping memcpy inside libstdc++'s _M_replace).
  static std::string with_commas(std::int64_t v) {
    const std::string digits = std::to_string(v);
    const std::size_t sign = digits[0] == '-' ? 1 : 0;
    std::string s = digits.substr(0, sign);
    for (std::size_t i = sign; i < digits.size(); ++i) {
      if (i > sign && (digits.size() - i) % 3 == 0) s += ',';
      s += digits[i];
    }
    return s;
  }
  static bool has_children(Layer<T>& l) {
    bool any = false;
    l.for_each_child([&](const std::string&, Layer<T>&) { any = true; });
    return any;
  }
  // Visits leaves (and the own parameters of containers, if any) with "a.b." prefixes.
  void walk(const std::string& prefix, Layer<T>& l, const std::function<void(const std::string&, Layer<T>&)>& f) {
    if (!l.parameters().empty() || !has_children(l)) f(prefix, l);
    l.for_each_child([&](const std::string& name, Layer<T>& c) { walk(prefix + name + ".", c, f); });
  }
  void collect(const std::string& prefix, Layer<T>& root) {
    walk(prefix, root, [&](const std::string& p, Layer<T>& l) {
      for (auto& param : l.parameters()) params_.push_back({p + param.name, &param, 0});
    });
  }
  // Every layer's own train/eval flag, in tree order: a plan is valid for one such combination.
  // (Reuses one vector: a forward in steady state allocates nothing.)
  const std::vector<bool>& layer_modes() {
    modes_.clear();
    collect_modes(*root_);
    return modes_;
  }
  void collect_modes(Layer<T>& l) {
    modes_.push_back(l.training());
    l.for_each_child([this](const std::string&, Layer<T>& c) { collect_modes(c); });
  }

  struct CachedPlan {
    Shape shape;
    std::vector<bool> modes;
    std::unique_ptr<graph::Plan<T>> plan;
  };

  std::unique_ptr<Sequential<T>> root_;
  Shape sample_shape_;
  std::map<std::string, std::string> metadata_;
  std::vector<NamedParameter> params_;
  Tensor<T> values_, grads_;
  std::unique_ptr<Workspace> workspace_ = std::make_unique<Workspace>();  // shared by every plan's steps
  std::vector<CachedPlan> plans_;
  graph::Plan<T>* last_ = nullptr;  // the plan of the last forward
  bool input_grad_ = false;
  graph::PassOptions passes_;
  std::shared_ptr<graph::ConvAlgorithmTable> conv_algorithms_;
  std::vector<bool> modes_;  // scratch of layer_modes()
};

}  // namespace moodnet
