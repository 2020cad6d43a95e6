#pragma once
// The training-state file kept beside the weights: what resuming needs and inference does not.
// It is a safetensors file (so the same validation applies and Python can read it):
//
//   tensors        named buffers — optimizer moments ("adam.m", "adam.v" as F32 over the parameter
//                  arena), anything else the trainer needs as F32/F64/I64
//   __metadata__   "format": "moodnet-training-state-1" plus the trainer's scalar values as strings:
//                  step, epoch, schedule state ("schedule.*"), RNG state ("rng.*"), ...
//
// The trainer and optimizer decide the names; this file only stores and validates them.
//
//   TrainingState s;
//   s.set_int("step", step);
//   s.set_rng("rng.data", data_rng.state());
//   s.set_map("schedule.", schedule.state());
//   s.add_buffer("adam.m", m.data(), {n});
//   save_training_state("run/last.state.safetensors", s);
//   ...
//   TrainingState r = load_training_state(path);
//   r.copy_buffer("adam.m", m.data(), {n});     // throws on a wrong size: "has shape [10], expected [12]"
//   step = r.get_int("step");
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/io/json.hpp"
#include "moodnet/io/safetensors.hpp"

namespace moodnet::io {

inline constexpr const char* kTrainingStateFormat = "moodnet-training-state-1";

class TrainingState {
 public:
  struct Buffer {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::vector<unsigned char> bytes;
  };

  TrainingState() = default;

  // ---- scalar values (stored as strings in __metadata__) -----------------------------------------
  void set_string(const std::string& key, std::string value) {
    MOODNET_CHECK(key != "format", "training state: the key \"format\" is reserved");
    values_[key] = std::move(value);
  }
  void set_int(const std::string& key, std::int64_t v) { set_string(key, std::to_string(v)); }
  void set_uint(const std::string& key, std::uint64_t v) { set_string(key, std::to_string(v)); }
  // Exact: the shortest text that reads back as the same double (inf/-inf allowed).
  void set_double(const std::string& key, double v) {
    MOODNET_CHECK(!std::isnan(v), "training state: value \"", key, "\" is NaN");
    set_string(key, format_double(v));
  }
  // Every entry of `m` under `prefix` + key (e.g. "schedule." + "step").
  void set_map(const std::string& prefix, const Metadata& m) {
    for (const auto& [k, v] : m) set_string(prefix + k, v);
  }
  void set_rng(const std::string& prefix, const Rng::State& s) {
    for (int i = 0; i < 4; ++i) set_uint(prefix + ".s" + std::to_string(i), s.s[i]);
    // The cached normal is stored by its bits so even -0.0 and subnormals come back exactly.
    std::uint64_t bits = 0;
    std::memcpy(&bits, &s.cached_normal, 8);
    set_uint(prefix + ".cached_normal_bits", bits);
    set_int(prefix + ".has_cached_normal", s.has_cached_normal ? 1 : 0);
  }

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::string& get_string(const std::string& key) const {
    const auto it = values_.find(key);
    if (it == values_.end()) fail("training state ", path_, ": value \"", key, "\" is missing");
    return it->second;
  }
  std::int64_t get_int(const std::string& key) const { return parse_number<std::int64_t>(key); }
  std::uint64_t get_uint(const std::string& key) const { return parse_number<std::uint64_t>(key); }
  double get_double(const std::string& key) const { return parse_number<double>(key); }
  // The entries under `prefix`, with the prefix removed.
  Metadata get_map(const std::string& prefix) const {
    Metadata out;
    for (auto it = values_.lower_bound(prefix); it != values_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
      out[it->first.substr(prefix.size())] = it->second;
    return out;
  }
  Rng::State get_rng(const std::string& prefix) const {
    Rng::State s;
    for (int i = 0; i < 4; ++i) s.s[i] = get_uint(prefix + ".s" + std::to_string(i));
    const std::uint64_t bits = get_uint(prefix + ".cached_normal_bits");
    std::memcpy(&s.cached_normal, &bits, 8);
    const std::int64_t has = get_int(prefix + ".has_cached_normal");
    if (has != 0 && has != 1) fail("training state ", path_, ": value \"", prefix, ".has_cached_normal\" must be 0 or 1");
    s.has_cached_normal = has == 1;
    return s;
  }
  const Metadata& values() const { return values_; }

  // ---- buffers ----------------------------------------------------------------------------------
  // Copies numel(shape) elements from `data` (float, double or int64).
  template <class T>
  void add_buffer(const std::string& name, const T* data, std::vector<std::int64_t> shape) {
    MOODNET_CHECK(find(name) == nullptr, "training state: buffer ", name, " is added twice");
    Buffer b{name, dtype_of<T>(), std::move(shape), {}};
    std::uint64_t nbytes = 0;
    MOODNET_CHECK(detail::byte_size(b.shape, sizeof(T), nbytes), "training state: buffer ", name,
                  " has an invalid shape ", shape_str(b.shape));
    b.bytes.resize(nbytes);
    if (nbytes) std::memcpy(b.bytes.data(), data, nbytes);
    buffers_.push_back(std::move(b));
  }
  bool has_buffer(const std::string& name) const { return find(name) != nullptr; }
  // Copies buffer `name` into dst, checking its dtype and that its shape is expected_shape.
  template <class T>
  void copy_buffer(const std::string& name, T* dst, const std::vector<std::int64_t>& expected_shape) const {
    const Buffer* b = find(name);
    if (!b) fail("training state ", path_, ": buffer ", name, " is missing");
    if (b->dtype != dtype_of<T>())
      fail("training state ", path_, ": buffer ", name, " has dtype ", dtype_name(b->dtype), ", expected ",
           dtype_name(dtype_of<T>()));
    if (b->shape != expected_shape)
      fail("training state ", path_, ": buffer ", name, " has shape ", shape_str(b->shape), ", expected ",
           shape_str(expected_shape), " (was it saved for another model?)");
    if (!b->bytes.empty()) std::memcpy(dst, b->bytes.data(), b->bytes.size());
  }
  const std::vector<Buffer>& buffers() const { return buffers_; }

  // The file this state was loaded from ("" when built in memory); used in messages.
  const std::string& path() const { return path_; }

 private:
  friend TrainingState load_training_state(const std::string& path);

  const Buffer* find(const std::string& name) const {
    for (const auto& b : buffers_)
      if (b.name == name) return &b;
    return nullptr;
  }
  template <class T>
  T parse_number(const std::string& key) const {
    const std::string& s = get_string(key);
    T v{};
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty())
      fail("training state ", path_, ": value \"", key, "\" is \"", s, "\", not a valid number");
    return v;
  }

  std::vector<Buffer> buffers_;
  Metadata values_;
  std::string path_;
};

// Writes `state` to `path` atomically (a safetensors file, see the file comment).
inline void save_training_state(const std::string& path, const TrainingState& state) {
  std::vector<TensorRef> refs;
  for (const auto& b : state.buffers()) refs.push_back(TensorRef{b.name, b.dtype, b.shape, b.bytes.data()});
  Metadata meta = state.values();
  meta["format"] = kTrainingStateFormat;
  save_safetensors(path, refs, meta);
}

// Reads and validates a training-state file; throws naming the file when it is not one.
inline TrainingState load_training_state(const std::string& path) {
  const SafetensorsFile f = SafetensorsFile::load(path);
  const auto fmt = f.metadata().find("format");
  if (fmt == f.metadata().end() || fmt->second != kTrainingStateFormat)
    fail("training state ", path, ": not a moodnet training-state file (__metadata__ \"format\" is ",
         fmt == f.metadata().end() ? std::string("missing") : "\"" + fmt->second + "\"", ", expected \"",
         kTrainingStateFormat, "\")");
  TrainingState s;
  s.path_ = path;
  for (const auto& [k, v] : f.metadata())
    if (k != "format") s.values_[k] = v;
  for (const auto& e : f.tensors()) {
    const unsigned char* p = f.bytes(e);
    s.buffers_.push_back(TrainingState::Buffer{e.name, e.dtype, e.shape, std::vector<unsigned char>(p, p + (e.end - e.begin))});
  }
  return s;
}

}  // namespace moodnet::io
