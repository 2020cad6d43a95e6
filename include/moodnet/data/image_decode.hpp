#pragma once
// Decoding image files to 8-bit gray or RGB, planar [channels, height, width]. This is the ONE
// moodnet header that includes stb_image: STB_IMAGE_STATIC gives every translation unit its own
// private copy (ODR-safe for a header-only library). Every format stb_image reads is compiled in:
// JPEG (baseline and progressive), PNG (8 and 16 bit), BMP, GIF (first frame), PSD (composite),
// TGA, PIC, PNM (PGM/PPM, 8 and 16 bit) and Radiance HDR (tone-mapped by stb to 8 bit).
// 16-bit samples become 8-bit (the high byte is kept); alpha is dropped (RGBA -> RGB, gray+alpha
// -> gray), as PIL's convert("RGB") / convert("L") do.
//
// Every failure comes back as a moodnet::Error naming the file: stb never asserts (STBI_ASSERT
// throws), never allocates for absurd sizes (STBI_MAX_DIMENSIONS), and a file that ends before
// the decoder is done is reported as truncated instead of being padded with zeros (stb_image would
// silently return such an image: see `truncated` below). An image declaring more than
// kMaxImagePixels is refused from its header, before any pixel is decoded.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/convert.hpp"
#include "moodnet/data/memory_budget.hpp"

namespace moodnet::data::detail {
// stb_image's internal assertions become exceptions: a corrupt file must never abort the program.
[[noreturn]] inline void stb_assert_failed(const char* what) {
  fail("stb_image internal check failed (corrupt image?): ", what);
}
}  // namespace moodnet::data::detail

#ifndef STBI_INCLUDE_STB_IMAGE_H
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO  // we read the bytes ourselves, to name the file in every error
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS (1 << 14)
#define STBI_ASSERT(x) ((x) ? static_cast<void>(0) : ::moodnet::data::detail::stb_assert_failed(#x))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#include <stb_image.h>
#pragma GCC diagnostic pop
#endif

namespace moodnet::data {

// A decoded image, planar: channels x height x width bytes (channels 1 = gray, 3 = R, G, B planes).
struct Image {
  int width = 0, height = 0, channels = 1;
  std::vector<std::uint8_t> pixels;  // [channels, height, width]
  ImageShape shape() const { return {channels, height, width}; }
};
using GrayImage = Image;  // an Image with channels == 1 (decode_gray)

// What a file holds, from its header: size and whether it is colour (1 = gray, 3 = colour; an
// alpha channel is not counted).
struct ImageInfo {
  int width = 0, height = 0, channels = 1;
};

inline constexpr const char* kImageFormats = "JPEG/PNG/BMP/GIF/PSD/TGA/PIC/PNM/HDR";

// Largest image file we read (FER-2013 files are < 3 KB; this only guards against absurd input).
inline constexpr std::uintmax_t kMaxImageFileBytes = std::uintmax_t{256} << 20;
// Most pixels an image may declare (width x height), checked on the header before any decoding:
// 2^25 = 33,554,432 (a 24-megapixel photo fits; 5792 x 5792). Decoding one takes at most about
// 9 bytes a pixel (stb's interleaved RGBA plus the planar copy), 300 MB; a 1.6 KB JPEG claiming
// 16384 x 16384 is refused in microseconds instead of allocating gigabytes.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 25;

namespace detail {
// Why a path that exists is not a file to read: "" for a regular file (links followed), else "it is
// a folder" or "not a regular file (a FIFO)" etc. Opening a FIFO blocks until a writer appears, so a
// FIFO named face.jpg (or one inside a dataset folder) would hang predict and evaluate forever.
inline std::string not_a_file_reason(const std::filesystem::file_status& st) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(st)) return "";
  if (fs::is_directory(st)) return "it is a folder";
  const char* kind = fs::is_fifo(st) ? "a FIFO" : fs::is_socket(st) ? "a socket"
                   : fs::is_block_file(st) || fs::is_character_file(st) ? "a device" : "of an unknown kind";
  return std::string("not a regular file (") + kind + ")";
}
}  // namespace detail

// All bytes of a file. Throws moodnet::Error naming the file when it cannot be opened or read, is
// not a regular file (a folder, FIFO, socket or device: never opened), is empty, or is larger than
// kMaxImageFileBytes.
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  MOODNET_CHECK(!ec && std::filesystem::exists(status), "cannot read '", path.string(),
                "': ", ec ? ec.message() : "no such file");
  const std::string not_a_file = detail::not_a_file_reason(status);
  MOODNET_CHECK(not_a_file.empty(), "cannot read '", path.string(), "': ", not_a_file);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("cannot open '", path.string(), "': ", std::error_code(errno, std::generic_category()).message());
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[16384];
  for (;;) {
    const std::size_t n = std::fread(chunk, 1, sizeof chunk, f.get());
    bytes.insert(bytes.end(), chunk, chunk + n);
    MOODNET_CHECK(bytes.size() <= kMaxImageFileBytes, "'", path.string(), "' is larger than ",
                  kMaxImageFileBytes, " bytes");
    if (n < sizeof chunk) break;
  }
  MOODNET_CHECK(!std::ferror(f.get()), "read error on '", path.string(), "'");
  MOODNET_CHECK(!bytes.empty(), "'", path.string(), "' is empty (0 bytes)");
  return bytes;
}

namespace detail {
// stb reads through these callbacks so we can see whether the decoder asked for bytes after the
// end of the file: stb refills its buffer in blocks of kStbBlock bytes and a short block is normal
// at the end, but a refill that returns nothing, or a short read of any other size (stbi__getn
// reading pixel data directly, whose result the PNM decoder of stb 2.27 ignores) means the
// decoder wanted more than the file holds.
inline constexpr int kStbBlock = 128;  // sizeof(stbi__context::buffer_start)
struct StbReader {
  const std::uint8_t* data;
  std::size_t size, pos = 0;
  bool overran = false;
  static int read(void* user, char* out, int n) {
    auto* r = static_cast<StbReader*>(user);
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(n), r->size - r->pos);
    if (k == 0 || (static_cast<int>(k) < n && n != kStbBlock)) r->overran = true;
    std::copy_n(r->data + r->pos, k, reinterpret_cast<std::uint8_t*>(out));
    r->pos += k;
    return static_cast<int>(k);
  }
  static void skip(void* user, int n) {
    auto* r = static_cast<StbReader*>(user);
    if (n < 0) {
      r->pos -= std::min<std::size_t>(r->pos, static_cast<std::size_t>(-static_cast<long long>(n)));
    } else {
      if (static_cast<std::size_t>(n) > r->size - r->pos) r->overran = true;
      r->pos += std::min<std::size_t>(static_cast<std::size_t>(n), r->size - r->pos);
    }
  }
  static int eof(void* user) {
    auto* r = static_cast<StbReader*>(user);
    return r->pos >= r->size;
  }
};

// Header checks stb_image does not make, run before it sees the bytes.
inline std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}
inline std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
}
// BMP: a width or height of INT_MIN (stb negates it: undefined behaviour, UBSan's report in issue
// 19). Sizes are int32 at bytes 18 and 22 of every header but the 12-byte OS/2 one.
inline void check_bmp_header(const std::uint8_t* b, std::size_t size, const std::string& name) {
  if (size < 26 || b[0] != 'B' || b[1] != 'M' || le32(b + 14) == 12) return;
  for (const std::size_t at : {std::size_t{18}, std::size_t{22}})
    MOODNET_CHECK(le32(b + at) != 0x80000000u, "'", name, "' is corrupt: its BMP ", at == 18 ? "width" : "height",
                  " is -2147483648");
}
// The CRC-32 of PNG chunks (and zlib, gzip): polynomial 0xEDB88320, reflected.
inline std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

// PNG: every chunk's CRC-32 (stb_image ignores them, so a corrupted file decoded to wrong pixels
// silently; PIL refuses it), and the image data's size: stb inflates the whole zlib stream
// whatever the header says, and deflate expands up to 1032:1, so a 1x1 PNG with megabytes of
// IDAT took 1.5 GB. IDAT may hold at most 2x the raw image (h rows of 1 + ceil(w x channels x
// depth / 8) bytes) + 64 KiB, which any encoder's stream fits (stored blocks add 5 bytes per 64
// KiB), so inflating needs at most ~1032 x that. Chunks are walked to IEND; a file that ends first
// is left to the decoder's truncation check.
inline void check_png_chunks(const std::uint8_t* b, std::size_t size, const std::string& name) {
  static const std::uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size < 8 || !std::equal(sig, sig + 8, b)) return;
  std::uint64_t raw = 0, idat = 0;
  for (std::size_t pos = 8; pos + 12 <= size;) {
    const std::uint64_t len = be32(b + pos);
    if (len > size - pos - 12) return;  // runs past the end: truncated
    const std::uint32_t crc = crc32(b + pos + 4, 4 + len);
    const std::string type(reinterpret_cast<const char*>(b + pos + 4), 4);
    const std::uint32_t stored = be32(b + pos + 8 + len);
    if (crc != stored) {
      char detail[64];
      std::snprintf(detail, sizeof detail, "CRC 0x%08x, its bytes give 0x%08x", stored, crc);
      fail("'", name, "' is corrupt: PNG chunk ", type, " at byte ", pos, " has ", detail);
    }
    if (type == "IHDR" && len >= 13) {
      const std::uint8_t* d = b + pos + 8;
      const std::uint64_t w = be32(d), h = be32(d + 4), depth = d[8], colour = d[9];
      const std::uint64_t channels = colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
      raw = h * (1 + (w * channels * depth + 7) / 8);  // w, h < 2^31: no overflow
    }
    if (type == "IDAT") idat += len;
    const std::uint64_t most = 2 * raw + (1 << 16);
    if (raw > 0 && idat > most)
      fail("'", name, "' is corrupt: its PNG image data is over ", idat, " compressed bytes, more than its ",
           be32(b + 16), "x", be32(b + 20), " pixels can need (", most, ")");
    if (type == "IEND") return;
    pos += 12 + len;
  }
}

// JPEG: every Huffman table (DHT segment) lists at most 256 codes. stb_image 2.27 (Debian 12's)
// builds a table from its 16 code counts without checking their sum and writes past the table's
// 257-entry size list (found by fuzzing: tools/fuzz, corpus/image/bad-jpeg-dht-*; stb 2.28
// added the check). The segments are walked as stb reads them: markers back to back, the bytes of
// a scan skipped up to its next marker (progressive files define tables between scans), a table
// read past its segment's end as stb's loop does. `header_only`: stop at the frame header
// (SOF), as stbi_info does. Returns false when the bytes end before that point (header_only) or
// before the end-of-image marker.
inline bool check_jpeg_huffman_tables(const std::uint8_t* b, std::size_t size, const std::string& name,
                                      bool header_only = false) {
  // stb takes any run of 0xFF fill bytes before the start-of-image marker (FF FF D8 is a JPEG to it)
  std::size_t soi = 1;
  if (size < 4 || b[0] != 0xFF) return true;
  while (soi < size && b[soi] == 0xFF) ++soi;
  if (soi >= size || b[soi] != 0xD8) return true;
  const auto byte = [&](std::size_t i) -> std::size_t { return i < size ? b[i] : 0; };  // stb reads 0 past the end
  for (std::size_t at = soi + 1; at + 4 <= size;) {
    if (b[at] != 0xFF) {  // inside a scan's entropy-coded data: on to the next marker
      ++at;
      continue;
    }
    const std::uint8_t m = b[at + 1];
    if (m == 0xFF || m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // fill, stuffed byte, markers without a length
      at += m == 0xFF ? 1 : 2;
      continue;
    }
    const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (m == 0xD9 || (header_only && (sof || m == 0xDA))) return true;
    const std::size_t length = (byte(at + 2) << 8) | byte(at + 3);
    if (m == 0xC4) {
      std::size_t p = at + 4;
      for (long left = static_cast<long>(length) - 2; left > 0 && p < size;) {
        std::size_t codes = 0;
        for (std::size_t i = 1; i <= 16; ++i) codes += byte(p + i);
        MOODNET_CHECK(codes <= 256, "'", name, "' is a corrupt JPEG: its Huffman table at byte ", p, " lists ", codes,
                      " codes, more than the 256 a table can hold");
        left -= static_cast<long>(17 + codes);
        p += 17 + codes;
      }
    }
    at += 2 + length;
  }
  return false;
}

// PGM/PPM (P5, P6): the header's width, height and maxval fit an int. stb_image 2.27 reads them
// into an int digit by digit without a bound (UBSan: signed integer overflow in
// stbi__pnm_getinteger, found by fuzzing: corpus/image/bad-pnm-huge-maxval.pgm). The header is
// walked as stb does (whitespace, # comments to the end of the line). Returns false when the
// bytes end before the third number (probe_image_file then reads on).
inline bool check_pnm_header(const std::uint8_t* b, std::size_t size, const std::string& name) {
  if (size < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return true;
  const auto space = [](std::uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  std::size_t at = 2;
  for (const char* field : {"width", "height", "maxval"}) {
    for (;;) {  // whitespace, then a comment line, again
      while (at < size && space(b[at])) ++at;
      if (at >= size || b[at] != '#') break;
      while (at < size && b[at] != '\n' && b[at] != '\r') ++at;
    }
    std::int64_t v = 0;
    for (; at < size && b[at] >= '0' && b[at] <= '9'; ++at) {
      v = v * 10 + (b[at] - '0');
      MOODNET_CHECK(v <= 0x7fffffff, "'", name, "' is corrupt: its PNM ", field, " has more digits than an int holds");
    }
    if (at >= size) return false;
  }
  return true;
}

// stb_image tries its formats one after another, rewinding between tries; reading through
// callbacks, a rewind only goes back to the start of its last 128-byte block, so a try that read
// further and failed hands the next format a block from the middle of the file (a JPEG's header
// failing after 128 bytes made the PNM reader parse digits found there and overflow an int:
// UBSan in stbi__pnm_getinteger, found by fuzzing, corpus/image/bad-jpeg-header-then-pnm.jpg).
// So every header is parsed from memory (stbi_info_from_memory, whose rewind is exact), and the
// decoding pass through callbacks only follows a header that parsed: every format's test then
// reads less than one block, except JPEG's, which reads any run of 0xFF fill bytes before the
// start-of-image marker; a run longer than kMaxJpegFill is refused (encoders write none).
inline constexpr std::size_t kMaxJpegFill = 64;
inline void check_leading_fill(const std::uint8_t* b, std::size_t size, const std::string& name) {
  std::size_t run = 0;
  while (run < size && b[run] == 0xFF) ++run;
  MOODNET_CHECK(run <= kMaxJpegFill + 1, "'", name, "' is corrupt: it starts with ", run,
                " 0xFF bytes (a JPEG has at most ", kMaxJpegFill, " fill bytes before its start marker here)");
}

// The checks every header gets before stb parses it (decode_image on the whole file, probe_image_file
// on a prefix, `header_only`: a JPEG's tables up to its frame header). Returns false when the bytes
// end before the JPEG or PNM checks could finish (the probe then reads more).
inline bool check_headers(const std::uint8_t* b, std::size_t size, const std::string& name, bool header_only) {
  check_leading_fill(b, size, name);
  check_bmp_header(b, size, name);  // before stb parses it, even for its size
  const bool jpeg_done = check_jpeg_huffman_tables(b, size, name, header_only);
  const bool pnm_done = check_pnm_header(b, size, name);
  return jpeg_done && pnm_done;
}

// stb could not read `name`: its reason, or `otherwise` when it gives none.
[[noreturn]] inline void fail_undecodable(const std::string& name, const char* otherwise) {
  const char* why = stbi_failure_reason();
  fail("cannot decode '", name, "' as an image (", kImageFormats, "): ", why ? why : otherwise);
}

// 16-bit PGM/PPM (maxval > 255). stb_image 2.27 copies their big-endian samples without swapping
// them, so its own 16 -> 8 bit step keeps the LOW byte; we load them as 16 bit and keep the high
// byte (as stb does for 16-bit PNG). Whether this stb swaps is found once from a 1-pixel file.
inline bool is_pnm16(const std::uint8_t* bytes, std::size_t size) {
  if (size < 3 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return false;
  return stbi_is_16_bit_from_memory(bytes, static_cast<int>(size)) != 0;
}
inline bool stb_swaps_pnm16() {
  static const bool swaps = [] {
    const std::uint8_t probe[] = {'P', '5', '\n', '1', ' ', '1', '\n', '6', '5', '5', '3', '5', '\n', 0x01, 0x02};
    int w = 0, h = 0, c = 0;
    stbi_us* v = stbi_load_16_from_memory(probe, sizeof probe, &w, &h, &c, 0);
    const bool big_endian_read = v && v[0] == 0x0102;
    stbi_image_free(v);
    return big_endian_read;
  }();
  return swaps;
}
inline stbi_uc* load_pnm16_as_8bit(const stbi_io_callbacks* cb, StbReader* r, int* w, int* h, int* comp) {
  stbi_us* v = stbi_load_16_from_callbacks(cb, r, w, h, comp, 0);
  if (!v) return nullptr;
  const std::size_t n = static_cast<std::size_t>(*w) * static_cast<std::size_t>(*h) * static_cast<std::size_t>(*comp);
  auto* out = static_cast<stbi_uc*>(STBI_MALLOC(n));
  const bool swaps = stb_swaps_pnm16();
  for (std::size_t i = 0; i < n && out; ++i) {
    const auto* b = reinterpret_cast<const std::uint8_t*>(v + i);  // the file's bytes when stb did not swap
    out[i] = swaps ? static_cast<stbi_uc>(v[i] >> 8) : b[0];
  }
  stbi_image_free(v);
  return out;
}
}  // namespace detail

// Decodes image bytes (any format above) to `channels` planes: 1 = gray (colour images by BT.601
// luma, as PIL's convert("L")), 3 = RGB (gray images replicated), 0 = as stored (1 for gray,
// 3 for colour). `name` (the file path or key) appears in every error message.
inline Image decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name, int channels) {
  MOODNET_CHECK(channels == 0 || channels == 1 || channels == 3, "decode '", name,
                "': channels must be 0 (as stored), 1 or 3, got ", channels);
  MOODNET_CHECK(size > 0, "'", name, "' is empty (0 bytes)");
  MOODNET_CHECK(size <= kMaxImageFileBytes, "'", name, "' is too large");
  detail::StbReader reader{bytes, size};
  const stbi_io_callbacks callbacks{&detail::StbReader::read, &detail::StbReader::skip, &detail::StbReader::eof};
  int w = 0, h = 0, stored = 0;
  detail::check_headers(bytes, size, name, false);
  if (!stbi_info_from_memory(bytes, static_cast<int>(size), &w, &h, &stored))  // the header alone
    detail::fail_undecodable(name, "unknown format");
  MOODNET_CHECK(static_cast<std::int64_t>(w) * h <= kMaxImagePixels, "'", name, "' declares ", w, "x", h, " = ",
                static_cast<std::int64_t>(w) * h, " pixels, more than the limit of ", kMaxImagePixels,
                " (2^25) moodnet decodes");
  // What this decode holds at its peak (stb's interleaved pixels and JPEG component buffers, the
  // planar copy, the file), reserved from the loading threads' shared budget (data/memory_budget.hpp).
  const int out_channels = channels != 0 ? channels : stored <= 2 ? 1 : 3;
  const DecodeReservation reservation(static_cast<std::uint64_t>(w) * static_cast<std::uint64_t>(h) *
                                          static_cast<std::uint64_t>(2 * stored + out_channels) + size);
  detail::check_png_chunks(bytes, size, name);
  std::unique_ptr<stbi_uc, void (*)(void*)> px(nullptr, &stbi_image_free);
  if (detail::is_pnm16(bytes, size)) {
    px.reset(detail::load_pnm16_as_8bit(&callbacks, &reader, &w, &h, &stored));
  } else {
    px.reset(stbi_load_from_callbacks(&callbacks, &reader, &w, &h, &stored, 0));
  }
  if (!px) detail::fail_undecodable(name, "unknown error");
  MOODNET_CHECK(!reader.overran, "'", name, "' is truncated: the image data ends early (", size, " bytes)");
  MOODNET_CHECK(w > 0 && h > 0 && stored >= 1 && stored <= 4, "'", name, "' has unsupported size ", w, "x", h,
                " with ", stored, " channels");
  Image img;
  img.width = w;
  img.height = h;
  img.channels = out_channels;
  const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
  img.pixels.resize(n * static_cast<std::size_t>(img.channels));
  std::uint8_t* out = img.pixels.data();
  const stbi_uc* p = px.get();  // interleaved; stored 1: gray, 2: gray+alpha, 3: RGB, 4: RGBA
  if (img.channels == 1) {
    for (std::size_t i = 0; i < n; ++i, p += stored) out[i] = stored <= 2 ? p[0] : luma_bt601(p[0], p[1], p[2]);
  } else {
    for (std::size_t i = 0; i < n; ++i, p += stored)
      for (int c = 0; c < 3; ++c) out[static_cast<std::size_t>(c) * n + i] = p[stored <= 2 ? 0 : c];
  }
  return img;
}

// Decodes to 8-bit gray (decode_image with channels 1).
inline GrayImage decode_gray(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
  return decode_image(bytes, size, name, 1);
}

// Reads and decodes one image file (see decode_image); errors name the path.
inline Image load_image(const std::filesystem::path& path, int channels) {
  const auto bytes = read_file_bytes(path);
  return decode_image(bytes.data(), bytes.size(), path.string(), channels);
}
inline GrayImage load_gray(const std::filesystem::path& path) { return load_image(path, 1); }

// The size and colour of an image file from its header alone (read from the file's first 64 KiB, more
// only while they hold no complete header: probing a folder of large photos costs little I/O). Throws
// moodnet::Error naming `name` when the file cannot be opened or is not an image stb can read.
inline ImageInfo probe_image_file(const std::filesystem::path& path, const std::string& name) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  MOODNET_CHECK(std::filesystem::exists(status), "cannot read '", name, "': ",
                ec && ec != std::errc::no_such_file_or_directory ? ec.message() : "no such file");
  const std::string not_a_file = detail::not_a_file_reason(status);
  MOODNET_CHECK(not_a_file.empty(), "cannot read '", name, "': ", not_a_file);
  MOODNET_CHECK(std::filesystem::file_size(path, ec) != 0 || ec, "'", name, "' is empty (0 bytes)");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) fail("cannot open '", name, "': ", std::error_code(errno, std::generic_category()).message());
  // The header is parsed from a prefix of the file in memory (see check_leading_fill for why not
  // through callbacks): 64 KiB, doubled until stb reads a header from it or the file has no more
  // (a JPEG's tables or a Radiance header's text may be long). The checks decode_image makes on
  // headers come first, on the same prefix: a JPEG's tables up to the frame header, a PNM's numbers.
  std::vector<std::uint8_t> prefix;
  ImageInfo info;
  int stored = 0;
  for (std::size_t chunk = std::size_t{1} << 16;; chunk *= 2) {
    const std::size_t old = prefix.size();
    prefix.resize(old + chunk);
    prefix.resize(old + std::fread(prefix.data() + old, 1, chunk, f.get()));
    MOODNET_CHECK(!std::ferror(f.get()), "read error on '", name, "'");
    const bool whole = prefix.size() < old + chunk;
    const bool complete = detail::check_headers(prefix.data(), prefix.size(), name, true);
    if (complete || whole) {
      if (stbi_info_from_memory(prefix.data(), static_cast<int>(prefix.size()), &info.width, &info.height, &stored))
        break;
      if (whole) detail::fail_undecodable(name, "unknown format");
    }
    MOODNET_CHECK(prefix.size() < kMaxImageFileBytes, "'", name, "' has no image header stb can read in its first ",
                  prefix.size(), " bytes");
  }
  MOODNET_CHECK(info.width > 0 && info.height > 0 && stored >= 1 && stored <= 4, "'", name, "' has unsupported size ",
                info.width, "x", info.height, " with ", stored, " channels");
  info.channels = stored <= 2 ? 1 : 3;
  return info;
}

}  // namespace moodnet::data
