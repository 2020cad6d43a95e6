#include "moodnet/kernels/depthwise_conv2d.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "../support/check.hpp"
#include "../support/dwpool_grad.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/kernels/ref/depthwise_conv2d.hpp"

using namespace moodnet;
using kernels::DepthwiseConv2dParams;

namespace {

DepthwiseConv2dParams depthwise_params(std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t W, std::int64_t K,
                           std::int64_t stride, std::int64_t pad) {
  return {N, C, H, W, K, K, stride, stride, pad, pad};
}

// Optimized forward, backward-input and backward-weight against the ref:: oracle.
template <class T>
void compare_one(const DepthwiseConv2dParams& p, double tol);

// Both loop structures (rows, channel blocks) and the automatic choice, against the oracle.
template <class T>
void compare_with_ref(DepthwiseConv2dParams p, double tol) {
  for (auto algo : {kernels::DepthwiseAlgo::rows, kernels::DepthwiseAlgo::channel_blocks}) {
    p.algo = algo;
    compare_one<T>(p, tol);
  }
}

template <class T>
void compare_one(const DepthwiseConv2dParams& p, double tol) {
  INFO("algo=" << static_cast<int>(p.algo) << " ");
  INFO("N=" << p.N << " C=" << p.C << " H=" << p.H << " W=" << p.W << " R=" << p.R << " S=" << p.S
            << " stride=" << p.stride_h << "," << p.stride_w << " pad=" << p.pad_h << "," << p.pad_w);
  const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()}, ws_{p.C, 1, p.R, p.S};
  const auto x = test::random_tensor<T>(xs, 1), w = test::random_tensor<T>(ws_, 2),
             b = test::random_tensor<T>({p.C}, 3), dy = test::random_tensor<T>(ys, 4);
  Workspace ws;
  Tensor<T> y(ys), y_ref(ys);
  kernels::depthwise_conv2d_forward(p, x.data(), w.data(), b.data(), y.data(), ws);
  kernels::ref::depthwise_conv2d_forward(p, x.data(), w.data(), b.data(), y_ref.data());
  MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), tol);

  Tensor<T> dx(xs), dx_ref(xs);
  dx.fill(T(7));  // overwritten, not accumulated
  kernels::depthwise_conv2d_backward_input(p, dy.data(), w.data(), dx.data(), ws);
  kernels::ref::depthwise_conv2d_backward_input(p, dy.data(), w.data(), dx_ref.data());
  MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), tol);

  Tensor<T> dw(ws_), dw_ref(ws_);
  dw.fill(T(0.5));  // accumulated
  dw_ref.fill(T(0.5));
  kernels::depthwise_conv2d_backward_weight(p, x.data(), dy.data(), dw.data(), ws);
  kernels::ref::depthwise_conv2d_backward_weight(p, x.data(), dy.data(), dw_ref.data());
  MOODNET_REQUIRE_CLOSE(dw.view(), dw_ref.view(), tol * 10);
}

}  // namespace

TEST_CASE("depthwise_conv2d: optimized matches ref on odd shapes", "[kernels][depthwise]") {
  for (std::int64_t N : {1, 3})
    for (std::int64_t C : {1, 3, 16, 17})
      for (std::int64_t K : {3, 5})
        for (std::int64_t stride : {1, 2})
          for (std::int64_t pad : {0, 1}) {
            compare_with_ref<double>(depthwise_params(N, C, 17, 13, K, stride, pad), test::kDoubleTol);
            if (N == 3) compare_with_ref<float>(depthwise_params(N, C, 17, 13, K, stride, pad), test::kFloatTol);
          }
}

TEST_CASE("depthwise_conv2d: hot 3x3 shapes at 48x48, general kernels, rectangular params", "[kernels][depthwise]") {
  compare_with_ref<float>(depthwise_params(3, 15, 48, 48, 3, 1, 1), test::kFloatTol);
  compare_with_ref<float>(depthwise_params(1, 33, 48, 48, 3, 2, 1), test::kFloatTol);
  compare_with_ref<double>(depthwise_params(3, 15, 6, 6, 3, 1, 1), test::kDoubleTol);
  compare_with_ref<double>(depthwise_params(2, 5, 3, 3, 3, 1, 1), test::kDoubleTol);   // 3x3 maps: all border
  compare_with_ref<double>(depthwise_params(2, 3, 9, 11, 1, 1, 0), test::kDoubleTol);  // 1x1
  compare_with_ref<double>(depthwise_params(2, 3, 9, 11, 4, 3, 2), test::kDoubleTol);  // even kernel, stride 3
  compare_with_ref<double>({2, 3, 10, 9, 3, 2, 2, 1, 1, 0}, test::kDoubleTol);  // R != S, sh != sw
  compare_with_ref<double>({1, 4, 7, 12, 2, 5, 1, 3, 0, 2}, test::kDoubleTol);
}

TEST_CASE("depthwise_conv2d: backward passes match finite differences in double", "[kernels][depthwise]") {
  for (auto p0 : {depthwise_params(2, 3, 7, 6, 3, 1, 1), depthwise_params(2, 3, 7, 6, 3, 2, 1), depthwise_params(1, 2, 8, 9, 5, 2, 0),
                  DepthwiseConv2dParams{1, 2, 7, 8, 2, 3, 2, 1, 1, 2}})
  for (auto algo : {kernels::DepthwiseAlgo::rows, kernels::DepthwiseAlgo::channel_blocks}) {
    auto p = p0;
    p.algo = algo;
    INFO("R=" << p.R << " S=" << p.S << " stride=" << p.stride_h << "," << p.stride_w);
    const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()}, wsh{p.C, 1, p.R, p.S};
    auto x = test::random_tensor<double>(xs, 11);
    auto w = test::random_tensor<double>(wsh, 12);
    auto b = test::random_tensor<double>({p.C}, 13);
    const auto lw = test::random_tensor<double>(ys, 14);  // dL/dy
    Workspace ws;
    const auto forward = [&](double* y) { kernels::depthwise_conv2d_forward(p, x.data(), w.data(), b.data(), y, ws); };

    Tensor<double> dx(xs), dw(wsh), db({p.C});
    kernels::depthwise_conv2d_backward_input(p, lw.data(), w.data(), dx.data(), ws);
    kernels::depthwise_conv2d_backward_weight(p, x.data(), lw.data(), dw.data(), ws);
    kernels::depthwise_conv2d_backward_bias(p, lw.data(), db.data());
    test::require_gradient_matches(x.data(), x.numel(), lw.numel(), forward, lw.data(), dx.data());
    test::require_gradient_matches(w.data(), w.numel(), lw.numel(), forward, lw.data(), dw.data());
    test::require_gradient_matches(b.data(), b.numel(), lw.numel(), forward, lw.data(), db.data());
  }
}

TEST_CASE("depthwise_conv2d: weight gradient is bit-identical for 1 and 2 threads", "[kernels][depthwise]") {
  const int saved = num_threads();
  for (auto p : {depthwise_params(5, 17, 20, 19, 3, 1, 1), depthwise_params(4, 3, 24, 24, 3, 2, 1), depthwise_params(5, 33, 6, 6, 3, 1, 1)}) {
    const Shape xs{p.N, p.C, p.H, p.W}, ys{p.N, p.C, p.out_h(), p.out_w()}, wsh{p.C, 1, p.R, p.S};
    const auto x = test::random_tensor<float>(xs, 21), dy = test::random_tensor<float>(ys, 22),
               w = test::random_tensor<float>(wsh, 23);
    Tensor<float> dw1(wsh), dw2(wsh), dx1(xs), dx2(xs), y1(ys), y2(ys);
    Workspace ws;
    set_num_threads(1);
    kernels::depthwise_conv2d_backward_weight(p, x.data(), dy.data(), dw1.data(), ws);
    kernels::depthwise_conv2d_backward_input(p, dy.data(), w.data(), dx1.data(), ws);
    kernels::depthwise_conv2d_forward(p, x.data(), w.data(), static_cast<const float*>(nullptr), y1.data(), ws);
    set_num_threads(2);
    kernels::depthwise_conv2d_backward_weight(p, x.data(), dy.data(), dw2.data(), ws);
    kernels::depthwise_conv2d_backward_input(p, dy.data(), w.data(), dx2.data(), ws);
    kernels::depthwise_conv2d_forward(p, x.data(), w.data(), static_cast<const float*>(nullptr), y2.data(), ws);
    for (std::int64_t i = 0; i < dw1.numel(); ++i) REQUIRE(dw1[i] == dw2[i]);
    for (std::int64_t i = 0; i < dx1.numel(); ++i) REQUIRE(dx1[i] == dx2[i]);
    for (std::int64_t i = 0; i < y1.numel(); ++i) REQUIRE(y1[i] == y2[i]);
    // and the gradient is a real, non-trivial value
    REQUIRE(dw1[0] != 0.0f);
  }
  set_num_threads(saved);
}

TEST_CASE("depthwise_conv2d: bad parameters throw moodnet::Error naming the values", "[kernels][depthwise]") {
  using Catch::Matchers::Contains;
  REQUIRE_THROWS_WITH(depthwise_params(0, 3, 8, 8, 3, 1, 1).validate(), Contains("N=0"));
  REQUIRE_THROWS_WITH(depthwise_params(1, 3, 8, 8, 3, 0, 1).validate(), Contains("stride_h=0"));
  REQUIRE_THROWS_WITH(depthwise_params(1, 3, 8, 8, 3, 1, 3).validate(), Contains("pad_h=3"));
  REQUIRE_THROWS_WITH(depthwise_params(1, 3, 2, 2, 5, 1, 1).validate(), Contains("5x5"));
  REQUIRE_THROWS_WITH(depthwise_params(1, 3, 8, 8, 0, 1, 0).validate(), Contains("R=0"));
  Workspace ws;
  std::vector<float> buf(1000);
  REQUIRE_THROWS_AS(kernels::depthwise_conv2d_forward(depthwise_params(1, -1, 8, 8, 3, 1, 1), buf.data(), buf.data(),
                                                      static_cast<const float*>(nullptr), buf.data(), ws),
                    Error);
}
