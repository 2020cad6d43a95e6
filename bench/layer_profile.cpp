// Where a training step's time goes: every layer of a network timed in place (forward and
// backward, batch 64, median over iterations), plus the loss and optimizer, as a markdown table.
//   bench_layer_profile [model] [width] [iterations]     (threads: MOODNET_BENCH_THREADS, default 2;
//   MOODNET_BENCH_FUSE=1 / 0 fuses every BatchNorm2d/GroupNorm+ReLU pair / keeps them separate; unset: as built)
// Also prints the process's peak resident memory after the measured steps.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "moodnet/layers/fusion.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/registry.hpp"
#include "moodnet/optim/optimizer.hpp"

using namespace moodnet;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  const std::string net = argc > 1 ? argv[1] : "mobilenet";
  // The registered model `net` (models/registry.hpp); [width] sets its main width, else its default.
  const ModelInfo& info = find_model(net);
  ModelSpec spec;
  if (argc > 2) {
    const SizeArg* width = info.find_flag("width");
    MOODNET_CHECK(width != nullptr, info.title, " has no width argument");
    spec.size[width->key] = std::atof(argv[2]);
  }
  spec.size = resolve_size_args(info, spec.size);
  const int iters = argc > 3 ? std::atoi(argv[3]) : 10;
  set_num_threads(std::getenv("MOODNET_BENCH_THREADS") ? std::atoi(std::getenv("MOODNET_BENCH_THREADS")) : 2);
  Model<float> model = build_model<float>(net, spec);
  if (const char* fuse = std::getenv("MOODNET_BENCH_FUSE")) fuse_norm_relu(model.network(), std::string(fuse) != "0");
  std::vector<std::pair<std::string, Layer<float>*>> layers;
  model.for_each_layer([&](const std::string& name, Layer<float>& l) { layers.emplace_back(name, &l); });
  OptimizerConfig oc;
  oc.kind = OptimizerKind::sgd, oc.lr = 0.01, oc.momentum = 0.9, oc.nesterov = false, oc.weight_decay = 0;
  Optimizer<float> opt(model, oc);
  CrossEntropyLoss<float> loss;
  Tensor<float> x({64, 1, 48, 48});
  fill_normal(x.view(), 1, 0.0, 1.0);
  std::vector<std::int32_t> y(64);
  for (int i = 0; i < 64; ++i) y[static_cast<std::size_t>(i)] = i % 7;

  std::vector<std::vector<double>> fwd(layers.size()), bwd(layers.size());
  std::vector<double> t_loss, t_opt, t_zero, t_step;
  model.train();
  for (int it = -2; it < iters; ++it) {  // 2 warm-up steps
    const auto t_begin = std::chrono::steady_clock::now();
    auto t0 = t_begin;
    model.set_step(static_cast<std::uint64_t>(it + 2));
    model.zero_grad();
    const double zero_s = seconds_since(t0);
    TensorView<const float> h = x;
    std::vector<double> f(layers.size()), b(layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i) {
      t0 = std::chrono::steady_clock::now();
      h = layers[i].second->forward(h);
      f[i] = seconds_since(t0);
    }
    t0 = std::chrono::steady_clock::now();
    loss.forward_backward(h, y.data());
    const double loss_s = seconds_since(t0);
    TensorView<const float> g = loss.gradient();
    for (std::size_t i = layers.size(); i-- > 0;) {
      t0 = std::chrono::steady_clock::now();
      g = layers[i].second->backward(g);
      b[i] = seconds_since(t0);
    }
    t0 = std::chrono::steady_clock::now();
    opt.step();
    const double opt_s = seconds_since(t0);
    if (it < 0) continue;
    for (std::size_t i = 0; i < layers.size(); ++i) fwd[i].push_back(f[i]), bwd[i].push_back(b[i]);
    t_loss.push_back(loss_s), t_opt.push_back(opt_s), t_zero.push_back(zero_s), t_step.push_back(seconds_since(t_begin));
  }
  const double step_ms = median(t_step) * 1e3;
  std::printf("## %s %s, batch 64, %d threads: step %.2f ms median of %d (%.0f images/s)\n\n", net.c_str(),
              size_args_text(info, spec.size).c_str(), num_threads(), step_ms, iters, 64 / (step_ms * 1e-3));
  std::printf("| layer | type | config | fwd ms | bwd ms | %% of step |\n|---|---|---|---:|---:|---:|\n");
  // Group time by layer type as well.
  std::vector<std::pair<std::string, double>> by_type;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const double fm = median(fwd[i]) * 1e3, bm = median(bwd[i]) * 1e3;
    std::string type = layers[i].second->type_name();
    if (layers[i].second->describe().rfind("depthwise", 0) == 0) type = "Conv2d (depthwise)";
    else if (type == "Conv2d" && layers[i].second->describe().find("k1 ") != std::string::npos) type = "Conv2d (1x1)";
    else if (type == "Conv2d") type = "Conv2d (dense)";
    auto it = std::find_if(by_type.begin(), by_type.end(), [&](auto& p) { return p.first == type; });
    if (it == by_type.end()) by_type.emplace_back(type, fm + bm); else it->second += fm + bm;
    std::string name = layers[i].first;
    if (!name.empty() && name.back() == '.') name.pop_back();
    std::printf("| %s | %s | %s | %.3f | %.3f | %.1f |\n", name.c_str(), layers[i].second->type_name().c_str(),
                layers[i].second->describe().c_str(), fm, bm, 100 * (fm + bm) / step_ms);
  }
  const double lm = median(t_loss) * 1e3, om = median(t_opt) * 1e3, zm = median(t_zero) * 1e3;
  std::printf("| loss | CrossEntropy | | %.3f | | %.1f |\n| optimizer | SGD momentum | | %.3f | | %.1f |\n", lm,
              100 * lm / step_ms, om, 100 * om / step_ms);
  std::printf("| zero_grad | | | %.3f | | %.1f |\n\n", zm, 100 * zm / step_ms);
  std::sort(by_type.begin(), by_type.end(), [](auto& a, auto& b) { return a.second > b.second; });
  std::printf("| layer type | fwd+bwd ms | %% of step |\n|---|---:|---:|\n");
  for (auto& [type, ms] : by_type) std::printf("| %s | %.2f | %.1f |\n", type.c_str(), ms, 100 * ms / step_ms);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("\npeak resident memory: %.0f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
}
