#pragma once
// Weights files for whole models (DESIGN.md contract 2): one safetensors file whose tensor names,
// dtypes and shapes are the PyTorch twin's state_dict — parameters and buffers in state_dict order,
// F32 values and I64 num_batches_tracked — plus __metadata__ (model, size arguments, input_shape,
// class_names, per-channel input_mean and input_std, resize, image_size; io/model_metadata.hpp).
// `model.load_state_dict(safetensors.torch.load_file(path))` works unchanged.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "moodnet/io/model_metadata.hpp"
#include "moodnet/io/safetensors.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/models/registry.hpp"

namespace moodnet::io {

namespace detail {
// Parameters and buffers in the PyTorch state_dict order: module by module, parameters first.
template <class T>
inline std::vector<TensorRef> state_dict_refs(Model<T>& model) {
  std::vector<TensorRef> refs;
  std::vector<typename Model<T>::NamedBuffer> buffers = model.named_buffers();
  std::size_t next_buffer = 0;
  const auto& params = model.named_parameters();
  auto prefix_of = [](const std::string& name) { return name.substr(0, name.rfind('.') + 1); };
  for (std::size_t i = 0; i < params.size(); ++i) {
    refs.push_back(tensor_ref(params[i].name, TensorView<const T>(params[i].param->value)));
    const bool module_ends = i + 1 == params.size() || prefix_of(params[i + 1].name) != prefix_of(params[i].name);
    while (module_ends && next_buffer < buffers.size() &&
           prefix_of(buffers[next_buffer].name) == prefix_of(params[i].name)) {
      const auto& b = buffers[next_buffer++];
      if (b.buffer.counter)
        refs.push_back(tensor_ref<std::int64_t>(b.name, b.buffer.counter, {}));
      else
        refs.push_back(tensor_ref(b.name, TensorView<const T>(b.buffer.values)));
    }
  }
  MOODNET_ASSERT(next_buffer == buffers.size());
  return refs;
}
}  // namespace detail

// Writes the model's weights and buffers with `metadata` to `path`, atomically.
template <class T>
inline void save_weights(const std::string& path, Model<T>& model, const ModelMetadata& metadata) {
  save_safetensors(path, detail::state_dict_refs(model), metadata.to_map());
}

// Before any tensor is copied: the file's first weight must take the model's input channels and its
// classifier (the last matrix, [classes, features]) give the model's class count — each mismatch a
// one-line error saying what the file holds and what its metadata claims (a file whose metadata
// disagrees with its tensors, or a model built for other data). Other shape mismatches are caught
// by copy_to, tensor by tensor.
namespace detail {
template <class T>
inline void check_input_and_classes(const SafetensorsFile& f, Model<T>& model, const ModelMetadata& md) {
  const auto& params = model.named_parameters();
  if (params.empty()) return;
  const auto& first = params.front();
  const Shape& want = first.param->shape;
  if (const TensorEntry* e = f.find(first.name); e && want.rank() == 4 && e->shape.size() == 4 && e->shape[1] != want[1])
    fail("checkpoint ", f.path(), ": tensor ", first.name, " has shape ", shape_str(e->shape), ": ", e->shape[1],
         " input channel(s), but the model takes ", want[1], " (__metadata__ \"input_shape\" is \"",
         format_input_shape(md.input), "\")");
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    const Shape& w = it->param->shape;
    if (w.rank() != 2) continue;
    const TensorEntry* e = f.find(it->name);
    if (e && e->shape.size() == 2 && e->shape[0] != w[0])
      fail("checkpoint ", f.path(), ": tensor ", it->name, " has shape ", shape_str(e->shape), ": ", e->shape[0],
           " outputs, but the model has ", w[0], " classes (__metadata__ \"class_names\" lists ",
           md.class_names.size(), ")");
    break;
  }
}
}  // namespace detail

namespace detail {
// After a tensor is copied: every value finite, and a batchnorm running variance not negative (a
// file of NaN weights would load and predict NaN without a word). Names the file, tensor and element.
template <class T>
inline void check_values(const std::string& path, const std::string& name, TensorView<const T> v) {
  const bool variance = name.size() >= 12 && name.compare(name.size() - 12, 12, ".running_var") == 0;
  for (std::int64_t i = 0; i < v.numel(); ++i) {
    const T x = v.data()[i];
    if (!std::isfinite(x))
      fail("checkpoint ", path, ": tensor ", name, " holds ", x, " at element ", i, ": weights must be finite numbers");
    if (variance && x < 0)
      fail("checkpoint ", path, ": tensor ", name, " holds ", x, " at element ", i, ": a running variance must be >= 0");
  }
}
}  // namespace detail

// Reads every parameter and buffer of `model` from `path`: names, dtypes and shapes must match,
// every value must be finite (running variances >= 0), and the file must hold nothing else.
// Returns the file's metadata (validated first).
template <class T>
inline ModelMetadata load_weights(const std::string& path, Model<T>& model) {
  const SafetensorsFile f = SafetensorsFile::load(path);
  ModelMetadata md = ModelMetadata::from_map(f.metadata(), path);
  detail::check_input_and_classes(f, model, md);
  for (const auto& p : model.named_parameters()) {
    f.copy_to(p.name, p.param->value);
    detail::check_values(path, p.name, TensorView<const T>(p.param->value));
  }
  for (auto& b : model.named_buffers()) {
    if (b.buffer.counter) {
      f.copy_to(b.name, b.buffer.counter, {});
    } else {
      f.copy_to(b.name, b.buffer.values);
      detail::check_values(path, b.name, TensorView<const T>(b.buffer.values));
    }
  }
  f.check_all_read();
  return md;
}

// The metadata a model was saved with (no tensors are copied).
inline ModelMetadata read_weights_metadata(const std::string& path) {
  return ModelMetadata::from_map(SafetensorsFile::load(path).metadata(), path);
}

// Builds the network a metadata record describes (weights still at their initial values): the
// registered model md.model with md's size arguments, input shape and class count.
template <class T = float>
inline Model<T> make_model(const ModelMetadata& md, std::uint64_t seed = 0) {
  return build_model<T>(md.model, md.spec(seed));
}

// Builds the model a weights file describes and loads its weights into it. The build may have at
// most twice as many parameters as the file holds values, plus 65,536 (ModelParameterCap): a
// 160-byte file whose metadata claims CustomNet w 1024 is refused at once instead of allocating 9 GB.
template <class T = float>
inline Model<T> load_model(const std::string& path, ModelMetadata* metadata_out = nullptr) {
  const SafetensorsFile f = SafetensorsFile::load(path);
  const ModelMetadata md = ModelMetadata::from_map(f.metadata(), path);
  std::int64_t values = 0;
  for (const TensorEntry& e : f.tensors()) {
    std::int64_t n = 1;
    for (const std::int64_t d : e.shape) n *= d;  // the header was checked against the file's size
    values += n;
  }
  struct CapGuard {
    ModelParameterCap saved = model_parameter_cap;
    ~CapGuard() { model_parameter_cap = saved; }
  } guard;
  // Twice the file's values (plus 64 Ki): a bound on memory, loose enough that a near miss (a
  // class count or width off by a little) still gets the precise tensor-by-tensor message below.
  model_parameter_cap = {2 * values + (1 << 16), values, "checkpoint " + path};
  Model<T> model = make_model<T>(md);
  model_parameter_cap = guard.saved;
  load_weights(path, model);
  if (metadata_out) *metadata_out = md;
  return model;
}

}  // namespace moodnet::io
