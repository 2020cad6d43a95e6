#include "moodnet/core/workspace.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

TEST_CASE("Workspace: slots grow to the largest request and are then reused", "[core][workspace]") {
  moodnet::Workspace ws;
  ws.reserve_slots(2);
  CHECK(ws.slots() == 2);
  float* a = ws.get<float>(0, 100);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  a[99] = 1.0f;
  CHECK(ws.get<float>(0, 50) == a);   // smaller request: same buffer
  CHECK(ws.get<float>(0, 100) == a);  // same size: same buffer
  double* b = ws.get<double>(1, 10);
  CHECK(static_cast<void*>(b) != static_cast<void*>(a));
  CHECK(ws.bytes() == 100 * 4 + 10 * 8);
  ws.reserve_slots(1);  // never shrinks
  CHECK(ws.slots() == 2);
}
