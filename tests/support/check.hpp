#pragma once
// Shared helpers for moodnet's tests: error metrics against a reference, finite-difference
// gradients in double, random inputs, and skipping a test file when optional data is absent.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"

namespace moodnet::test {

// Max-abs and max-relative error between two arrays; rel = |a-b| / max(|b|, 1) so values near
// zero are judged on absolute error.
struct ErrorStats {
  double max_abs = 0, max_rel = 0;
  std::int64_t worst_index = -1;
};

template <class A, class B>
inline ErrorStats compare(const A* actual, const B* expected, std::int64_t n) {
  ErrorStats e;
  for (std::int64_t i = 0; i < n; ++i) {
    const double a = static_cast<double>(actual[i]), b = static_cast<double>(expected[i]);
    if (std::isnan(a) || std::isnan(b)) {  // a NaN anywhere fails any tolerance
      if (e.max_abs != INFINITY) e.worst_index = i;
      e.max_abs = e.max_rel = INFINITY;
      continue;
    }
    const double abs_err = std::abs(a - b), rel_err = abs_err / std::max(std::abs(b), 1.0);
    if (abs_err > e.max_abs) {
      e.max_abs = abs_err;
      e.worst_index = i;
    }
    e.max_rel = std::max(e.max_rel, rel_err);
  }
  return e;
}
template <class A, class B>
inline ErrorStats compare(TensorView<A> actual, TensorView<B> expected) {
  REQUIRE(actual.numel() == expected.numel());
  return compare(actual.data(), expected.data(), actual.numel());
}

// Named tolerances: float kernels vs a double/float reference; double vs double.
inline constexpr double kFloatTol = 1e-4;
inline constexpr double kDoubleTol = 1e-10;
// Finite-difference gradient checks in double (central differences, step kFdStep).
inline constexpr double kFdStep = 1e-5;
inline constexpr double kFdTol = 1e-6;

// REQUIRE that `actual` matches `expected` within a relative tolerance (see ErrorStats), with a
// message that reports the errors and the first offending index.
#define MOODNET_REQUIRE_CLOSE(actual, expected, tol)                                          \
  do {                                                                                        \
    const auto moodnet_stats_ = ::moodnet::test::compare((actual), (expected));               \
    INFO("max abs error " << moodnet_stats_.max_abs << ", max rel error " << moodnet_stats_.max_rel \
                          << " (tolerance " << (tol) << ") at index " << moodnet_stats_.worst_index); \
    REQUIRE(moodnet_stats_.max_rel <= (tol));                                                 \
  } while (0)

// A tensor of the given shape with uniform values in [lo, hi), from `seed`.
template <class T>
inline Tensor<T> random_tensor(Shape shape, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Tensor<T> t(shape);
  fill_uniform(t.view(), seed, lo, hi);
  return t;
}

// Central finite differences of a scalar function of x: grad[i] = (f(x+h e_i) - f(x-h e_i)) / 2h.
// `loss` reads x (which this function perturbs in place and restores).
inline std::vector<double> numeric_gradient(double* x, std::int64_t n, const std::function<double()>& loss,
                                            double h = kFdStep) {
  std::vector<double> g(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = loss();
    x[i] = saved - h;
    const double down = loss();
    x[i] = saved;
    g[static_cast<std::size_t>(i)] = (up - down) / (2 * h);
  }
  return g;
}

// Moves values of x away from the kinks of piecewise-linear functions (ReLU at 0, ties in
// max-pooling) so a finite-difference step never crosses one: |x| >= margin, and values are
// spread so no two are closer than about margin.
inline void avoid_kinks(double* x, std::int64_t n, double margin = 1e-3) {
  for (std::int64_t i = 0; i < n; ++i) {
    if (std::abs(x[i]) < margin) x[i] = x[i] < 0 ? -margin - 1e-2 : margin + 1e-2;
    x[i] += 1e-6 * static_cast<double>(i % 997);  // break exact ties deterministically
  }
}

// Loss used by gradient checks: L = sum_i w_i * y_i with fixed random weights w, so dL/dy = w.
inline double weighted_sum(const double* y, const double* w, std::int64_t n) {
  double s = 0;
  for (std::int64_t i = 0; i < n; ++i) s += y[i] * w[i];
  return s;
}

// Exit code ctest reads as "skipped" (SKIP_RETURN_CODE in tests/CMakeLists.txt). Use only in a test
// file devoted to optional data: it ends the whole executable.
inline constexpr int kSkipExitCode = 4;
[[noreturn]] inline void skip_test_file(const std::string& reason) {
  std::printf("SKIPPED: %s\n", reason.c_str());
  std::fflush(stdout);
  std::_Exit(kSkipExitCode);
}

// ../shared/fer2013 beside the repo (or $MOODNET_FER2013_DIR when set).
inline std::string shared_fer2013_dir() {
  if (const char* env = std::getenv("MOODNET_FER2013_DIR")) return env;
#ifdef MOODNET_SHARED_DIR
  return std::string(MOODNET_SHARED_DIR) + "/fer2013";
#else
  return "../shared/fer2013";
#endif
}

}  // namespace moodnet::test
