#include "moodnet/core/error.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

TEST_CASE("MOODNET_CHECK throws moodnet::Error naming the values", "[core][error]") {
  const int channels = 3, expected = 4;
  REQUIRE_NOTHROW(MOODNET_CHECK(channels == 3, "unused"));
  REQUIRE_THROWS_AS(MOODNET_CHECK(channels == expected, "channels ", channels, " != ", expected), moodnet::Error);
  REQUIRE_THROWS_WITH(MOODNET_CHECK(channels == expected, "channels ", channels, " != ", expected),
                      Catch::Equals("channels 3 != 4"));
}

TEST_CASE("MOODNET_CHECK keeps the condition out of the message, in Error::check()", "[core][error]") {
  const int channels = 3, expected = 4;
  try {
    MOODNET_CHECK(channels == expected, "channels ", channels, " != ", expected);
    FAIL("MOODNET_CHECK did not throw");
  } catch (const moodnet::Error& e) {
    CHECK(std::string(e.what()) == "channels 3 != 4");  // one clean line for the user
    CHECK_THAT(e.check(), Catch::StartsWith("`channels == expected` at ") && Catch::Contains("error.cpp:"));
  }
  try {
    moodnet::fail("no condition here");
  } catch (const moodnet::Error& e) {
    CHECK(e.check().empty());
  }
}

TEST_CASE("moodnet::Error is a std::runtime_error", "[core][error]") {
  try {
    moodnet::fail("file ", "x.jpg", " is truncated at byte ", 12);
    FAIL("fail() returned");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "file x.jpg is truncated at byte 12");
  }
}
