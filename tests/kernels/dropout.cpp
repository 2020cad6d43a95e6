#include "moodnet/kernels/dropout.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "../support/check.hpp"
#include "../support/dwpool_grad.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/shard.hpp"
#include "moodnet/kernels/ref/dropout.hpp"

using namespace moodnet;
using kernels::DropoutParams;

TEST_CASE("dropout: matches the ref oracle (same mask, same values), also in place", "[kernels][dropout]") {
  for (std::int64_t n : {1, 7, 4096, 3 * 17 * 13 * 33 + 1})
    for (double p : {0.0, 0.25, 0.5}) {
      INFO("n=" << n << " p=" << p);
      const DropoutParams dp{n, p, true, 1234};
      const auto x = test::random_tensor<float>({n}, 81), dy = test::random_tensor<float>({n}, 82);
      Tensor<float> y({n}), y_ref({n}), dx({n}), dx_ref({n});
      Tensor<std::uint8_t> m({n}), m_ref({n});
      kernels::dropout_forward(dp, x.data(), y.data(), m.data());
      kernels::ref::dropout_forward(dp, x.data(), y_ref.data(), m_ref.data());
      for (std::int64_t i = 0; i < n; ++i) REQUIRE(m[i] == m_ref[i]);
      MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), 1e-6);
      kernels::dropout_backward(dp, dy.data(), m.data(), dx.data());
      kernels::ref::dropout_backward(dp, dy.data(), m_ref.data(), dx_ref.data());
      MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), 1e-6);
      Tensor<float> inplace = x;
      kernels::dropout_forward(dp, inplace.data(), inplace.data(), m.data());
      MOODNET_REQUIRE_CLOSE(inplace.view(), y.view(), 0.0);
    }
}

TEST_CASE("dropout: a piece at an offset matches the ref oracle (the whole tensor's mask there)",
          "[kernels][dropout]") {
  const std::int64_t K = kernels::kDropoutChunk;
  for (std::int64_t offset : {std::int64_t{1}, std::int64_t{2}, K - 1, K, K + 3, 3 * K - 2})
    for (std::int64_t n : {std::int64_t{1}, std::int64_t{2}, std::int64_t{7}, K - 1, 2 * K + 5}) {
      INFO("offset=" << offset << " n=" << n);
      const DropoutParams dp{n, 0.3, true, 4321, offset};
      const auto x = test::random_tensor<double>({n}, 87), dy = test::random_tensor<double>({n}, 88);
      Tensor<double> y({n}), y_ref({n}), dx({n}), dx_ref({n});
      Tensor<std::uint8_t> m({n}), m_ref({n});
      kernels::dropout_forward(dp, x.data(), y.data(), m.data());
      kernels::ref::dropout_forward(dp, x.data(), y_ref.data(), m_ref.data());
      std::int64_t differ = 0;
      for (std::int64_t i = 0; i < n; ++i) differ += m[i] != m_ref[i];
      REQUIRE(differ == 0);
      MOODNET_REQUIRE_CLOSE(y.view(), y_ref.view(), 0.0);
      kernels::dropout_backward(dp, dy.data(), m.data(), dx.data());
      kernels::ref::dropout_backward(dp, dy.data(), m_ref.data(), dx_ref.data());
      MOODNET_REQUIRE_CLOSE(dx.view(), dx_ref.view(), 0.0);
    }
  std::vector<float> b(4);
  std::vector<std::uint8_t> m(4);
  REQUIRE_THROWS_WITH(kernels::dropout_forward(DropoutParams{4, 0.5, true, 1, -4}, b.data(), b.data(), m.data()),
                      Catch::Matchers::Contains("offset=-4"));
}

// Data parallelism: a rank holding items [begin, end) of a global batch of `batch` items of `item`
// elements passes offset = begin x item; its masks, outputs and gradients are the whole batch's rows.
// Returns how many of the later shards' mask elements differ from the whole batch's when drawn
// without the offset (at the rank's own positions, as before the offset existed).
template <class T>
std::int64_t check_dropout_shards(std::int64_t batch, std::int64_t item, int ranks) {
  INFO("batch=" << batch << " item=" << item << " ranks=" << ranks);
  const std::int64_t n = batch * item;
  const DropoutParams whole{n, 0.4, true, 2024};
  const auto x = test::random_tensor<T>({n}, 89), dy = test::random_tensor<T>({n}, 90);
  Tensor<T> y({n}), dx({n});
  Tensor<std::uint8_t> m({n});
  kernels::dropout_forward(whole, x.data(), y.data(), m.data());
  kernels::dropout_backward(whole, dy.data(), m.data(), dx.data());
  std::int64_t unshifted_differ = 0;
  for (int r = 0; r < ranks; ++r) {
    const Shard s = shard_of(batch, r, ranks);
    const std::int64_t begin = s.begin * item, count = s.size() * item;
    DropoutParams piece = whole;
    piece.n = count, piece.offset = begin;
    Tensor<T> ys({count}), dxs({count}), ys0({count});
    Tensor<std::uint8_t> ms({count}), ms0({count});
    kernels::dropout_forward(piece, x.data() + begin, ys.data(), ms.data());
    kernels::dropout_backward(piece, dy.data() + begin, ms.data(), dxs.data());
    std::int64_t differ = 0;
    for (std::int64_t i = 0; i < count; ++i)
      differ += ms[i] != m[begin + i] || ys[i] != y[begin + i] || dxs[i] != dx[begin + i];
    REQUIRE(differ == 0);  // the same bits
    // Without the offset (the rank's own positions) a later shard gets the first items' masks instead.
    piece.offset = 0;
    kernels::dropout_forward(piece, x.data() + begin, ys0.data(), ms0.data());
    for (std::int64_t i = 0; i < count && r > 0; ++i) unshifted_differ += ms0[i] != m[begin + i];
  }
  return unshifted_differ;
}

TEST_CASE("dropout: the shards of a batch with their offsets get the whole batch's masks, in any split",
          "[kernels][dropout]") {
  const std::int64_t K = kernels::kDropoutChunk;
  std::int64_t unshifted_differ = 0, later = 0;
  for (std::int64_t item : {std::int64_t{1}, std::int64_t{37}, K + 3, 2 * K + 1})
    for (std::int64_t batch : {7, 11})
      for (int ranks : {2, 3, 4}) {
        unshifted_differ += check_dropout_shards<float>(batch, item, ranks);
        unshifted_differ += check_dropout_shards<double>(batch, item, ranks);
        later += 2 * (batch - shard_of(batch, 0, ranks).size()) * item;
      }
  // Masks drawn at the ranks' own positions differ in about 2 p (1 - p) = 48% of the later shards'
  // elements: the offset matters.
  CHECK(unshifted_differ > later / 3);
}

TEST_CASE("dropout: keeps the mean, drops a fraction p, scales kept values by 1/(1-p)", "[kernels][dropout]") {
  const std::int64_t n = 1 << 20;
  for (double p : {0.2, 0.25, 0.5}) {
    INFO("p=" << p);
    Tensor<double> x({n}), y({n});
    x.fill(3.0);
    Tensor<std::uint8_t> m({n});
    kernels::dropout_forward(DropoutParams{n, p, true, 99}, x.data(), y.data(), m.data());
    double sum = 0;
    std::int64_t zeros = 0, bad = 0;  // counted, not REQUIREd per element (a million of them)
    for (std::int64_t i = 0; i < n; ++i) {
      sum += y[i];
      if (y[i] == 0) {
        ++zeros;
        bad += m[i] != 0;
      } else {
        bad += m[i] != 1 || std::abs(y[i] - 3.0 / (1 - p)) > 1e-12;
      }
    }
    REQUIRE(bad == 0);
    // binomial std of the zero fraction: sqrt(p(1-p)/n) < 5e-4; allow 5 sigma
    CHECK(double(zeros) / n == Approx(p).margin(2.5e-3));
    CHECK(sum / n == Approx(3.0).margin(3.0 * 2.5e-3 / (1 - p) * 2));
  }
}

TEST_CASE("dropout: eval is the identity, p = 0 keeps everything", "[kernels][dropout]") {
  const std::int64_t n = 1000;
  const auto x = test::random_tensor<float>({n}, 83);
  Tensor<float> y({n}), dx({n});
  Tensor<std::uint8_t> m({n});
  m.fill(7);
  kernels::dropout_forward(DropoutParams{n, 0.5, false, 1}, x.data(), y.data(), m.data());
  MOODNET_REQUIRE_CLOSE(y.view(), x.view(), 0.0);
  REQUIRE(m[0] == 7);  // eval does not touch the mask
  kernels::dropout_backward(DropoutParams{n, 0.5, false, 1}, x.data(), m.data(), dx.data());
  MOODNET_REQUIRE_CLOSE(dx.view(), x.view(), 0.0);
  kernels::dropout_forward(DropoutParams{n, 0.0, true, 1}, x.data(), y.data(), m.data());
  MOODNET_REQUIRE_CLOSE(y.view(), x.view(), 0.0);
}

TEST_CASE("dropout: the mask depends on the seed only, not on the thread count", "[kernels][dropout]") {
  const int saved = num_threads();
  const std::int64_t n = 5 * 4096 + 123;
  const auto x = test::random_tensor<float>({n}, 84);
  Tensor<float> y1({n}), y2({n}), y3({n});
  Tensor<std::uint8_t> m1({n}), m2({n}), m3({n});
  set_num_threads(1);
  kernels::dropout_forward(DropoutParams{n, 0.3, true, 5}, x.data(), y1.data(), m1.data());
  set_num_threads(2);
  kernels::dropout_forward(DropoutParams{n, 0.3, true, 5}, x.data(), y2.data(), m2.data());
  kernels::dropout_forward(DropoutParams{n, 0.3, true, 6}, x.data(), y3.data(), m3.data());
  set_num_threads(saved);
  std::int64_t differ = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    REQUIRE(m1[i] == m2[i]);
    REQUIRE(y1[i] == y2[i]);
    differ += m1[i] != m3[i];
  }
  CHECK(differ > n / 10);  // another seed gives another mask
}

TEST_CASE("dropout: backward reuses the mask and matches finite differences", "[kernels][dropout]") {
  const std::int64_t n = 300;
  const DropoutParams dp{n, 0.4, true, 77};
  auto x = test::random_tensor<double>({n}, 85);
  const auto lw = test::random_tensor<double>({n}, 86);
  Tensor<double> y({n}), dx({n});
  Tensor<std::uint8_t> m({n});
  kernels::dropout_forward(dp, x.data(), y.data(), m.data());
  kernels::dropout_backward(dp, lw.data(), m.data(), dx.data());
  for (std::int64_t i = 0; i < n; ++i) REQUIRE((dx[i] == 0) == (m[i] == 0));
  // Same seed -> same mask, so the forward is a fixed linear map that FD can probe.
  Tensor<std::uint8_t> m2({n});
  const auto fwd = [&](double* out) { kernels::dropout_forward(dp, x.data(), out, m2.data()); };
  test::require_gradient_matches(x.data(), n, n, fwd, lw.data(), dx.data());
}

TEST_CASE("dropout: p outside [0, 1) throws moodnet::Error naming p", "[kernels][dropout]") {
  using Catch::Matchers::Contains;
  std::vector<float> b(4);
  std::vector<std::uint8_t> m(4);
  REQUIRE_THROWS_WITH(kernels::dropout_forward(DropoutParams{4, 1.0}, b.data(), b.data(), m.data()), Contains("p=1"));
  REQUIRE_THROWS_WITH(kernels::dropout_forward(DropoutParams{4, -0.1}, b.data(), b.data(), m.data()),
                      Contains("p=-0.1"));
  REQUIRE_THROWS_WITH(kernels::dropout_backward(DropoutParams{-1, 0.5}, b.data(), m.data(), b.data()),
                      Contains("n=-1"));
}
