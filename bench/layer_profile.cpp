// Where a training step's time goes: every step of a network's training plan timed in place
// (forward and backward, batch 64, median over iterations) — convolutions, fused normalisations,
// residual joins (the add is a step of its own), pooling, dropout — plus the loss and optimizer, as
// markdown tables, by step and by kind. Reads the plan (graph/plan.hpp), so any registered model,
// residual ones included, is profiled as it really runs, after the fusion passes.
//   bench_layer_profile [model] [width] [iterations]     (threads: MOODNET_BENCH_THREADS, default 2;
//   MOODNET_BENCH_FUSE=0 compiles the plan with every pass off; MOODNET_BENCH_PRECISION=bf16 the
//   convolutions' matrix products on AMX, as the trainers' --precision bf16)
// Also prints the planned activation memory and the process's peak resident memory.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "moodnet/kernels/matmul_precision.hpp"
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
// A step's kind for the summary table: convolutions split by shape (where the time usually is).
std::string kind_label(const graph::Step<float>& s) {
  if (auto* c = dynamic_cast<const graph::Conv2dStep<float>*>(&s)) {
    const auto& p = c->params();
    if (p.groups > 1) return "conv2d grouped";
    return p.R == 1 && p.S == 1 ? "conv2d 1x1" : "conv2d " + std::to_string(p.R) + "x" + std::to_string(p.S);
  }
  return graph::to_string(s.kind());
}
}  // namespace

int main(int argc, char** argv) try {
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
  const char* precision = std::getenv("MOODNET_BENCH_PRECISION");
  kernels::set_matmul_precision(kernels::parse_matmul_precision(precision ? precision : "fp32"));
  Model<float> model = build_model<float>(net, spec);
  if (const char* fuse = std::getenv("MOODNET_BENCH_FUSE"); fuse && std::string(fuse) == "0")
    model.set_passes(graph::PassOptions::none());
  OptimizerConfig oc;
  oc.name = "sgd", oc.lr = 0.01, oc.momentum = 0.9, oc.nesterov = false, oc.weight_decay = 0;
  Optimizer<float> opt(model.arena(), oc);
  CrossEntropyLoss<float> loss;
  Tensor<float> x(model.batch_shape(64));
  fill_normal(x.view(), 1, 0.0, 1.0);
  std::vector<std::int32_t> y(64);
  const std::int64_t classes = model.plan(x.shape()).output_shape()[1];
  for (int i = 0; i < 64; ++i) y[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % classes);

  model.train();
  graph::Plan<float>& plan = model.plan(x.shape());
  const std::size_t S = plan.steps().size();
  graph::StepTimes times;
  std::vector<std::vector<double>> fwd(S), bwd(S);
  std::vector<double> t_loss, t_opt, t_zero, t_step;
  for (int it = -2; it < iters; ++it) {  // 2 warm-up steps
    const auto t_begin = std::chrono::steady_clock::now();
    auto t0 = t_begin;
    model.set_step(static_cast<std::uint64_t>(it + 2));
    model.zero_grad();
    const double zero_s = seconds_since(t0);
    plan.set_step_times(&times);
    const TensorView<const float> logits = model.forward(x);
    t0 = std::chrono::steady_clock::now();
    loss.forward_backward(logits, y.data());
    const double loss_s = seconds_since(t0);
    model.backward(loss.gradient());
    t0 = std::chrono::steady_clock::now();
    opt.step();
    const double opt_s = seconds_since(t0);
    if (it < 0) continue;
    for (std::size_t i = 0; i < S; ++i) fwd[i].push_back(times.forward[i]), bwd[i].push_back(times.backward[i]);
    t_loss.push_back(loss_s), t_opt.push_back(opt_s), t_zero.push_back(zero_s), t_step.push_back(seconds_since(t_begin));
  }
  plan.set_step_times(nullptr);
  const double step_ms = median(t_step) * 1e3;
  std::printf("## %s %s, batch 64, %d threads: step %.2f ms median of %d (%.0f images/s)\n\n", net.c_str(),
              size_args_text(info, spec.size).c_str(), num_threads(), step_ms, iters, 64 / (step_ms * 1e-3));
  std::printf("| step | module | config | output | fwd ms | bwd ms | fwd GFLOP/s | fwd GB/s | %% of step |\n"
              "|---|---|---|---|---:|---:|---:|---:|---:|\n");
  std::vector<std::pair<std::string, double>> by_kind;
  for (std::size_t i = 0; i < S; ++i) {
    const graph::Step<float>& s = *plan.steps()[i];
    const double fm = median(fwd[i]) * 1e3, bm = median(bwd[i]) * 1e3;
    const std::string kind = kind_label(s);
    auto it = std::find_if(by_kind.begin(), by_kind.end(), [&](auto& p) { return p.first == kind; });
    if (it == by_kind.end()) by_kind.emplace_back(kind, fm + bm); else it->second += fm + bm;
    std::string config = s.describe();
    for (const auto& f : s.fused) config += " (+ " + f + ")";
    std::printf("| %s | %s | %s | %s | %.3f | %.3f | %.0f | %.1f | %.1f |\n", s.name.c_str(), s.module_type.c_str(),
                config.c_str(), s.output_shape.str().c_str(), fm, bm, fm > 0 ? s.flops() / (fm * 1e6) : 0.0,
                fm > 0 ? s.bytes() / (fm * 1e6) : 0.0, 100 * (fm + bm) / step_ms);
  }
  const double lm = median(t_loss) * 1e3, om = median(t_opt) * 1e3, zm = median(t_zero) * 1e3;
  std::printf("| loss | CrossEntropy | | | %.3f | | | | %.1f |\n| optimizer | SGD momentum | | | %.3f | | | | %.1f |\n", lm,
              100 * lm / step_ms, om, 100 * om / step_ms);
  std::printf("| zero_grad | | | | %.3f | | | | %.1f |\n\n", zm, 100 * zm / step_ms);
  std::sort(by_kind.begin(), by_kind.end(), [](auto& a, auto& b) { return a.second > b.second; });
  std::printf("| step kind | fwd+bwd ms | %% of step |\n|---|---:|---:|\n");
  for (auto& [kind, ms] : by_kind) std::printf("| %s | %.2f | %.1f |\n", kind.c_str(), ms, 100 * ms / step_ms);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("\nplanned training activations: %.1f MiB (%.1f MiB without reuse); plans + workspace: %.1f MiB; "
              "peak resident memory: %.0f MiB\n", static_cast<double>(plan.arena_bytes()) / (1 << 20),
              static_cast<double>(plan.unshared_bytes()) / (1 << 20),
              static_cast<double>(model.activation_bytes()) / (1 << 20), static_cast<double>(ru.ru_maxrss) / 1024.0);
} catch (const moodnet::Error& e) {
  std::fprintf(stderr, "layer_profile: %s\n", e.what());
  return 2;
}
