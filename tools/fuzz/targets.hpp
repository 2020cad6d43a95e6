#pragma once
// The fuzz targets (issue 19): each takes any bytes, hands them to one of moodnet's readers of
// untrusted files, and returns whether the reader accepted them. A reader may refuse input only by
// throwing moodnet::Error; anything else is a finding: a crash, an AddressSanitizer or UBSan
// report, another exception (std::bad_alloc included: a size taken from the file unchecked), a
// hang, or memory past libFuzzer's -rss_limit_mb.
//
//   json            io::parse_json (the safetensors header parser)
//   safetensors     SafetensorsFile::from_bytes, then the weights-file path of predict/evaluate:
//                   ModelMetadata::from_map and io::load_model (model built under its parameter cap,
//                   every tensor checked against it)
//   training_state  io::load_training_state and every typed read the trainer makes of it
//                   (TrainProgress fields + validate, the schedule map, an RNG state)
//   fer_csv         data::load_fer2013_csv, strict and skipping (chosen by the input's length)
//   idx             data::load_idx: input = [u16 little-endian n][n bytes images file][labels file]
//   image           data::decode_image (1 or 3 channels, by the input's length), probe_image_file
//                   and jpeg_exif_orientation
//
// Used by the libFuzzer programs (fuzz_target.cpp, clang) and by tests/io/fuzz_corpus.cpp, which
// runs every corpus file through them in the normal (GCC) build.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/exif.hpp"
#include "moodnet/data/fer2013_csv.hpp"
#include "moodnet/data/idx.hpp"
#include "moodnet/data/image_decode.hpp"
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/io/json.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/io/safetensors.hpp"
#include "moodnet/io/training_state.hpp"
#include "moodnet/train/train_state.hpp"

namespace moodnet::fuzz {

// A broken invariant of a reader (not a refusal): reported and aborted on, in every build type
// (assert() is compiled out of the release build the replay test runs in).
inline void expect(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz target: invariant broken: %s\n", what);
  std::abort();
}

// Scratch files for the readers that take a path: one folder per process under /dev/shm (memory,
// when it exists) or $TMPDIR or /tmp, removed at exit.
class Scratch {
 public:
  static Scratch& get() {
    static Scratch s;
    return s;
  }
  // Writes bytes to <folder>/<name> (replacing it) and returns the path.
  std::string write(const std::string& name, const std::uint8_t* data, std::size_t size) {
    const std::string path = dir_ + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    expect(f != nullptr, "cannot create a scratch file");
    expect(size == 0 || std::fwrite(data, 1, size, f) == size, "cannot write a scratch file");
    expect(std::fclose(f) == 0, "cannot write a scratch file");
    return path;
  }
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

 private:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    const std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : tmp && *tmp ? tmp : "/tmp";
    std::string tmpl = base + "/moodnet-fuzz.XXXXXX";
    expect(::mkdtemp(tmpl.data()) != nullptr, "cannot create the scratch folder");
    dir_ = tmpl;
  }
  std::string dir_;
};

// Runs f(); true when it returned, false when it threw moodnet::Error (a refusal). Any other
// exception propagates: libFuzzer reports it as a crash, the replay test as a failure.
template <class F>
inline bool accepts(F&& f) {
  try {
    f();
    return true;
  } catch (const Error&) {
    return false;
  }
}

inline bool json(const std::uint8_t* data, std::size_t size) {
  return accepts([&] {
    const io::Json v = io::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
    const std::string text = io::to_json(v);  // a value read must write back and read again the same
    expect(io::parse_json(text) == v, "a parsed JSON value written back reads as another value");
  });
}

inline bool safetensors(const std::uint8_t* data, std::size_t size) {
  return accepts([&] {
    const io::SafetensorsFile f = io::SafetensorsFile::from_bytes(std::vector<unsigned char>(data, data + size), "fuzz");
    unsigned sum = 0;
    for (const io::TensorEntry& e : f.tensors())  // every tensor's bytes lie inside the file
      for (std::uint64_t i = e.begin; i < e.end; i += 64) sum += f.bytes(e)[i - e.begin];
    (void)sum;
    const io::ModelMetadata md = io::ModelMetadata::from_map(f.metadata(), "fuzz");
    (void)md;
    const std::string path = Scratch::get().write("weights.safetensors", data, size);
    io::load_model<float>(path);
  });
}

inline bool training_state(const std::uint8_t* data, std::size_t size) {
  return accepts([&] {
    const std::string path = Scratch::get().write("last.state.safetensors", data, size);
    const io::TrainingState s = io::load_training_state(path);
    train::TrainProgress p;
    train::TrainProgress::fields(p, [&](const char* key, auto& v) { train::detail::get_field(s, key, v); });
    p.validate(path, 100);
    (void)s.get_map("schedule.");
    if (s.has("rng.data.s0")) (void)s.get_rng("rng.data");
  });
}

inline bool fer_csv(const std::uint8_t* data, std::size_t size) {
  return accepts([&] {
    const std::string path = Scratch::get().write("fer2013.csv", data, size);
    data::CsvOptions o;
    o.bad_items = size % 2 ? data::BadItemPolicy::skip : data::BadItemPolicy::strict;
    o.warn = false;
    const data::Dataset d = data::load_fer2013_csv(path, {"Training", "PublicTest", "PrivateTest"}, o);
    expect(d.labels.numel() == d.size() && d.images.numel() == d.size() * d.image_numel(),
           "a loaded FER-2013 CSV has images and labels of other counts");
  });
}

inline bool idx(const std::uint8_t* data, std::size_t size) {
  return accepts([&] {
    std::size_t n = size >= 2 ? static_cast<std::size_t>(data[0] | (data[1] << 8)) : 0;
    const std::uint8_t* images = data + std::min<std::size_t>(size, 2);
    const std::size_t rest = size - std::min<std::size_t>(size, 2);
    n = std::min(n, rest);
    const std::string img = Scratch::get().write("images-idx3-ubyte", images, n);
    const std::string lab = Scratch::get().write("labels-idx1-ubyte", images + n, rest - n);
    const data::Dataset d = data::load_idx(img, lab);
    expect(d.labels.numel() == d.size() && d.images.numel() == d.size() * d.image_numel(),
           "a loaded IDX dataset has images and labels of other counts");
  });
}

inline bool image(const std::uint8_t* data, std::size_t size) {
  (void)data::jpeg_exif_orientation(data, size);
  const bool probed = accepts([&] {
    const std::string path = Scratch::get().write("image", data, size);
    (void)data::probe_image_file(path, "fuzz");
  });
  const bool decoded = accepts([&] {
    const data::Image img = data::decode_image(data, size, "fuzz", size % 2 ? 3 : 1);
    expect(img.pixels.size() == static_cast<std::size_t>(img.width) * img.height * img.channels,
           "a decoded image's pixel count is not width x height x channels");
  });
  return probed && decoded;
}

// The targets by name (the fuzz programs' names without fuzz_, the corpus folders' names).
struct Target {
  const char* name;
  bool (*run)(const std::uint8_t*, std::size_t);
};
inline constexpr Target kTargets[] = {{"json", json},       {"safetensors", safetensors}, {"training_state", training_state},
                                      {"fer_csv", fer_csv}, {"idx", idx},                 {"image", image}};

}  // namespace moodnet::fuzz
