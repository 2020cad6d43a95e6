#include "moodnet/core/tensor.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

// core/tensor.hpp pulls in no Eigen: the Eigen views are opt-in (core/gemm.hpp, tests/core/gemm.cpp).
#ifdef EIGEN_WORLD_VERSION
#error "core/tensor.hpp includes Eigen"
#endif

using moodnet::Error;
using moodnet::Shape;
using moodnet::Tensor;
using moodnet::TensorView;

TEST_CASE("Shape: rank, numel, equality, string", "[core][shape]") {
  Shape s{64, 32, 48, 48};
  CHECK(s.rank() == 4);
  CHECK(s.numel() == 64 * 32 * 48 * 48);
  CHECK(s.inner_numel() == 32 * 48 * 48);
  CHECK(s.str() == "[64, 32, 48, 48]");
  CHECK(s == Shape{64, 32, 48, 48});
  CHECK(s != Shape{64, 32, 48});
  CHECK(Shape{}.numel() == 1);
  CHECK(s.with_outer(3) == Shape{3, 32, 48, 48});
  REQUIRE_THROWS_AS((Shape{1, 2, 3, 4, 5}), Error);
  REQUIRE_THROWS_AS((Shape{2, -1}), Error);
  REQUIRE_THROWS_WITH(s.dim(4), Catch::Contains("dimension 4") && Catch::Contains("[64, 32, 48, 48]"));
}

TEST_CASE("Tensor: zero-filled, 64-byte aligned, element access in NCHW order", "[core][tensor]") {
  Tensor<float> t({2, 3, 4, 5});
  REQUIRE(t.numel() == 120);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
  for (float v : t) CHECK(v == 0.0f);
  t(1, 2, 3, 4) = 7.0f;
  CHECK(t[119] == 7.0f);
  t(0, 1, 0, 0) = 3.0f;
  CHECK(t[20] == 3.0f);
  CHECK(t.at(1, 2, 3, 4) == 7.0f);
  REQUIRE_THROWS_WITH(t.at(2, 0, 0, 0), Catch::Contains("index 2 out of range for dimension 0"));
  REQUIRE_THROWS_WITH(t.at(0, 0), Catch::Contains("2 indices") && Catch::Contains("[2, 3, 4, 5]"));
  Tensor<double> m({3, 4});
  m(2, 3) = 1.5;
  CHECK(m[11] == 1.5);
}

TEST_CASE("Tensor: reshape and batch views share storage", "[core][tensor]") {
  Tensor<float> t({4, 2, 3});
  for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(i);

  TensorView<float> flat = t.reshape({4, 6});
  CHECK(flat.data() == t.data());
  CHECK(flat(2, 5) == 17.0f);
  REQUIRE_THROWS_WITH(t.reshape({5, 5}), Catch::Contains("cannot reshape [4, 2, 3]"));

  TensorView<float> b = t.batch(1, 2);
  CHECK(b.shape() == Shape{2, 2, 3});
  CHECK(b.data() == t.data() + 6);
  b(0, 0, 0) = -1.0f;
  CHECK(t(1, 0, 0) == -1.0f);
  CHECK(t.item(3).shape() == Shape{1, 2, 3});
  REQUIRE_THROWS_WITH(t.batch(3, 2), Catch::Contains("batch slice [3, 5) out of range for shape [4, 2, 3]"));
  REQUIRE_THROWS_AS(t.batch(-1, 1), Error);

  TensorView<const float> cv = t;  // a tensor converts to a read-only view
  CHECK(cv(1, 0, 0) == -1.0f);
}

TEST_CASE("Tensor: fill, zero, copy, deep copies and cheap moves", "[core][tensor]") {
  Tensor<float> a({3, 3});
  a.fill(2.5f);
  Tensor<float> b = a;  // deep copy
  CHECK(b.data() != a.data());
  b(0, 0) = 0.0f;
  CHECK(a(0, 0) == 2.5f);

  const float* storage = a.data();
  Tensor<float> c = std::move(a);  // O(1): the storage moves
  CHECK(c.data() == storage);
  CHECK(a.numel() == 0);  // NOLINT(bugprone-use-after-move): the moved-from tensor is empty

  Tensor<float> d({9});
  d.copy_from(c);
  CHECK(d[8] == 2.5f);
  REQUIRE_THROWS_WITH(d.copy_from(Tensor<float>({12})), Catch::Contains("does not match"));
  d.zero();
  CHECK(d[4] == 0.0f);
}

TEST_CASE("Tensor: resize reuses storage that is large enough", "[core][tensor]") {
  Tensor<float> t({64, 10});
  const float* p = t.data();
  t.resize({32, 10});
  CHECK(t.data() == p);
  CHECK(t.shape() == Shape{32, 10});
  t.resize({64, 10});
  CHECK(t.data() == p);
  t.resize({65, 10});
  CHECK(t.capacity() == 650);
  CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0);
}

TEST_CASE("check_shape names the tensor and both shapes", "[core][tensor]") {
  Tensor<double> a({2, 3});
  CHECK_NOTHROW(moodnet::check_shape(a.shape(), {2, 3}, "a"));
  REQUIRE_THROWS_WITH(moodnet::check_shape(a.shape(), {3, 2}, "weight"),
                      Catch::Contains("weight has shape [2, 3], expected [3, 2]"));
}
