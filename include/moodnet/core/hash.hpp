#pragma once
// 64-bit FNV-1a (Fowler-Noll-Vo), the one non-cryptographic hash moodnet uses for ids and
// fingerprints:  h = offset basis;  for each byte b:  h = (h ^ b) * prime   (mod 2^64).
//
// Values are persisted (the trainer's run id and data fingerprint are written into state files and
// compared on --resume), so the constants and loops below must never change; tests/core/hash.cpp
// pins them to the published FNV-1a vectors and to the trainer's values.
//
//   fnv1a(text)               the hash of a string (the trainer's settings id, the ranks' check)
//   fnv1a_bytes(p, n, h)      continues h over n bytes: hash several pieces as one
//   fnv1a_words(p, n, h)      a faster variant for large buffers (not FNV-1a's values, see below)
//   hex16(h)                  16 lowercase hex digits
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace moodnet {

inline constexpr std::uint64_t kFnv1aOffsetBasis = 0xcbf29ce484222325ULL;  // 14695981039346656037
inline constexpr std::uint64_t kFnv1aPrime = 0x100000001b3ULL;             // 1099511628211

inline std::uint64_t fnv1a_bytes(const void* data, std::size_t n, std::uint64_t h = kFnv1aOffsetBasis) {
  const auto* b = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * kFnv1aPrime;
  return h;
}
// (A separate name from fnv1a_bytes: fnv1a("text", h) must never read h bytes.)
inline std::uint64_t fnv1a(std::string_view text, std::uint64_t h = kFnv1aOffsetBasis) {
  return fnv1a_bytes(text.data(), text.size(), h);
}

// The trainer's data fingerprint (FER-2013's 66 MB in a few milliseconds): FNV-1a's step on whole
// 8-byte words (native byte order), each followed by h ^= h >> 29 so the high bits of the product
// reach the low ones; the last n % 8 bytes take FNV-1a's byte step. Equal to fnv1a for n < 8 only.
inline std::uint64_t fnv1a_words(const void* data, std::size_t n, std::uint64_t h = kFnv1aOffsetBasis) {
  const auto* b = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, b + i, 8);
    h = (h ^ w) * kFnv1aPrime;
    h ^= h >> 29;
  }
  return fnv1a_bytes(b + i, n - i, h);
}

inline std::string hex16(std::uint64_t h) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

}  // namespace moodnet
