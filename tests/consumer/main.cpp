// Uses the installed headers: builds a tensor, fills it from the seeded generator, and checks a
// reshape and a GEMM through the Eigen view. Exits non-zero on any surprise.
#include <moodnet/moodnet.hpp>

#include <cstdio>

int main() {
  moodnet::Tensor<float> a({2, 3});
  moodnet::fill_uniform(a.view(), 42, -1.0, 1.0);
  moodnet::Tensor<float> b({3, 2});
  b.fill(1.0f);
  const auto c = (moodnet::eigen_matrix(a) * moodnet::eigen_matrix(b)).eval();
  const float row0 = a(0, 0) + a(0, 1) + a(0, 2);
  if (c.rows() != 2 || c.cols() != 2 || std::abs(c(0, 1) - row0) > 1e-6f) return 1;
  std::printf("moodnet %s consumer OK\n", MOODNET_VERSION_STRING);
  return 0;
}
