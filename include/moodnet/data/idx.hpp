#pragma once
// IDX files, the format of MNIST and its relatives (Fashion-MNIST, KMNIST, EMNIST):
//
//   images  magic 00 00 08 03 (type 0x08 = unsigned byte, 3 dimensions), then N, rows, cols as
//           big-endian uint32, then N * rows * cols pixel bytes, row-major       -> uint8 [N, 1, rows, cols]
//   labels  magic 00 00 08 01, then N, then N label bytes                       -> int32 [N]
//
// Files are read plain or gzip-compressed (as downloaded, *.gz; recognised by their first bytes,
// not their name). gzip goes through zlib, which is optional for library users: define
// MOODNET_HAVE_ZLIB and link zlib (in CMake, link moodnet::zlib, which does both); without it a
// gzip file is an error that says so, and plain files still read.
//
// Class names are given by the caller (IdxOptions::class_names) or numbered "0", "1", ...; with
// numbered classes pass the training split's count (num_classes) when reading its test split,
// which may lack a class. Each image is keyed "<images file name>[i]".
//
// Every bad case is a moodnet::Error naming the file: not an IDX file (wrong magic), an element
// type other than unsigned byte, the wrong number of dimensions, zero images, a size beyond
// kMaxImageSide, image and label counts that disagree, data that ends early (truncated) or goes on
// after the last item, a label outside the classes, a gzip stream that cannot be decompressed.
// Before the pixels are read, N * rows * cols is checked against memory (memory.hpp).
//
// EMNIST stores its images transposed (column-major); read as is, they appear mirrored and
// rotated — transpose them yourself if it matters.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#if defined(MOODNET_HAVE_ZLIB)
#include <zlib.h>
#endif

#include "moodnet/core/error.hpp"
#include "moodnet/data/convert.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/image_shape.hpp"

namespace moodnet::data {

struct IdxOptions {
  // Names of labels 0..K-1 in index order; empty = numbered "0".."K-1".
  std::vector<std::string> class_names;
  // K when class_names is empty; 0 = the largest label in the file + 1.
  int num_classes = 0;
  // Stored shape: channels 1 (as in the file) or 3 (replicated), 0 = 1; size 0 x 0 = as in the
  // file, else resized by `resize` (convert.hpp).
  int channels = 0;
  int height = 0, width = 0;
  ResizeMode resize = ResizeMode::crop;
};

// Whether moodnet was compiled with zlib (gzip-compressed IDX files).
inline constexpr bool kHaveZlib =
#if defined(MOODNET_HAVE_ZLIB)
    true;
#else
    false;
#endif

namespace detail {

// A plain or gzip file read front to back. gzip is recognised by its magic bytes 1f 8b.
class IdxStream {
 public:
  explicit IdxStream(const std::filesystem::path& path) : name_(path.string()) {
    std::error_code ec;
    MOODNET_CHECK(std::filesystem::is_regular_file(path, ec), "cannot read IDX file '", name_, "': ",
                  std::filesystem::is_directory(path, ec) ? "it is a folder" : "no such file");
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) fail("cannot open IDX file '", name_, "': ", std::error_code(errno, std::generic_category()).message());
    unsigned char magic[2] = {0, 0};
    gzip_ = std::fread(magic, 1, 2, file_.get()) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    std::rewind(file_.get());
#if defined(MOODNET_HAVE_ZLIB)
    if (gzip_) {
      gz_ = gzopen(path.c_str(), "rb");
      if (!gz_) fail("cannot open gzip file '", name_, "' through zlib");
      gzbuffer(gz_, 1 << 17);
    }
#else
    MOODNET_CHECK(!gzip_, "'", name_,
                  "' is gzip-compressed, but moodnet was compiled without zlib: define MOODNET_HAVE_ZLIB and link "
                  "zlib (CMake: link moodnet::zlib), or gunzip the file");
#endif
  }
  IdxStream(const IdxStream&) = delete;
  IdxStream& operator=(const IdxStream&) = delete;
  ~IdxStream() {
#if defined(MOODNET_HAVE_ZLIB)
    if (gz_) gzclose(gz_);
#endif
  }

  const std::string& name() const { return name_; }
  bool gzip() const { return gzip_; }

  // Reads up to n bytes into dst; fewer only at the end of the (decompressed) data.
  std::size_t read(void* dst, std::size_t n) {
    auto* out = static_cast<unsigned char*>(dst);
    std::size_t got = 0;
    while (got < n) {
      const std::size_t want = std::min<std::size_t>(n - got, std::size_t{1} << 30);
      std::size_t k = 0;
#if defined(MOODNET_HAVE_ZLIB)
      if (gz_) {
        const int r = gzread(gz_, out + got, static_cast<unsigned>(want));
        int err = Z_OK;
        const char* msg = gzerror(gz_, &err);
        // Z_BUF_ERROR: the compressed stream ends early, i.e. the data is truncated (reported by the caller).
        if (r < 0 || (err != Z_OK && err != Z_BUF_ERROR))
          fail("cannot decompress '", name_, "': ", msg ? msg : "zlib error");
        k = static_cast<std::size_t>(r);
      } else
#endif
      {
        k = std::fread(out + got, 1, want, file_.get());
        MOODNET_CHECK(!std::ferror(file_.get()), "read error on '", name_, "'");
      }
      if (k == 0) break;
      got += k;
    }
    return got;
  }

 private:
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::string name_;
  std::unique_ptr<std::FILE, Close> file_;
  bool gzip_ = false;
#if defined(MOODNET_HAVE_ZLIB)
  gzFile gz_ = nullptr;
#endif
};

inline std::uint32_t read_be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

inline const char* idx_type_name(unsigned t) {
  switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
  }
  return "unknown";
}

// Reads and checks the magic and dimensions of an IDX file of unsigned bytes with `rank`
// dimensions; `what` says what the file should hold ("images [N, rows, cols]").
inline std::vector<std::uint32_t> read_idx_header(IdxStream& in, int rank, const char* what) {
  unsigned char magic[4];
  const std::size_t got = in.read(magic, 4);
  MOODNET_CHECK(got == 4, "'", in.name(), "' is truncated: ", got, " bytes, shorter than an IDX header");
  char hex[16], type[8];
  std::snprintf(hex, sizeof hex, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
  std::snprintf(type, sizeof type, "0x%02X", magic[2]);
  MOODNET_CHECK(magic[0] == 0 && magic[1] == 0, "'", in.name(), "' is not an IDX file: it starts with ", hex,
                ", expected 0x000008", rank == 3 ? "03" : "01", " (", what, ")");
  MOODNET_CHECK(magic[2] == 0x08, "'", in.name(), "' holds IDX elements of type ", type, " (",
                idx_type_name(magic[2]), "); moodnet reads unsigned-byte (0x08) ", what);
  MOODNET_CHECK(magic[3] == rank, "'", in.name(), "' is an IDX file of ", unsigned{magic[3]},
                " dimensions, expected ", rank, " (", what, ")");
  unsigned char dims[12];
  const std::size_t want = 4 * static_cast<std::size_t>(rank), have = in.read(dims, want);
  MOODNET_CHECK(have == want, "'", in.name(), "' is truncated: it ends inside its header");
  std::vector<std::uint32_t> d(static_cast<std::size_t>(rank));
  for (int i = 0; i < rank; ++i) d[static_cast<std::size_t>(i)] = read_be32(dims + 4 * i);
  MOODNET_CHECK(d[0] > 0, "'", in.name(), "' holds no items (N = 0)");
  return d;
}

// Before allocating what a header declares (`bytes` after a `header`-byte header): a plain file
// must hold them; a gzip stream inflates to at most 1032 times its compressed size (deflate's
// limit) + 64 KiB. So a 16-byte file declaring 60,000 images of 16384x16384 is refused at once
// instead of allocating up to the machine's memory and then finding the data missing.
inline void check_idx_declared(const IdxStream& in, const std::filesystem::path& path, std::uint64_t header,
                               std::uint64_t bytes, const std::string& layout) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) return;  // the reads that follow report it
  if (!in.gzip())
    MOODNET_CHECK(size >= header + bytes, "'", in.name(), "' is truncated: its header promises ", layout, " = ", bytes,
                  " bytes of data, but only ", size > header ? size - header : 0, " follow");
  else
    MOODNET_CHECK(bytes / 1032 <= size + 64, "'", in.name(), "' is truncated or corrupt: its header promises ", layout,
                  " = ", bytes, " bytes of data, more than its ", size,
                  " compressed bytes can hold (deflate inflates at most 1032:1)");
}

// Reads exactly n bytes, then checks that nothing follows them.
inline void read_idx_body(IdxStream& in, void* dst, std::size_t n, const std::string& layout) {
  const std::size_t got = in.read(dst, n);
  MOODNET_CHECK(got == n, "'", in.name(), "' is truncated: its header promises ", layout, " = ", n,
                " bytes of data, but only ", got, " follow");
  unsigned char extra[4096];
  std::size_t more = 0;
  for (std::size_t k; (k = in.read(extra, sizeof extra)) > 0;) more += k;
  MOODNET_CHECK(more == 0, "'", in.name(), "' has ", more, " bytes after the ", layout,
                " its header promises (not a single IDX file?)");
}

}  // namespace detail

// Reads an IDX images file and its labels file (see the header comment) into a Dataset.
inline Dataset load_idx(const std::filesystem::path& images_file, const std::filesystem::path& labels_file,
                        const IdxOptions& options = {}) {
  MOODNET_CHECK(options.channels == 0 || options.channels == 1 || options.channels == 3,
                "IDX: channels must be 0 (as stored), 1 or 3, got ", options.channels);
  MOODNET_CHECK(options.num_classes >= 0 && options.num_classes <= 256, "IDX: num_classes must be in 0..256, got ",
                options.num_classes);
  detail::IdxStream img(images_file);
  const auto dims = detail::read_idx_header(img, 3, "images [N, rows, cols]");
  const std::uint32_t n = dims[0], rows = dims[1], cols = dims[2];
  MOODNET_CHECK(rows >= 1 && cols >= 1 && rows <= kMaxImageSide && cols <= kMaxImageSide, "'", img.name(),
                "' holds images of ", rows, "x", cols, " pixels; sides must be within 1..", kMaxImageSide);
  const ImageShape stored{1, static_cast<int>(rows), static_cast<int>(cols)};
  checked_dataset_bytes(n, stored, img.name());  // before reading anything more
  const std::string pixels = std::to_string(n) + "x" + std::to_string(rows) + "x" + std::to_string(cols) + " pixels";
  detail::check_idx_declared(img, images_file, 16, std::uint64_t{n} * rows * cols, pixels);

  detail::IdxStream lab(labels_file);
  const auto ldims = detail::read_idx_header(lab, 1, "labels [N]");
  MOODNET_CHECK(ldims[0] == n, "'", img.name(), "' holds ", n, " images but '", lab.name(), "' holds ", ldims[0],
                " labels: the counts must agree");
  detail::check_idx_declared(lab, labels_file, 8, n, std::to_string(n) + " labels");
  std::vector<std::uint8_t> raw(n);
  detail::read_idx_body(lab, raw.data(), n, std::to_string(n) + " labels");

  std::vector<std::string> names = options.class_names;
  const int max_label = *std::max_element(raw.begin(), raw.end());
  if (names.empty()) {
    const int k = options.num_classes > 0 ? options.num_classes : max_label + 1;
    for (int c = 0; c < k; ++c) names.push_back(std::to_string(c));
  }
  const int k = static_cast<int>(names.size());
  for (std::uint32_t i = 0; i < n; ++i)
    MOODNET_CHECK(raw[i] < k, "'", lab.name(), "' item ", i, " has label ", int{raw[i]}, ", outside the ", k,
                  " classes 0..", k - 1, options.class_names.empty() ? " (IdxOptions::num_classes)" : " (the class names given)");

  Dataset d = Dataset::with_capacity(std::move(names), n, stored, img.name());
  detail::read_idx_body(img, d.images.data(), static_cast<std::size_t>(d.images.numel()), pixels);
  const std::string base = images_file.filename().string();
  for (std::uint32_t i = 0; i < n; ++i) {
    d.labels[i] = raw[i];
    d.keys[i] = base + "[" + std::to_string(i) + "]";
  }
  d.report.source = img.name();
  d.report.loaded = n;

  const ImageShape want{options.channels != 0 ? options.channels : 1, options.height != 0 ? options.height : stored.height,
                        options.height != 0 ? options.width : stored.width};
  return want == stored ? std::move(d) : convert_dataset(d, want, options.resize);
}

// The images and labels files of one split in `dir`: for split "train" the file
// train-images-idx3-ubyte (or *-train-images-idx3-ubyte, as EMNIST's emnist-digits-...; also the
// "images.idx3-ubyte" spelling; each plain or .gz) and the labels file of the same name with
// "labels-idx1" for "images-idx3". Split "test" also finds MNIST's t10k-* files. When a file
// exists both plain and gzipped the plain one is used. Throws moodnet::Error naming the folder when
// no file or more than one dataset matches, or the labels file is missing.
struct IdxFiles {
  std::filesystem::path images, labels;
};
inline IdxFiles find_idx_files(const std::filesystem::path& dir, const std::string& split) {
  namespace fs = std::filesystem;
  std::error_code ec;
  MOODNET_CHECK(fs::is_directory(dir, ec), "IDX folder '", dir.string(), "' does not exist or is not a folder");
  std::vector<std::string> prefixes{split};
  if (split == "test") prefixes.push_back("t10k");
  const std::string spellings[2][2] = {{"-images-idx3-ubyte", "-labels-idx1-ubyte"},
                                       {"-images.idx3-ubyte", "-labels.idx1-ubyte"}};
  std::vector<std::string> found;  // base names (without .gz)
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  auto ends_with = [](const std::string& s, const std::string& t) {
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
  };
  for (std::string name : names) {
    if (ends_with(name, ".gz")) name.resize(name.size() - 3);
    for (const auto& p : prefixes)
      for (const auto& sp : spellings) {
        const std::string tail = p + sp[0];
        if ((name == tail || ends_with(name, "-" + tail)) && std::find(found.begin(), found.end(), name) == found.end())
          found.push_back(name);
      }
  }
  MOODNET_CHECK(!found.empty(), "IDX folder '", dir.string(), "' has no images file for split '", split, "' (looked for ",
                split, "-images-idx3-ubyte[.gz]", split == "test" ? " and t10k-images-idx3-ubyte[.gz]" : "", ")");
  if (found.size() > 1) {
    std::string list;
    for (const auto& f : found) {
      if (!list.empty()) list += ", ";
      list += f;
    }
    fail("IDX folder '", dir.string(), "' has ", found.size(), " images files for split '", split, "' (", list,
         "): pass the files to load_idx explicitly");
  }
  auto existing = [&](const std::string& base) {
    if (fs::exists(dir / base, ec)) return dir / base;
    if (fs::exists(dir / (base + ".gz"), ec)) return dir / (base + ".gz");
    return fs::path();
  };
  IdxFiles f;
  f.images = existing(found[0]);
  std::string labels = found[0];
  for (const auto& sp : spellings) {
    const auto at = labels.rfind(sp[0]);
    if (at != std::string::npos) labels.replace(at, sp[0].size(), sp[1]);
  }
  f.labels = existing(labels);
  MOODNET_CHECK(!f.labels.empty(), "IDX folder '", dir.string(), "' has ", f.images.filename().string(),
                " but no labels file ", labels, "[.gz]");
  return f;
}

// Whether `dir` holds IDX images files (any split).
inline bool has_idx_files(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return false;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.find("-images-idx3-ubyte") != std::string::npos || n.find("-images.idx3-ubyte") != std::string::npos) return true;
  }
  return false;
}

// load_idx on the files of `split` in `dir` (find_idx_files).
inline Dataset load_idx_split(const std::filesystem::path& dir, const std::string& split, const IdxOptions& options = {}) {
  const IdxFiles f = find_idx_files(dir, split);
  return load_idx(f.images, f.labels, options);
}

}  // namespace moodnet::data
