// Uses the installed headers: builds a tensor, fills it from the seeded generator, and checks a
// reshape and a GEMM through the Eigen view, and a confusion matrix's accuracy (the library's part of
// train/). Exits non-zero on any surprise. Compiled with the programs' headers shadowed by ones that
// stop the compile (CMakeLists.txt), so it also proves moodnet.hpp does not include them.
#include <moodnet/moodnet.hpp>

#include <cstdio>

// stb_image_write's own include guard: its code must not be compiled into a user's translation unit.
#ifdef INCLUDE_STB_IMAGE_WRITE_H
#error "moodnet/moodnet.hpp includes stb_image_write.h"
#endif

int main() {
  moodnet::Tensor<float> a({2, 3});
  moodnet::fill_uniform(a.view(), 42, -1.0, 1.0);
  moodnet::Tensor<float> b({3, 2});
  b.fill(1.0f);
  const auto c = (moodnet::eigen_matrix(a) * moodnet::eigen_matrix(b)).eval();
  const float row0 = a(0, 0) + a(0, 1) + a(0, 2);
  if (c.rows() != 2 || c.cols() != 2 || std::abs(c(0, 1) - row0) > 1e-6f) return 1;
  moodnet::train::ConfusionMatrix cm({"a", "b"});
  cm.add(0, 0), cm.add(1, 1), cm.add(1, 0), cm.add(0, 0);
  if (std::abs(cm.accuracy() - 0.75) > 1e-12) return 1;
  std::printf("moodnet %s consumer OK\n", MOODNET_VERSION_STRING);
  return 0;
}
