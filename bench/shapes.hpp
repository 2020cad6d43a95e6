#pragma once
// The real layer shapes of the benchmark networks at batch 64 — MobileNet-V1-48 (alpha 1, 0.5),
// CustomNet-48 (w 64, 32) and the residual networks when registered — shared by every benchmark.
// They are read from each registered model's training plan compiled with every pass off (one step
// per PyTorch layer, as in ../shared/reference/pytorch_models.py and the per-layer PyTorch table of
// ../shared/reference/results-2026-11-24.md), never copied by hand. Shapes used by several networks
// appear once, with every user listed ("mb1, cn32").
#include <cstdint>
#include <string>
#include <vector>

namespace moodnet::bench {

inline constexpr int kBatch = 64;

// The pieces appended in order. (Not `"literal" + std::string`: GCC 12 warns falsely on it at -O3,
// -Wrestrict, GCC bug 105651.)
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out += ... += parts);
  return out;
}

enum class LayerKind { dense, grouped, depthwise, pointwise, batchnorm, groupnorm, relu, maxpool, dropout, gap, linear };

struct LayerShape {
  LayerKind kind;
  int cin = 0, cout = 0;   // channels in/out (features for linear/dropout on flat inputs)
  int h = 0, w = 0;        // input spatial size (0 for flat inputs)
  int k = 0, stride = 1;   // conv/pool kernel and stride
  double p = 0;            // dropout probability
  int groups = 1;          // grouped convolution: groups; groupnorm: groups
  std::string used_by;     // "mb1, cn32"

  // "dense3x3 32->32 s1 @48x48" — the naming of the PyTorch reference table.
  std::string name() const {
    const std::string at = h ? cat(" @", std::to_string(h), "x", std::to_string(w)) : "";
    const std::string c = cat("C", std::to_string(cin));
    const std::string io = cat(std::to_string(cin), "->", std::to_string(cout));
    const std::string s = cat(" s", std::to_string(stride));
    const std::string flat_or_c = h ? c : cat("F", std::to_string(cin));
    const std::string kk = std::to_string(k);
    switch (kind) {
      case LayerKind::dense: return cat("dense", kk, "x", kk, " ", io, s, at);
      case LayerKind::grouped: return cat("grouped3x3 ", io, " g", std::to_string(groups), s, at);
      case LayerKind::depthwise: return cat("depthwise3x3 ", io, s, at);
      case LayerKind::pointwise: return cat("pointwise1x1 ", io, s, at);
      case LayerKind::batchnorm: return cat("batchnorm ", c, at);
      case LayerKind::groupnorm: return cat("groupnorm", std::to_string(groups), " ", c, at);
      case LayerKind::relu: return cat("relu ", flat_or_c, at);
      case LayerKind::maxpool: return cat("maxpool2x2 ", c, at);
      case LayerKind::dropout: {
        std::string pp = std::to_string(p);
        pp.erase(pp.find_last_not_of('0') + 1);
        return cat("dropout", pp, " ", flat_or_c, at);
      }
      case LayerKind::gap: return cat("avgpool_global ", c, at);
      case LayerKind::linear: return cat("linear ", io);
    }
    return "?";
  }
  // Output spatial size of a conv/pool layer.
  int out_h() const { return kind == LayerKind::maxpool ? h / 2 : (h + 2 * (k / 2) - k) / stride + 1; }
  int out_w() const { return kind == LayerKind::maxpool ? w / 2 : (w + 2 * (k / 2) - k) / stride + 1; }
  // Padding of a conv layer: "same" for odd kernels (every network here uses k/2).
  int pad() const { return k / 2; }
  // Forward multiply-accumulates per image for conv and linear layers (0 otherwise).
  double macs_per_image() const {
    switch (kind) {
      case LayerKind::dense: case LayerKind::pointwise:
        return double(out_h()) * out_w() * cout * cin * k * k;
      case LayerKind::grouped: return double(out_h()) * out_w() * cout * (cin / groups) * k * k;
      case LayerKind::depthwise: return double(out_h()) * out_w() * cout * k * k;
      case LayerKind::linear: return double(cin) * cout;
      default: return 0;
    }
  }
};

// Every distinct layer shape of the benchmark networks, in network order (bench/support/shapes.cpp:
// compiled once, so that no benchmark file instantiates the models).
const std::vector<LayerShape>& all_layer_shapes();

// The distinct shapes of one kind.
std::vector<LayerShape> layer_shapes(LayerKind kind);

}  // namespace moodnet::bench
