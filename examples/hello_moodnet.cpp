// A minimal program using moodnet: prints the version and the thread count, and multiplies two
// random matrices through the Tensor's Eigen view.
#include <moodnet/moodnet.hpp>

#include <cstdio>

int main() {
  moodnet::Tensor<float> a({64, 128}), b({128, 32}), c({64, 32});
  moodnet::fill_normal(a.view(), 1, 0.0, 1.0);
  moodnet::fill_normal(b.view(), 2, 0.0, 1.0);
  c.matrix().noalias() = a.matrix() * b.matrix();
  std::printf("moodnet %s, %d threads, c[0,0] = %.4f\n", MOODNET_VERSION_STRING, moodnet::num_threads(), c(0, 0));
}
