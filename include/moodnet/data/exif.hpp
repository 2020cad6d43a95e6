#pragma once
// The EXIF orientation of a JPEG: phones store the sensor's pixels as shot and record in the APP1
// "Exif" segment how to turn them for display (tag 0x0112 of IFD0); stb_image ignores it, so a
// portrait photo decodes sideways. This is a small bounded parser of exactly that tag:
//
//   JPEG    FF D8, then segments FF <marker> <length: 2 bytes big-endian, counting itself> <payload>,
//           up to the first scan (FF DA) — the EXIF segment always comes before it;
//   APP1    FF E1, payload "Exif\0\0" then a TIFF block: "II" (little-endian) or "MM" (big-endian),
//           the number 42, the offset of IFD0 from the block's start (4 bytes);
//   IFD0    an entry count (2 bytes), then 12-byte entries: tag (2), type (2), count (4), value (4).
//           Orientation is tag 0x0112, type 3 (SHORT), count 1, its value in the first 2 value bytes.
//
// Every read is checked against the segment's end, and each step moves forward, so any byte string
// ends in at most one pass over it. Anything unexpected (not a JPEG, no EXIF, a broken or truncated
// segment, a value outside 1..8) means "as stored" (1): a damaged EXIF block must not stop a photo
// whose pixels decode fine.
#include <cstddef>
#include <cstdint>

namespace moodnet::data {

// Orientation values (EXIF 2.3, tag 0x0112): how the stored pixels are turned for display.
//   1 as stored        2 mirrored left-right     3 rotated 180      4 mirrored top-bottom
//   5 transposed       6 rotated 90 clockwise    7 transversed      8 rotated 90 counter-clockwise
// (5 and 7 mirror along a diagonal; 5-8 swap width and height.)
inline constexpr int kExifOrientationTag = 0x0112;

namespace detail {
// Big- or little-endian reads from a TIFF block of `size` bytes; false when [at, at + n) is outside.
struct TiffReader {
  const std::uint8_t* p;
  std::size_t size;
  bool little;
  bool u16(std::size_t at, std::uint32_t& v) const {
    if (at > size || size - at < 2) return false;
    v = little ? p[at] | (p[at + 1] << 8) : (p[at] << 8) | p[at + 1];
    return true;
  }
  bool u32(std::size_t at, std::uint32_t& v) const {
    std::uint32_t lo = 0, hi = 0;
    if (!u16(at, little ? lo : hi) || !u16(at + 2, little ? hi : lo)) return false;
    v = (hi << 16) | lo;
    return true;
  }
};

// The orientation in one APP1 payload, 0 when it is not an EXIF block holding a valid one.
inline int exif_orientation_in_app1(const std::uint8_t* p, std::size_t size) {
  static constexpr std::uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (size < 6 + 8) return 0;
  for (int i = 0; i < 6; ++i)
    if (p[i] != kExif[i]) return 0;
  p += 6, size -= 6;
  if (!((p[0] == 'I' && p[1] == 'I') || (p[0] == 'M' && p[1] == 'M'))) return 0;
  const TiffReader t{p, size, p[0] == 'I'};
  std::uint32_t magic = 0, ifd = 0, count = 0;
  if (!t.u16(2, magic) || magic != 42 || !t.u32(4, ifd) || !t.u16(ifd, count)) return 0;
  for (std::uint32_t e = 0; e < count; ++e) {
    const std::size_t at = ifd + 2 + std::size_t{12} * e;
    std::uint32_t tag = 0, type = 0, n = 0, value = 0;
    if (!t.u16(at, tag) || !t.u16(at + 2, type) || !t.u32(at + 4, n)) return 0;  // truncated IFD
    if (tag != kExifOrientationTag) continue;
    if (type != 3 || n != 1 || !t.u16(at + 8, value) || value < 1 || value > 8) return 0;
    return static_cast<int>(value);
  }
  return 0;
}
}  // namespace detail

// The EXIF orientation (1..8, see above) of JPEG bytes; 1 for any other file, a JPEG without an
// EXIF orientation, or a malformed one.
inline int jpeg_exif_orientation(const std::uint8_t* bytes, std::size_t size) {
  if (size < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8) return 1;
  std::size_t at = 2;
  while (at + 4 <= size) {
    if (bytes[at] != 0xFF) return 1;  // not at a marker: the segment lengths are broken
    const std::uint8_t marker = bytes[at + 1];
    if (marker == 0xFF) {  // fill byte before a marker
      ++at;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;  // first scan or end of image: no EXIF before it
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {  // markers without a length
      at += 2;
      continue;
    }
    const std::size_t length = (std::size_t{bytes[at + 2]} << 8) | bytes[at + 3];  // includes its 2 bytes
    if (length < 2 || length > size - at - 2) return 1;  // truncated segment
    if (marker == 0xE1)
      if (const int o = detail::exif_orientation_in_app1(bytes + at + 4, length - 2)) return o;
    at += 2 + length;
  }
  return 1;
}

}  // namespace moodnet::data
