#pragma once
// Model<T>: a root Sequential plus the parameter arena that holds every parameter and gradient.
//
//   values_: [P]  one allocation, parameters back to back in state_dict order
//   grads_:  [P]  same layout; zero_grad() is one fill
// Each Parameter's value/grad is a view into these at its offset, so an optimizer is one flat loop
// over P elements (state indexed by arena position) and a checkpoint is a table plus one blob.
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

#include "moodnet/layers/layer.hpp"
#include "moodnet/layers/sequential.hpp"

namespace moodnet {

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

  TensorView<const T> forward(TensorView<const T> x) {
    MOODNET_CHECK(x.rank() == sample_shape_.rank() + 1 && x.shape().inner_numel() == sample_shape_.numel(),
                  "model input has shape ", x.shape().str(), ", expected [N, ", sample_shape_.str().substr(1));
    return root_->forward(x);
  }
  TensorView<const T> backward(TensorView<const T> dy) { return root_->backward(dy); }

  void zero_grad() { grads_.zero(); }
  // The training step about to run (drives the dropout masks; see Layer::set_step).
  void set_step(std::uint64_t step) {
    for_each_layer([&](const std::string&, Layer<T>& l) { l.set_step(step); });
  }
  void train() { root_->set_training(true); }
  void eval() { root_->set_training(false); }
  bool training() const { return root_->training(); }

  std::int64_t num_parameters() const { return values_.numel(); }
  TensorView<T> parameter_values() { return values_; }
  TensorView<T> parameter_grads() { return grads_; }
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

  // A model summary: one row per leaf layer with its name, type, output shape and parameter count.
  std::string summary(std::int64_t batch = 1) {
    std::ostringstream os;
    char line[256];
    std::snprintf(line, sizeof line, "%-22s %-18s %-30s %-22s %12s\n", "layer", "type", "config", "output shape",
                  "params");
    os << line << std::string(108, '-') << "\n";
    Shape shape = batch_shape(batch);
    std::snprintf(line, sizeof line, "%-22s %-18s %-30s %-22s %12s\n", "input", "", "", shape.str().c_str(), "");
    os << line;
    rows("", *root_, shape, os);
    os << std::string(108, '-') << "\n";
    std::int64_t trainable = num_parameters(), buffered = 0;
    for (auto& b : named_buffers()) buffered += b.buffer.counter ? 1 : b.buffer.values.numel();
    os << "trainable parameters: " << with_commas(trainable) << "  (buffers: " << with_commas(buffered) << ")\n";
    return os.str();
  }

 private:
  static std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  static std::string with_commas(std::int64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
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
  std::int64_t subtree_params(Layer<T>& l) {
    std::int64_t n = 0;
    walk("", l, [&](const std::string&, Layer<T>& x) {
      for (auto& p : x.parameters()) n += p.shape.numel();
    });
    return n;
  }
  void rows(const std::string& prefix, Layer<T>& l, Shape& shape, std::ostringstream& os) {
    // Sequentials are expanded; any other layer (including a Residual) is one row.
    if (auto* seq = dynamic_cast<Sequential<T>*>(&l)) {
      for (std::size_t i = 0; i < seq->size(); ++i) rows(prefix + seq->child_name(i) + ".", (*seq)[i], shape, os);
      return;
    }
    shape = l.output_shape(shape);
    std::string name = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
    char line[256];
    std::snprintf(line, sizeof line, "%-22s %-18s %-30s %-22s %12s\n", name.c_str(), l.type_name().c_str(),
                  l.describe().c_str(), shape.str().c_str(), with_commas(subtree_params(l)).c_str());
    os << line;
  }

  std::unique_ptr<Sequential<T>> root_;
  Shape sample_shape_;
  std::map<std::string, std::string> metadata_;
  std::vector<NamedParameter> params_;
  Tensor<T> values_, grads_;
};

}  // namespace moodnet
