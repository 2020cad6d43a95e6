#pragma once
// Gradient-check helper shared by the depthwise / pooling / activation / dropout kernel tests:
// compares an analytic gradient with central finite differences of L = sum_i lw_i * y_i.
#include <cstdint>
#include <functional>
#include <vector>

#include "check.hpp"
#include "moodnet/core/parallel.hpp"

namespace moodnet::test {

// x: [nx] (perturbed in place and restored); forward(y) computes y: [ny] from the current x;
// lw: [ny] the loss weights (= dL/dy); analytic: [nx] dL/dx from the kernel under test.
inline void require_gradient_matches(double* x, std::int64_t nx, std::int64_t ny,
                                     const std::function<void(double*)>& forward, const double* lw,
                                     const double* analytic, double tol = kFdTol) {
  // Thousands of forward calls: run them on one thread so a loaded machine does not stall every
  // parallel region at its barrier (results do not depend on the thread count anyway).
  const int saved_threads = num_threads();
  set_num_threads(1);
  std::vector<double> y(static_cast<std::size_t>(ny));
  const auto loss = [&] {
    forward(y.data());
    return weighted_sum(y.data(), lw, ny);
  };
  const std::vector<double> numeric = numeric_gradient(x, nx, loss);
  set_num_threads(saved_threads);
  const ErrorStats e = compare(analytic, numeric.data(), nx);
  INFO("gradient: max abs error " << e.max_abs << ", max rel error " << e.max_rel << " (tolerance " << tol
                                  << ") at index " << e.worst_index);
  REQUIRE(e.max_rel <= tol);
}

}  // namespace moodnet::test
