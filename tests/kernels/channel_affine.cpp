// The convolution epilogue (kernels/channel_affine.hpp) that folds an eval-mode BatchNorm2d (+ReLU)
// into the convolution before it: applying it inside the kernel must give exactly the bits of the
// convolution followed by the BatchNorm's eval map, on every code path of both kernels.
#include "moodnet/kernels/channel_affine.hpp"

#include <catch2/catch.hpp>

#include <cstring>

#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/depthwise_conv2d.hpp"
#include "../support/check.hpp"

using namespace moodnet;
namespace kn = moodnet::kernels;

namespace {

// y = the unfused result: plain output, then the per-channel map plane by plane.
void apply_after(const kn::ChannelAffine<float>& a, Tensor<float>& y) {
  const std::int64_t N = y.dim(0), K = y.dim(1), plane = y.dim(2) * y.dim(3);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t k = 0; k < K; ++k) {
      float* p = y.data() + (n * K + k) * plane;
      kn::detail::affine_plane(p, p, plane, a.scale[k], a.shift[k], a.relu);
    }
}

bool same_bits(const Tensor<float>& a, const Tensor<float>& b) {
  return a.numel() == b.numel() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

}  // namespace

TEST_CASE("conv2d epilogue equals the convolution followed by the channel map, bit for bit", "[kernels][conv2d]") {
  // pointwise direct path, im2col path with one and with several samples per GEMM, grouped, bias.
  struct Case { std::int64_t N, C, H, K, R, stride, pad, groups; bool bias; };
  for (const Case& c : {Case{3, 16, 17, 33, 1, 1, 0, 1, false}, Case{2, 5, 48, 7, 3, 1, 1, 1, true},
                       Case{5, 8, 6, 12, 3, 2, 1, 4, false}, Case{4, 17, 3, 15, 3, 1, 1, 1, true}}) {
    kn::Conv2dParams p;
    p.N = c.N, p.C = c.C, p.H = p.W = c.H, p.K = c.K, p.R = p.S = c.R;
    p.stride_h = p.stride_w = c.stride, p.pad_h = p.pad_w = c.pad, p.groups = c.groups;
    const Tensor<float> x = test::random_tensor<float>(p.input_shape(), 1), w = test::random_tensor<float>(p.weight_shape(), 2);
    const Tensor<float> b = test::random_tensor<float>({p.K}, 3), scale = test::random_tensor<float>({p.K}, 4, -2.0, 2.0);
    const Tensor<float> shift = test::random_tensor<float>({p.K}, 5);
    for (bool relu : {false, true}) {
      INFO("N=" << p.N << " C=" << p.C << " H=" << p.H << " K=" << p.K << " R=" << p.R << " groups=" << p.groups
                << " relu=" << relu);
      const kn::ChannelAffine<float> a{scale.data(), shift.data(), relu};
      Tensor<float> fused(p.output_shape()), plain(p.output_shape());
      Workspace ws;
      kn::conv2d_forward(p, x.data(), w.data(), c.bias ? b.data() : nullptr, fused.data(), ws, &a);
      kn::conv2d_forward(p, x.data(), w.data(), c.bias ? b.data() : nullptr, plain.data(), ws);
      apply_after(a, plain);
      REQUIRE(same_bits(fused, plain));
    }
  }
}

TEST_CASE("depthwise epilogue equals the convolution followed by the channel map, bit for bit",
          "[kernels][depthwise]") {
  for (kn::DepthwiseAlgo algo : {kn::DepthwiseAlgo::rows, kn::DepthwiseAlgo::channel_blocks}) {
    for (std::int64_t stride : {1, 2}) {
      kn::DepthwiseConv2dParams p;
      p.N = 3, p.C = 19, p.H = 17, p.W = 13, p.R = p.S = 3, p.stride_h = p.stride_w = stride, p.pad_h = p.pad_w = 1;
      p.algo = algo;
      const Tensor<float> x = test::random_tensor<float>({p.N, p.C, p.H, p.W}, 6);
      const Tensor<float> w = test::random_tensor<float>({p.C, 1, 3, 3}, 7);
      const Tensor<float> scale = test::random_tensor<float>({p.C}, 8, -2.0, 2.0), shift = test::random_tensor<float>({p.C}, 9);
      for (bool relu : {false, true}) {
        INFO("algo=" << static_cast<int>(algo) << " stride=" << stride << " relu=" << relu);
        const kn::ChannelAffine<float> a{scale.data(), shift.data(), relu};
        const Shape ys{p.N, p.C, p.out_h(), p.out_w()};
        Tensor<float> fused(ys), plain(ys);
        Workspace ws;
        kn::depthwise_conv2d_forward(p, x.data(), w.data(), static_cast<const float*>(nullptr), fused.data(), ws, &a);
        kn::depthwise_conv2d_forward(p, x.data(), w.data(), static_cast<const float*>(nullptr), plain.data(), ws);
        apply_after(a, plain);
        REQUIRE(same_bits(fused, plain));
      }
    }
  }
}
