// peak_memory: the peak resident memory of a MobileNet-V1-48 training run (or eval run) at batch 64,
// to compare executors. Uses only APIs every moodnet version since 0.1 has, so the same file builds
// against an older tree for a before/after figure.
//
//   g++ -O3 -march=native -fopenmp -std=c++20 -I include -isystem /usr/include/eigen3 \
//       -isystem /usr/include/stb tools/peak_memory.cpp -o /tmp/peak_memory
//   /tmp/peak_memory train 1.0     # mode (train | eval), alpha
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/mobilenet_v1.hpp"

using namespace moodnet;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "train";
  const double alpha = argc > 2 ? std::atof(argv[2]) : 1.0;
  Model<float> model = make_mobilenet_v1_48<float>(alpha, 0);
  Tensor<float> x({64, 1, 48, 48});
  for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>((i * 7919) % 255) / 255.0f;
  std::vector<std::int32_t> y(64);
  for (int i = 0; i < 64; ++i) y[static_cast<std::size_t>(i)] = i % 7;
  CrossEntropyLoss<float> loss;
  rusage before{};
  getrusage(RUSAGE_SELF, &before);
  double l = 0;
  for (int step = 0; step < 3; ++step) {
    if (mode == "train") {
      model.train();
      model.zero_grad();
      l = loss.forward_backward(model.forward(x), y.data());
      model.backward(loss.gradient());
    } else {
      model.eval();
      l = loss.forward(model.forward(x), y.data());
    }
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("mobilenet alpha %.2f %s batch 64: peak RSS %.0f MiB (%.0f MiB before the first step), loss %.4f\n",
              alpha, mode.c_str(), static_cast<double>(ru.ru_maxrss) / 1024.0,
              static_cast<double>(before.ru_maxrss) / 1024.0, l);
}
