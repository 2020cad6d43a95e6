#pragma once
// The real layer shapes of MobileNet-V1-48 (alpha 1, 0.5) and CustomNet-48 (w 64, 32) at batch 64,
// shared by every benchmark (same layers as ../shared/reference/pytorch_models.py and the per-layer
// PyTorch table in ../shared/reference/results-2026-11-24.md). Shapes used by several networks
// appear once, with every user listed ("mb1, cn32").
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace moodnet::bench {

inline constexpr int kBatch = 64;

enum class LayerKind { dense, depthwise, pointwise, batchnorm, groupnorm, relu, maxpool, dropout, gap, linear };

struct LayerShape {
  LayerKind kind;
  int cin = 0, cout = 0;   // channels in/out (features for linear/dropout on flat inputs)
  int h = 0, w = 0;        // input spatial size (0 for flat inputs)
  int k = 0, stride = 1;   // conv/pool kernel and stride
  double p = 0;            // dropout probability
  std::string used_by;     // "mb1, cn32"

  // "dense3x3 32->32 s1 @48x48" — the naming of the PyTorch reference table.
  std::string name() const {
    const std::string at = h ? " @" + std::to_string(h) + "x" + std::to_string(w) : "";
    const std::string c = "C" + std::to_string(cin);
    const std::string io = std::to_string(cin) + "->" + std::to_string(cout);
    const std::string s = " s" + std::to_string(stride);
    switch (kind) {
      case LayerKind::dense: return "dense3x3 " + io + s + at;
      case LayerKind::depthwise: return "depthwise3x3 " + io + s + at;
      case LayerKind::pointwise: return "pointwise1x1 " + io + s + at;
      case LayerKind::batchnorm: return "batchnorm " + c + at;
      case LayerKind::groupnorm: return "groupnorm8 " + c + at;
      case LayerKind::relu: return "relu " + (h ? c : "F" + std::to_string(cin)) + at;
      case LayerKind::maxpool: return "maxpool2x2 " + c + at;
      case LayerKind::dropout: {
        std::string pp = std::to_string(p);
        pp.erase(pp.find_last_not_of('0') + 1);
        return "dropout" + pp + " " + (h ? c : "F" + std::to_string(cin)) + at;
      }
      case LayerKind::gap: return "avgpool_global " + c + at;
      case LayerKind::linear: return "linear " + io;
    }
    return "?";
  }
  // Output spatial size of a conv/pool layer.
  int out_h() const { return kind == LayerKind::maxpool ? h / 2 : (h + 2 * (k / 2) - k) / stride + 1; }
  int out_w() const { return kind == LayerKind::maxpool ? w / 2 : (w + 2 * (k / 2) - k) / stride + 1; }
  // Forward multiply-accumulates per image for conv and linear layers (0 otherwise).
  double macs_per_image() const {
    switch (kind) {
      case LayerKind::dense: case LayerKind::pointwise:
        return double(out_h()) * out_w() * cout * cin * k * k;
      case LayerKind::depthwise: return double(out_h()) * out_w() * cout * k * k;
      case LayerKind::linear: return double(cin) * cout;
      default: return 0;
    }
  }
};

namespace detail {
// A LayerShape with every field given (brace-initialising only some would warn under -Wextra).
inline LayerShape L(LayerKind kind, int cin, int cout, int h = 0, int w = 0, int k = 0, int stride = 1, double p = 0) {
  return LayerShape{kind, cin, cout, h, w, k, stride, p, {}};
}
inline int scale(int c, double alpha) { return std::max(1, static_cast<int>(c * alpha)); }

inline void add(std::vector<LayerShape>& out, LayerShape s, const std::string& net) {
  for (auto& e : out)
    if (e.name() == s.name()) {
      if (e.used_by.find(net) == std::string::npos) e.used_by += ", " + net;
      return;
    }
  s.used_by = net;
  out.push_back(s);
}

inline void add_mobilenet(std::vector<LayerShape>& out, double alpha, const std::string& net) {
  static const int blocks[13][3] = {{32, 64, 1},   {64, 128, 2},  {128, 128, 1}, {128, 256, 2}, {256, 256, 1},
                                    {256, 512, 2}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1}, {512, 512, 1},
                                    {512, 512, 1}, {512, 1024, 2}, {1024, 1024, 1}};
  const int c0 = scale(32, alpha);
  int hw = 48;
  add(out, L(LayerKind::dense, 1, c0, hw, hw, 3, 1), net);
  add(out, L(LayerKind::batchnorm, c0, c0, hw, hw), net);
  add(out, L(LayerKind::relu, c0, c0, hw, hw), net);
  for (const auto& b : blocks) {
    const int ci = scale(b[0], alpha), co = scale(b[1], alpha), s = b[2];
    add(out, L(LayerKind::depthwise, ci, ci, hw, hw, 3, s), net);
    hw = (hw + 2 - 3) / s + 1;
    add(out, L(LayerKind::batchnorm, ci, ci, hw, hw), net);
    add(out, L(LayerKind::relu, ci, ci, hw, hw), net);
    add(out, L(LayerKind::pointwise, ci, co, hw, hw, 1, 1), net);
    add(out, L(LayerKind::batchnorm, co, co, hw, hw), net);
    add(out, L(LayerKind::relu, co, co, hw, hw), net);
  }
  const int cl = scale(1024, alpha);
  add(out, L(LayerKind::gap, cl, cl, hw, hw), net);
  LayerShape d = L(LayerKind::dropout, cl, cl);
  d.p = 0.2;
  add(out, d, net);
  add(out, L(LayerKind::linear, cl, 7), net);
}

inline void add_customnet(std::vector<LayerShape>& out, int w, const std::string& net) {
  int cin = 1, hw = 48;
  for (int c : {w, 2 * w, 4 * w, 8 * w}) {
    add(out, L(LayerKind::dense, cin, c, hw, hw, 3, 1), net);
    add(out, L(LayerKind::batchnorm, c, c, hw, hw), net);
    add(out, L(LayerKind::relu, c, c, hw, hw), net);
    add(out, L(LayerKind::dense, c, c, hw, hw, 3, 1), net);
    add(out, L(LayerKind::groupnorm, c, c, hw, hw), net);
    add(out, L(LayerKind::maxpool, c, c, hw, hw, 2, 2), net);
    hw /= 2;
    LayerShape d = L(LayerKind::dropout, c, c, hw, hw);
    d.p = 0.25;
    add(out, d, net);
    cin = c;
  }
  add(out, L(LayerKind::gap, 8 * w, 8 * w, hw, hw), net);
  add(out, L(LayerKind::linear, 8 * w, 256), net);
  add(out, L(LayerKind::relu, 256, 256), net);
  LayerShape d = L(LayerKind::dropout, 256, 256);
  d.p = 0.5;
  add(out, d, net);
  add(out, L(LayerKind::linear, 256, 7), net);
}
}  // namespace detail

// Every distinct layer shape of the four benchmark networks, in network order.
inline const std::vector<LayerShape>& all_layer_shapes() {
  static const std::vector<LayerShape> shapes = [] {
    std::vector<LayerShape> v;
    detail::add_mobilenet(v, 1.0, "mb1");
    detail::add_mobilenet(v, 0.5, "mb0.5");
    detail::add_customnet(v, 64, "cn64");
    detail::add_customnet(v, 32, "cn32");
    return v;
  }();
  return shapes;
}

// The distinct shapes of one kind.
inline std::vector<LayerShape> layer_shapes(LayerKind kind) {
  std::vector<LayerShape> v;
  for (const auto& s : all_layer_shapes())
    if (s.kind == kind) v.push_back(s);
  return v;
}

}  // namespace moodnet::bench
