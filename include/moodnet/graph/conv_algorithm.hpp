#pragma once
// Which algorithm each dense 3x3 stride-1 convolution of a plan runs, pass by pass: the standard
// kernels of kernels/conv2d.hpp (direct or im2col + GEMM, their own rule) or Winograd F(2x2,3x3) /
// F(4x4,3x3) (kernels/winograd.hpp), chosen per layer by measuring the three on the layer's shape.
//
//   ConvAlgorithmTable table(ConvAlgorithmTable::Policy::measured);
//   model.set_conv_algorithms(&table);      // plans compiled from now on measure, once per shape
//   ...
//   state.set_string("conv.algorithms", table.str());           // what was chosen, to pin on resume
//   ConvAlgorithmTable again = ConvAlgorithmTable::parse(text, "run/last.state.safetensors");
//
// The choice is keyed by the convolution's shape (N, C, K, H, W, padding), so the training plan,
// the evaluation plan and the last-batch plans of one shape agree, and a table read back pins every
// choice it holds: a resumed run computes exactly what the uninterrupted one did. Shapes the table
// lacks are measured when a plan first meets them (Policy::measured), get one fixed choice
// (Policy::fixed, ConvAlgorithmTable::everywhere: tests, experiments) or run the standard kernels
// (Policy::standard, the default: no Winograd anywhere).
//
// Measuring: each candidate runs each pass on the layer's shape with fixed pseudo-random data,
// once to warm up and then kTimedRuns times; the shortest time counts. Winograd replaces the
// standard kernels only when at least kMinSpeedup faster (a margin over timing noise; Winograd's
// float error is larger, docs/kernels.md). F(4x4) also has to beat F(2x2) by that margin.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/core/workspace.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/winograd.hpp"

namespace moodnet::graph {

enum class ConvAlgorithm { standard, winograd_f2, winograd_f4 };

inline const char* algorithm_name(ConvAlgorithm a) {
  switch (a) {
    case ConvAlgorithm::standard: return "standard";
    case ConvAlgorithm::winograd_f2: return "f2";
    case ConvAlgorithm::winograd_f4: return "f4";
  }
  return "?";
}

// One algorithm per pass.
struct ConvAlgorithms {
  ConvAlgorithm forward = ConvAlgorithm::standard, input_grad = ConvAlgorithm::standard,
                weight_grad = ConvAlgorithm::standard;

  bool any_winograd() const {
    return forward != ConvAlgorithm::standard || input_grad != ConvAlgorithm::standard ||
           weight_grad != ConvAlgorithm::standard;
  }
  bool operator==(const ConvAlgorithms&) const = default;
  // "f4,f4,standard": forward, input gradient, weight gradient.
  std::string str() const {
    return std::string(algorithm_name(forward)) + "," + algorithm_name(input_grad) + "," + algorithm_name(weight_grad);
  }
};

inline kernels::WinogradTile winograd_tile(ConvAlgorithm a) {
  return a == ConvAlgorithm::winograd_f4 ? kernels::WinogradTile::f4x4 : kernels::WinogradTile::f2x2;
}

// ---- the three passes, by algorithm ------------------------------------------------------------
// Same contracts as kernels/conv2d.hpp: y and dx overwritten, dw accumulated.
template <class T>
void run_conv_forward(ConvAlgorithm a, const kernels::Conv2dParams& p, const T* x, const T* w, const T* b, T* y,
                      Workspace& ws, const kernels::ChannelAffine<T>* epilogue) {
  if (a == ConvAlgorithm::standard) return kernels::conv2d_forward(p, x, w, b, y, ws, epilogue);
  kernels::winograd_conv2d_forward(p, x, w, b, y, ws, epilogue, winograd_tile(a));
}
template <class T>
void run_conv_backward_input(ConvAlgorithm a, const kernels::Conv2dParams& p, const T* dy, const T* w, T* dx,
                             Workspace& ws) {
  if (a == ConvAlgorithm::standard) return kernels::conv2d_backward_input(p, dy, w, dx, ws);
  kernels::winograd_conv2d_backward_input(p, dy, w, dx, ws, winograd_tile(a));
}
template <class T>
void run_conv_backward_weight(ConvAlgorithm a, const kernels::Conv2dParams& p, const T* x, const T* dy, T* dw,
                              Workspace& ws) {
  if (a == ConvAlgorithm::standard) return kernels::conv2d_backward_weight(p, x, dy, dw, ws);
  kernels::winograd_conv2d_backward_weight(p, x, dy, dw, ws, winograd_tile(a));
}

// The table key of a convolution Winograd supports (3x3, stride 1, dense): "N64 C64 K128 24x24 p1".
inline std::string conv_shape_key(const kernels::Conv2dParams& p) {
  return "N" + std::to_string(p.N) + " C" + std::to_string(p.C) + " K" + std::to_string(p.K) + " " +
         std::to_string(p.H) + "x" + std::to_string(p.W) + " p" + std::to_string(p.pad_h) +
         (p.pad_w != p.pad_h ? "x" + std::to_string(p.pad_w) : std::string());
}

class ConvAlgorithmTable {
 public:
  enum class Policy { standard, measured, fixed };
  static constexpr int kTimedRuns = 3;
  static constexpr double kMinSpeedup = 1.05;

  // Milliseconds of each candidate (standard, f2, f4) for each pass (forward, input, weight) of
  // one measured shape.
  struct Measurement {
    std::string key;
    double ms[3][3] = {};
    ConvAlgorithms chosen;
  };

  explicit ConvAlgorithmTable(Policy policy = Policy::standard) : policy_(policy) {}
  // `a` for every convolution Winograd supports (Policy::fixed).
  static ConvAlgorithmTable everywhere(ConvAlgorithms a) {
    ConvAlgorithmTable t(Policy::fixed);
    t.fixed_ = a;
    return t;
  }

  Policy policy() const { return policy_; }
  void set_policy(Policy policy) { policy_ = policy; }
  const std::map<std::string, ConvAlgorithms>& entries() const { return entries_; }
  const std::vector<Measurement>& measurements() const { return measurements_; }
  // Pins `a` for every convolution of this shape (tests, a table read back).
  void pin(const std::string& key, ConvAlgorithms a) { entries_[key] = a; }

  // The algorithms for a convolution of parameters p: standard where Winograd does not apply
  // (the key names only shapes it supports: 3x3, stride 1, dense); else the table's entry; else
  // measured now (on ws) and recorded (Policy::measured), the fixed choice (recorded too), or standard.
  template <class T>
  ConvAlgorithms choose(const kernels::Conv2dParams& p, Workspace& ws) {
    if (!kernels::winograd_supported(p)) return {};
    const std::string key = conv_shape_key(p);
    if (auto it = entries_.find(key); it != entries_.end()) return it->second;
    if (policy_ == Policy::standard) return {};
    if (policy_ == Policy::fixed) return entries_[key] = fixed_;  // recorded: str() pins it on resume
    Measurement m = measure<T>(p, ws);
    m.key = key;
    measurements_.push_back(m);
    return entries_[key] = m.chosen;
  }

  // "key=fwd,bi,bw;key=...": every entry, in key order (the training state stores it).
  std::string str() const {
    std::string s;
    for (const auto& [key, a] : entries_) s += (s.empty() ? "" : ";") + key + "=" + a.str();
    return s;
  }
  // The table str() wrote, with Policy::measured (the run that wrote it measured). Throws naming
  // `source` and the entry on anything else.
  static ConvAlgorithmTable parse(const std::string& text, const std::string& source) {
    // (a table of no entries is "": a run whose plans met no supported shape)
    ConvAlgorithmTable t(Policy::measured);
    std::stringstream in(text);
    std::string entry;
    while (std::getline(in, entry, ';')) {
      const std::size_t eq = entry.find('=');
      if (eq == std::string::npos || eq == 0)
        fail(source, ": conv algorithm entry '", entry, "' is not 'shape=forward,input,weight'");
      std::stringstream parts(entry.substr(eq + 1));
      std::string names[3], extra;
      for (std::string& n : names)
        if (!std::getline(parts, n, ','))
          fail(source, ": conv algorithm entry '", entry, "' needs three algorithms (forward,input,weight)");
      if (std::getline(parts, extra, ','))
        fail(source, ": conv algorithm entry '", entry, "' has more than three algorithms");
      t.entries_[entry.substr(0, eq)] = {parse_algorithm(names[0], source, entry),
                                         parse_algorithm(names[1], source, entry),
                                         parse_algorithm(names[2], source, entry)};
    }
    return t;
  }

  // The candidate to run given its times ms = {standard, f2, f4}, with the margins of the header.
  static ConvAlgorithm fastest(const double ms[3]) {
    const bool f4_over_f2 = ms[2] * kMinSpeedup <= ms[1];
    const int wino = f4_over_f2 ? 2 : 1;
    if (ms[wino] * kMinSpeedup > ms[0]) return ConvAlgorithm::standard;
    return wino == 2 ? ConvAlgorithm::winograd_f4 : ConvAlgorithm::winograd_f2;
  }

 private:
  static ConvAlgorithm parse_algorithm(const std::string& name, const std::string& source, const std::string& entry) {
    for (ConvAlgorithm a : {ConvAlgorithm::standard, ConvAlgorithm::winograd_f2, ConvAlgorithm::winograd_f4})
      if (name == algorithm_name(a)) return a;
    fail(source, ": conv algorithm '", name, "' in entry '", entry, "' is not standard, f2 or f4");
  }

  template <class T>
  static Measurement measure(const kernels::Conv2dParams& p, Workspace& ws) {
    Tensor<T> x(p.input_shape()), w(p.weight_shape()), dy(p.output_shape()), y(p.output_shape()),
        dx(p.input_shape()), dw(p.weight_shape());
    fill_normal(x.view(), 1, 0.0, 1.0), fill_normal(w.view(), 2, 0.0, 1.0), fill_normal(dy.view(), 3, 0.0, 1.0);
    const ConvAlgorithm candidates[3] = {ConvAlgorithm::standard, ConvAlgorithm::winograd_f2,
                                         ConvAlgorithm::winograd_f4};
    Measurement m;
    for (int c = 0; c < 3; ++c) {
      const ConvAlgorithm a = candidates[c];
      m.ms[0][c] = best_ms([&] { run_conv_forward<T>(a, p, x.data(), w.data(), nullptr, y.data(), ws, nullptr); });
      m.ms[1][c] = best_ms([&] { run_conv_backward_input<T>(a, p, dy.data(), w.data(), dx.data(), ws); });
      m.ms[2][c] = best_ms([&] { run_conv_backward_weight<T>(a, p, x.data(), dy.data(), dw.data(), ws); });
    }
    m.chosen = {fastest(m.ms[0]), fastest(m.ms[1]), fastest(m.ms[2])};
    return m;
  }

  template <class F>
  static double best_ms(F&& run) {
    run();  // warm-up: workspace growth, caches
    double best = 1e300;
    for (int r = 0; r < kTimedRuns; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      run();
      best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
  }

  Policy policy_;
  ConvAlgorithms fixed_;  // Policy::fixed
  std::map<std::string, ConvAlgorithms> entries_;
  std::vector<Measurement> measurements_;
};

// "winograd: N64 C64 K64 24x24 p1: forward f4 (standard 6.70 ms, f2 13.9, f4 6.09), ...": one
// measured shape, for logs.
inline std::string format_conv_measurement(const ConvAlgorithmTable::Measurement& m) {
  static const char* const pass[3] = {"forward", "input grad", "weight grad"};
  const ConvAlgorithm chosen[3] = {m.chosen.forward, m.chosen.input_grad, m.chosen.weight_grad};
  std::string s = "winograd: " + m.key + ":";
  for (int i = 0; i < 3; ++i) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%s %s %s (standard %.2f ms, f2 %.2f, f4 %.2f)", i ? "," : "", pass[i],
                  algorithm_name(chosen[i]), m.ms[i][0], m.ms[i][1], m.ms[i][2]);
    s += buf;
  }
  return s;
}

}  // namespace moodnet::graph
