// core/hash.hpp: FNV-1a against the published 64-bit test vectors, and the values the trainer's
// run id and data fingerprint had before they used it (state files of existing runs hold them).
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "moodnet/core/hash.hpp"

using namespace moodnet;

namespace {

// The loops the trainer had (train/trainer.hpp before core/hash.hpp), verbatim: the oracles.
std::uint64_t hash_test_old_settings_id(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char ch : text) h = (h ^ ch) * 0x100000001b3ULL;
  return h;
}
std::uint64_t hash_test_old_data_mix(std::uint64_t h, const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, b + i, 8);
    h = (h ^ w) * 0x100000001b3ULL;
    h ^= h >> 29;
  }
  for (; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}
std::vector<unsigned char> hash_test_bytes(std::size_t n) {
  std::vector<unsigned char> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<unsigned char>(i * 131 + (i >> 8));
  return v;
}

}  // namespace

TEST_CASE("fnv1a gives the published 64-bit FNV-1a vectors", "[core]") {
  // From the FNV reference (isthe.com/chongo/tech/comp/fnv): "" is the offset basis itself.
  CHECK(fnv1a("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a("foobar") == 0x85944171f73967e8ULL);
  // Continuing a hash over pieces is hashing their concatenation.
  CHECK(fnv1a("bar", fnv1a("foo")) == fnv1a("foobar"));
  const std::string s = "foobar";
  CHECK(fnv1a_bytes(s.data(), s.size()) == fnv1a(s));
}

TEST_CASE("fnv1a is the trainer's settings-id hash, value for value", "[core]") {
  for (const std::string& text : {std::string(), std::string("model=customnet\nsize.w=32\nseed=1\n"),
                                 std::string("lr=0.05\ndata=0123abcd/28709/3589\n"), std::string(1000, 'x')})
    CHECK(fnv1a(text) == hash_test_old_settings_id(text));
}

TEST_CASE("fnv1a_words is the trainer's data-fingerprint mix, value for value", "[core]") {
  // Every tail length (n % 8), several pieces chained as the fingerprint chains images and labels.
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 771u, 4096u}) {
    const auto v = hash_test_bytes(n);
    CHECK(fnv1a_words(v.data(), n) == hash_test_old_data_mix(0xcbf29ce484222325ULL, v.data(), n));
    const std::uint64_t chained = fnv1a_words(v.data(), n / 2, fnv1a_words(v.data(), n));
    CHECK(chained == hash_test_old_data_mix(hash_test_old_data_mix(0xcbf29ce484222325ULL, v.data(), n), v.data(), n / 2));
  }
  // Pinned (computed by an independent Python transcription of the old loop): bytes 0..255 three
  // times, then "xyz" (771 bytes: a 3-byte tail); and "abc", shorter than a word, is plain FNV-1a.
  std::vector<unsigned char> v;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 256; ++i) v.push_back(static_cast<unsigned char>(i));
  for (char c : std::string("xyz")) v.push_back(static_cast<unsigned char>(c));
  CHECK(fnv1a_words(v.data(), v.size()) == 0x0acc51534ca0c318ULL);
  CHECK(fnv1a_words("abc", 3) == fnv1a("abc"));
  CHECK(fnv1a_words("abc", 3) == 0xe71fa2190541574bULL);
}

TEST_CASE("hex16 writes 16 lowercase hex digits", "[core]") {
  CHECK(hex16(0) == "0000000000000000");
  CHECK(hex16(0xcbf29ce484222325ULL) == "cbf29ce484222325");
  CHECK(hex16(0xABCULL) == "0000000000000abc");
}
