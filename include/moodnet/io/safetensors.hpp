#pragma once
// safetensors files: the weights-file contract of DESIGN.md (PyTorch state_dict names and shapes).
//
// Layout (all integers little-endian):
//
//   bytes [0, 8)          N, uint64: length of the JSON header
//   bytes [8, 8+N)        UTF-8 JSON object, padded with trailing spaces so 8+N is a multiple of 8:
//                           {"__metadata__": {"key": "value", ...},             (optional, strings only)
//                            "features.0.weight": {"dtype": "F32", "shape": [32, 1, 3, 3],
//                                                  "data_offsets": [0, 1152]}, ...}
//   bytes [8+N, end)      the data section: raw little-endian tensor data, row-major. Offsets are
//                         relative to its start; sorted by offset the tensors tile it exactly — no
//                         holes, no overlap, nothing after the last one.
//
// The writer lays tensors out contiguously in the order given and writes atomically (atomic_file.hpp).
// The reader validates everything above and every error names the file and the tensor or byte offset.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/io/json.hpp"

namespace moodnet::io {

static_assert(std::endian::native == std::endian::little,
              "moodnet's safetensors code copies raw bytes and assumes a little-endian host");

using Metadata = std::map<std::string, std::string>;

// The safetensors dtypes. moodnet writes and copies F32, F64 and I64; the others are recognised
// (so a file holding them still parses) but copy_to() refuses them.
enum class DType { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

inline constexpr struct {
  DType dtype;
  const char* name;
  std::uint64_t size;
} kDTypes[] = {{DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},     {DType::I8, "I8", 1},
               {DType::F8_E5M2, "F8_E5M2", 1}, {DType::F8_E4M3, "F8_E4M3", 1},
               {DType::I16, "I16", 2},   {DType::U16, "U16", 2},   {DType::F16, "F16", 2},
               {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4},   {DType::U32, "U32", 4},
               {DType::F32, "F32", 4},   {DType::F64, "F64", 8},   {DType::I64, "I64", 8},
               {DType::U64, "U64", 8}};

inline const char* dtype_name(DType d) { return kDTypes[static_cast<int>(d)].name; }
inline std::uint64_t dtype_size(DType d) { return kDTypes[static_cast<int>(d)].size; }
// The dtype named `name`, or false when it is not a safetensors dtype.
inline bool parse_dtype(std::string_view name, DType& out) {
  for (const auto& d : kDTypes)
    if (name == d.name) {
      out = d.dtype;
      return true;
    }
  return false;
}

// The dtype of a C++ element type: float -> F32, double -> F64, std::int64_t -> I64.
template <class T>
inline constexpr DType dtype_of() {
  using U = std::remove_const_t<T>;
  static_assert(std::is_same_v<U, float> || std::is_same_v<U, double> || std::is_same_v<U, std::int64_t>,
                "safetensors I/O supports float (F32), double (F64) and std::int64_t (I64)");
  if constexpr (std::is_same_v<U, float>) return DType::F32;
  else if constexpr (std::is_same_v<U, double>) return DType::F64;
  else return DType::I64;
}

// "[32, 1, 3, 3]"
inline std::string shape_str(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
inline std::vector<std::int64_t> shape_dims(const Shape& s) {
  std::vector<std::int64_t> d;
  for (int i = 0; i < s.rank(); ++i) d.push_back(s[i]);
  return d;
}

// One tensor to write: a name, a dtype, a shape and a pointer to numel * dtype_size bytes.
// The data must stay alive until save_safetensors returns.
struct TensorRef {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  const void* data = nullptr;
};

// A TensorRef on typed data: tensor_ref("fc.weight", w.data(), {7, 1024}) or on a TensorView.
template <class T>
inline TensorRef tensor_ref(std::string name, const T* data, std::vector<std::int64_t> shape) {
  return TensorRef{std::move(name), dtype_of<T>(), std::move(shape), data};
}
template <class T>
inline TensorRef tensor_ref(std::string name, TensorView<T> t) {
  return tensor_ref<std::remove_const_t<T>>(std::move(name), t.data(), shape_dims(t.shape()));
}

namespace detail {
inline std::uint64_t read_u64_le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
// numel * element size with overflow checks; false when the shape is invalid or too large.
inline bool byte_size(const std::vector<std::int64_t>& shape, std::uint64_t elem, std::uint64_t& out) {
  std::uint64_t n = elem;
  for (const std::int64_t d : shape) {
    if (d < 0) return false;
    if (d != 0 && n > UINT64_MAX / static_cast<std::uint64_t>(d)) return false;
    n *= static_cast<std::uint64_t>(d);
  }
  out = n;
  return true;
}
}  // namespace detail

// Header JSON + data layout for `tensors`, padded to 8 bytes; shared by the writer and tests.
inline std::string safetensors_header(const std::vector<TensorRef>& tensors, const Metadata& metadata,
                                      const std::string& path_for_errors) {
  Json::Object header;
  if (!metadata.empty()) {
    Json::Object meta;
    for (const auto& [k, v] : metadata) meta.emplace_back(k, Json(v));
    header.emplace_back("__metadata__", Json(std::move(meta)));
  }
  std::uint64_t offset = 0;
  std::unordered_map<std::string, int> seen;
  for (const auto& t : tensors) {
    MOODNET_CHECK(!t.name.empty() && t.name != "__metadata__", "checkpoint ", path_for_errors,
                  ": invalid tensor name \"", t.name, "\"");
    MOODNET_CHECK(seen.emplace(t.name, 0).second, "checkpoint ", path_for_errors, ": tensor ", t.name,
                  " is given twice");
    std::uint64_t nbytes = 0;
    MOODNET_CHECK(detail::byte_size(t.shape, dtype_size(t.dtype), nbytes), "checkpoint ", path_for_errors,
                  ": tensor ", t.name, " has an invalid shape ", shape_str(t.shape));
    MOODNET_CHECK(nbytes == 0 || t.data != nullptr, "checkpoint ", path_for_errors, ": tensor ", t.name,
                  " has no data");
    Json::Array shape;
    for (const std::int64_t d : t.shape) shape.emplace_back(d);
    Json::Array offsets{Json(static_cast<std::int64_t>(offset)), Json(static_cast<std::int64_t>(offset + nbytes))};
    header.emplace_back(t.name, Json(Json::Object{{"dtype", Json(dtype_name(t.dtype))},
                                                  {"shape", Json(std::move(shape))},
                                                  {"data_offsets", Json(std::move(offsets))}}));
    offset += nbytes;
  }
  std::string text = to_json(Json(std::move(header)));
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');  // the data section starts 8-byte aligned
  return text;
}

// Writes `tensors` (contiguously, in this order) and string `metadata` to `path`, atomically.
// Throws moodnet::Error naming the file and the tensor on a duplicate name or a bad shape.
inline void save_safetensors(const std::string& path, const std::vector<TensorRef>& tensors,
                             const Metadata& metadata = {}) {
  const std::string header = safetensors_header(tensors, metadata, path);
  write_file_atomic(path, [&](FileSink& sink) {
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
    sink.write(len, 8);
    sink.write(header);
    for (const auto& t : tensors) {
      std::uint64_t nbytes = 0;
      detail::byte_size(t.shape, dtype_size(t.dtype), nbytes);
      if (nbytes) sink.write(t.data, nbytes);
    }
  });
}

// One tensor of a loaded file: where its bytes are in the data section.
struct TensorEntry {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // data_offsets, relative to the data section
  std::int64_t numel() const {
    std::int64_t n = 1;
    for (const auto d : shape) n *= d;
    return n;
  }
};

// A safetensors file read into memory and validated. Typical use when loading a model:
//
//   auto f = SafetensorsFile::load(path);
//   f.copy_to("features.0.weight", conv.weight());          // checks dtype F32 and the shape
//   f.copy_to("features.1.num_batches_tracked", &nbt, {});  // I64 scalar
//   f.check_all_read();                                     // no unexpected tensors left
class SafetensorsFile {
 public:
  // Largest header accepted (the Rust reference implementation's limit).
  static constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

  static SafetensorsFile load(const std::string& path) {
    return from_bytes(read_file_bytes(path), path);
  }

  // Parses and validates `bytes`; `path` is only used in messages.
  static SafetensorsFile from_bytes(std::vector<unsigned char> bytes, const std::string& path) {
    SafetensorsFile f;
    f.path_ = path;
    f.bytes_ = std::move(bytes);
    f.parse();
    return f;
  }

  const std::string& path() const { return path_; }
  // Tensors in header order.
  const std::vector<TensorEntry>& tensors() const { return tensors_; }
  const Metadata& metadata() const { return metadata_; }

  bool contains(std::string_view name) const { return index_.count(std::string(name)) != 0; }
  // The entry named `name`, or nullptr.
  const TensorEntry* find(std::string_view name) const {
    const auto it = index_.find(std::string(name));
    return it == index_.end() ? nullptr : &tensors_[it->second];
  }
  // The entry named `name`; throws "checkpoint <file>: tensor <name> is missing".
  const TensorEntry& at(std::string_view name) const {
    const TensorEntry* e = find(name);
    if (!e) fail("checkpoint ", path_, ": tensor ", name, " is missing");
    return *e;
  }
  // Raw little-endian bytes of a tensor (end - begin of them).
  const unsigned char* bytes(const TensorEntry& e) const { return bytes_.data() + data_start_ + e.begin; }

  // Copies tensor `name` into dst (numel(expected_shape) elements), checking that the file's dtype
  // is dtype_of<T>() and its shape is expected_shape; marks the tensor as read.
  template <class T>
  void copy_to(std::string_view name, T* dst, const std::vector<std::int64_t>& expected_shape) const {
    const TensorEntry& e = at(name);
    if (e.dtype != dtype_of<T>())
      fail("checkpoint ", path_, ": tensor ", name, " has dtype ", dtype_name(e.dtype), ", the model expects ",
           dtype_name(dtype_of<T>()));
    if (e.shape != expected_shape)
      fail("checkpoint ", path_, ": tensor ", name, " has shape ", shape_str(e.shape), ", the model expects ",
           shape_str(expected_shape));
    if (e.end > e.begin) std::memcpy(dst, bytes(e), e.end - e.begin);
    read_[index_.at(std::string(name))] = true;
  }
  // Same, into a tensor view whose shape is the expected one.
  template <class T>
  void copy_to(std::string_view name, TensorView<T> dst) const {
    copy_to(name, dst.data(), shape_dims(dst.shape()));
  }
  // Tensor `name` as a new vector (any shape), checking only the dtype; marks it as read.
  template <class T>
  std::vector<T> read_vector(std::string_view name) const {
    const TensorEntry& e = at(name);
    std::vector<T> out(static_cast<std::size_t>(e.numel()));
    copy_to(name, out.data(), e.shape);
    return out;
  }

  // Names never passed to copy_to/read_vector, in header order.
  std::vector<std::string> unread_names() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < tensors_.size(); ++i)
      if (!read_[i]) out.push_back(tensors_[i].name);
    return out;
  }
  // Throws "checkpoint <file>: unexpected tensors a, b (the model has no such parameters)" when any
  // tensor was never read — a file from another model or width.
  void check_all_read() const {
    const auto extra = unread_names();
    if (extra.empty()) return;
    std::string list;
    for (std::size_t i = 0; i < extra.size() && i < 10; ++i) list += (i ? ", " : "") + extra[i];
    if (extra.size() > 10) list += ", ... (" + std::to_string(extra.size()) + " in all)";
    fail("checkpoint ", path_, ": unexpected tensors ", list, " (the model has no such parameters)");
  }

 private:
  [[noreturn]] void bad(const std::string& what) const { fail("checkpoint ", path_, ": ", what); }

  void parse() {
    const std::uint64_t size = bytes_.size();
    if (size < 8) bad("file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
    const std::uint64_t n = detail::read_u64_le(bytes_.data());
    if (n > kMaxHeaderBytes) bad("header length " + std::to_string(n) + " at byte 0 is larger than the limit of 100 MB");
    if (n > size - 8)
      bad("header length " + std::to_string(n) + " at byte 0 runs past the end of the " + std::to_string(size) +
          "-byte file (truncated?)");
    if (n < 2 || bytes_[8] != '{') bad("header at byte 8 is not a JSON object");
    data_start_ = 8 + n;
    const std::uint64_t data_size = size - data_start_;
    Json header;
    try {
      header = parse_json(std::string_view(reinterpret_cast<const char*>(bytes_.data() + 8), n));
    } catch (const Error& e) {
      bad(std::string("header is not valid JSON (offsets from byte 8): ") + e.what());
    }
    if (!header.is_object()) bad("header at byte 8 is not a JSON object");

    for (const auto& [name, v] : header.as_object()) {
      if (name == "__metadata__") {
        if (!v.is_object()) bad("__metadata__ is not an object");
        for (const auto& [k, s] : v.as_object()) {
          if (!s.is_string()) bad("__metadata__ value of \"" + k + "\" is not a string");
          metadata_[k] = s.as_string();
        }
        continue;
      }
      tensors_.push_back(parse_entry(name, v));
    }

    // Sorted by offset, the tensors must tile [0, data_size) exactly.
    std::vector<std::size_t> order(tensors_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return tensors_[a].begin != tensors_[b].begin ? tensors_[a].begin < tensors_[b].begin
                                                    : tensors_[a].end < tensors_[b].end;
    });
    std::uint64_t expected = 0;
    for (const std::size_t i : order) {
      const TensorEntry& e = tensors_[i];
      if (e.begin < expected)
        bad("tensor " + e.name + " (data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
            "]) overlaps the tensor before it, which ends at offset " + std::to_string(expected));
      if (e.begin > expected)
        bad("data section has a hole at offsets [" + std::to_string(expected) + ", " + std::to_string(e.begin) +
            ") before tensor " + e.name);
      if (e.end > data_size)
        bad("tensor " + e.name + " (data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
            "]) runs past the end of the " + std::to_string(data_size) + "-byte data section (truncated?)");
      expected = e.end;
    }
    if (expected != data_size)
      bad("data section is " + std::to_string(data_size) + " bytes but the tensors cover " +
          std::to_string(expected) + " (trailing bytes from offset " + std::to_string(expected) + ")");

    read_.assign(tensors_.size(), false);
    for (std::size_t i = 0; i < tensors_.size(); ++i) index_[tensors_[i].name] = i;
  }

  TensorEntry parse_entry(const std::string& name, const Json& v) const {
    const std::string where = "tensor " + name;
    if (!v.is_object()) bad(where + ": entry is not an object");
    for (const auto& kv : v.as_object())
      if (kv.first != "dtype" && kv.first != "shape" && kv.first != "data_offsets")
        bad(where + ": unknown field \"" + kv.first + "\"");
    const Json* dtype = v.find("dtype");
    const Json* shape = v.find("shape");
    const Json* offsets = v.find("data_offsets");
    if (!dtype || !dtype->is_string()) bad(where + ": missing or non-string \"dtype\"");
    if (!shape || !shape->is_array()) bad(where + ": missing or non-array \"shape\"");
    if (!offsets || !offsets->is_array() || offsets->as_array().size() != 2)
      bad(where + ": \"data_offsets\" must be an array [begin, end]");
    TensorEntry e;
    e.name = name;
    if (!parse_dtype(dtype->as_string(), e.dtype)) bad(where + ": unknown dtype \"" + dtype->as_string() + "\"");
    for (const Json& d : shape->as_array()) {
      if (!d.is_int() || d.as_int() < 0) bad(where + ": shape entries must be integers >= 0");
      e.shape.push_back(d.as_int());
    }
    const Json& b = offsets->as_array()[0];
    const Json& en = offsets->as_array()[1];
    if (!b.is_int() || !en.is_int() || b.as_int() < 0 || en.as_int() < b.as_int())
      bad(where + ": data_offsets must be integers with 0 <= begin <= end");
    e.begin = static_cast<std::uint64_t>(b.as_int());
    e.end = static_cast<std::uint64_t>(en.as_int());
    std::uint64_t nbytes = 0;
    if (!detail::byte_size(e.shape, dtype_size(e.dtype), nbytes) || nbytes != e.end - e.begin)
      bad(where + ": shape " + shape_str(e.shape) + " of " + dtype_name(e.dtype) + " needs " +
          std::to_string(nbytes) + " bytes but data_offsets [" + std::to_string(e.begin) + ", " +
          std::to_string(e.end) + "] hold " + std::to_string(e.end - e.begin));
    return e;
  }

  std::string path_;
  std::vector<unsigned char> bytes_;
  std::uint64_t data_start_ = 0;
  std::vector<TensorEntry> tensors_;
  std::unordered_map<std::string, std::size_t> index_;
  Metadata metadata_;
  mutable std::vector<bool> read_;
};

}  // namespace moodnet::io
