// core/gemm.hpp: Eigen views of tensors, and eigen_single_threaded, which keeps every Eigen GEMM on
// the calling thread without touching Eigen's process-wide thread setting.
#include "moodnet/core/gemm.hpp"

#include <catch2/catch.hpp>

#include <cstring>

#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"

using moodnet::Tensor;

TEST_CASE("eigen_matrix views a tensor's storage as a row-major matrix", "[core][gemm]") {
  Tensor<double> a({2, 3}), b({3, 2});
  for (int i = 0; i < 6; ++i) a[i] = i + 1, b[i] = 6 - i;
  Tensor<double> c({2, 2});
  moodnet::eigen_matrix(c).noalias() = moodnet::eigen_matrix(a) * moodnet::eigen_matrix(b);
  // [[1,2,3],[4,5,6]] * [[6,5],[4,3],[2,1]] = [[20,14],[56,41]]
  CHECK(c(0, 0) == 20);
  CHECK(c(0, 1) == 14);
  CHECK(c(1, 0) == 56);
  CHECK(c(1, 1) == 41);
  CHECK(moodnet::eigen_matrix(a.reshape({3, 2}))(2, 1) == 6);
  const moodnet::TensorView<const double> ca = a;
  CHECK(moodnet::eigen_matrix(ca, 1, 6)(0, 5) == 6);
  REQUIRE_THROWS_WITH(moodnet::eigen_matrix(a.view(), 4, 2),
                      Catch::Contains("matrix view 4x2 does not fit shape [2, 3]"));
}

TEST_CASE("Including moodnet leaves Eigen's thread setting alone; Eigen GEMMs stay on one thread",
          "[core][gemm][threads]") {
  const int saved = moodnet::num_threads();
  moodnet::set_num_threads(2);
  // Eigen was never told a thread count: it follows OpenMP's (Parallelizer.h), so no header changed it.
  CHECK(Eigen::nbThreads() == 2);
  int seen_inside = 0;
  moodnet::eigen_single_threaded([&] { seen_inside = Eigen::nbThreads(); });
  CHECK(seen_inside == 1);                  // what Eigen's GEMM sees inside
  CHECK(moodnet::num_threads() == 2);        // nothing leaks out
  CHECK(Eigen::nbThreads() == 2);
  int in_team = 0;
#pragma omp parallel num_threads(2)
  {
    // Inside one of our parallel loops Eigen is serial by itself; the helper runs f directly.
#pragma omp single
    moodnet::eigen_single_threaded([&] { in_team = omp_get_num_threads(); });
  }
  CHECK(in_team == 2);

  // A product large enough for Eigen to split over two threads gives the one-thread bits.
  const std::int64_t n = 320;
  Tensor<double> a({n, n}), b({n, n}), c1({n, n}), c2({n, n});
  moodnet::fill_uniform(a.view(), 1, -1.0, 1.0);
  moodnet::fill_uniform(b.view(), 2, -1.0, 1.0);
  moodnet::set_num_threads(1);
  moodnet::eigen_matrix(c1).noalias() = moodnet::eigen_matrix(a) * moodnet::eigen_matrix(b);
  moodnet::set_num_threads(2);
  moodnet::eigen_single_threaded(
      [&] { moodnet::eigen_matrix(c2).noalias() = moodnet::eigen_matrix(a) * moodnet::eigen_matrix(b); });
  CHECK(std::memcmp(c1.data(), c2.data(), sizeof(double) * c1.numel()) == 0);
  moodnet::set_num_threads(saved);
}
