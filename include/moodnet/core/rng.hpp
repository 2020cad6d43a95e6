#pragma once
// Seeded random numbers whose results never depend on the thread count.
//
// Rng is xoshiro256** (Blackman & Vigna) seeded through splitmix64. Independent streams are
// derived from one seed and a stream id — Rng(seed, stream) — so a parallel loop draws from
// stream i for item i (a sample, a fixed-size chunk), never from "the stream of thread t".
// The state is four 64-bit words plus a cached normal, and can be saved and restored for resume.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/tensor.hpp"

namespace moodnet {

// splitmix64 step: a well-mixed 64-bit value from a 64-bit counter.
inline std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
  __extension__ typedef unsigned __int128 u128;  // GCC/Clang extension; -Wpedantic-clean

 public:
  struct State {
    std::array<std::uint64_t, 4> s{};
    double cached_normal = 0.0;
    bool has_cached_normal = false;
    bool operator==(const State&) const = default;
  };

  // Stream `stream` of seed `seed`; distinct (seed, stream) pairs give independent sequences.
  explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0) {
    std::uint64_t x = seed;
    const std::uint64_t mixed_seed = splitmix64(x);
    x = mixed_seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
    for (auto& w : state_.s) w = splitmix64(x);
  }

  // Next raw 64-bit value (xoshiro256**).
  std::uint64_t next_u64() {
    auto& s = state_.s;
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }

  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform double in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform float in [0, 1) with 24 random bits (never rounds up to 1).
  float uniform_float() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
  // Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n must be > 0.
  std::uint64_t uniform_int(std::uint64_t n) {
    MOODNET_ASSERT(n > 0);
    u128 m = static_cast<u128>(next_u64()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<u128>(next_u64()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
  // Standard normal by the Box–Muller transform (the second value of each pair is cached).
  double normal() {
    if (state_.has_cached_normal) {
      state_.has_cached_normal = false;
      return state_.cached_normal;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 6.283185307179586476925 * u2;
    state_.cached_normal = r * std::sin(theta);
    state_.has_cached_normal = true;
    return r * std::cos(theta);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  // True with probability p.
  bool bernoulli(double p) { return uniform() < p; }

  const State& state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  State state_;
};

// Elements per random stream when filling a tensor: chunk i of a tensor draws from stream i,
// so the values are the same for any thread count.
inline constexpr std::int64_t kRngChunk = 4096;

// Fills t with draws of gen(rng) in parallel; chunk c of kRngChunk elements uses Rng(seed, c).
template <class T, class Gen>
inline void fill_random(TensorView<T> t, std::uint64_t seed, Gen gen) {
  const std::int64_t n = t.numel(), chunks = (n + kRngChunk - 1) / kRngChunk;
  parallel_for(chunks, [&](std::int64_t c) {
    Rng rng(seed, static_cast<std::uint64_t>(c));
    const std::int64_t end = std::min(n, (c + 1) * kRngChunk);
    for (std::int64_t i = c * kRngChunk; i < end; ++i) t[i] = static_cast<T>(gen(rng));
  });
}

template <class T>
inline void fill_uniform(TensorView<T> t, std::uint64_t seed, double lo, double hi) {
  fill_random(t, seed, [=](Rng& r) { return r.uniform(lo, hi); });
}
template <class T>
inline void fill_normal(TensorView<T> t, std::uint64_t seed, double mean, double stddev) {
  fill_random(t, seed, [=](Rng& r) { return r.normal(mean, stddev); });
}
template <class T>
inline void fill_bernoulli(TensorView<T> t, std::uint64_t seed, double p) {
  fill_random(t, seed, [=](Rng& r) { return r.bernoulli(p) ? 1 : 0; });
}

}  // namespace moodnet
