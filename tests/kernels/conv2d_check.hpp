#pragma once
// Shared by the conv2d tests (tests/kernels/conv2d.cpp, conv2d_direct.cpp): a one-line description
// of the parameters, and the comparison of all four kernels with the nested-loop oracle.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/ref/conv2d.hpp"
#include "../support/check.hpp"

namespace moodnet::test {

inline std::string describe(const kernels::Conv2dParams& p, bool bias = false) {
  const char* algo = p.algo == kernels::Conv2dAlgo::gemm ? "gemm " : p.algo == kernels::Conv2dAlgo::direct ? "direct " : "";
  std::ostringstream os;
  os << algo << "N=" << p.N << " C=" << p.C << " H=" << p.H << " W=" << p.W << " K=" << p.K << " R=" << p.R
     << " S=" << p.S << " stride=" << p.stride_h << "x" << p.stride_w << " pad=" << p.pad_h << "x" << p.pad_w
     << " groups=" << p.groups << (bias ? " bias" : " no-bias");
  return os.str();
}

template <class T>
inline Tensor<double> to_double(const Tensor<T>& t) {
  Tensor<double> d(t.shape());
  for (std::int64_t i = 0; i < t.numel(); ++i) d[i] = static_cast<double>(t[i]);
  return d;
}

// Runs forward, backward-input, backward-weight and backward-bias of the optimized kernels in T and of
// the oracle in double (on the same inputs), and compares all four within `tol`.
template <class T>
void check_against_ref(const kernels::Conv2dParams& p, bool with_bias, double tol, std::uint64_t seed) {
  INFO(describe(p, with_bias));
  const auto x = test::random_tensor<T>(p.input_shape(), seed);
  const auto w = test::random_tensor<T>(p.weight_shape(), seed + 1);
  const auto b = test::random_tensor<T>(Shape{p.K}, seed + 2);
  const auto dy = test::random_tensor<T>(p.output_shape(), seed + 3);
  // Gradients start non-zero to check that dw and db accumulate while dx is overwritten.
  const auto dw0 = test::random_tensor<T>(p.weight_shape(), seed + 4);
  const auto db0 = test::random_tensor<T>(Shape{p.K}, seed + 5);

  Workspace ws;
  auto y = Tensor<T>::uninitialized(p.output_shape());
  auto dx = test::random_tensor<T>(p.input_shape(), seed + 6);  // garbage: must be overwritten
  Tensor<T> dw = dw0, db = db0;
  kernels::conv2d_forward<T>(p, x, w, with_bias ? b.data() : nullptr, y, ws);
  kernels::conv2d_backward_input<T>(p, dy, w, dx, ws);
  kernels::conv2d_backward_weight<T>(p, x, dy, dw, ws);
  kernels::conv2d_backward_bias<T>(p, dy, db);

  const auto xd = to_double(x), wd = to_double(w), bd = to_double(b), dyd = to_double(dy);
  Tensor<double> y_ref(p.output_shape()), dx_ref(p.input_shape());
  Tensor<double> dw_ref = to_double(dw0), db_ref = to_double(db0);
  kernels::ref::conv2d_forward(p, xd.data(), wd.data(), with_bias ? bd.data() : nullptr, y_ref.data());
  kernels::ref::conv2d_backward_input(p, dyd.data(), wd.data(), dx_ref.data());
  kernels::ref::conv2d_backward_weight(p, xd.data(), dyd.data(), dw_ref.data());
  kernels::ref::conv2d_backward_bias(p, dyd.data(), db_ref.data());

  {
    INFO("forward y");
    MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), tol);
  }
  {
    INFO("backward input dx");
    MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), tol);
  }
  {
    INFO("backward weight dw");
    MOODNET_REQUIRE_CLOSE(dw.view(), dw_ref.view(), tol);
  }
  {
    INFO("backward bias db");
    MOODNET_REQUIRE_CLOSE(db.view(), db_ref.view(), tol);
  }
}

}  // namespace moodnet::test
