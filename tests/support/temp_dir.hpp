#pragma once
// A fresh, uniquely named folder under $TMPDIR (or /tmp) for one test, removed with everything in it
// at scope exit. mkdtemp makes the name race-free across parallel ctest processes.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace moodnet::test {

struct TempDir {
  std::filesystem::path path;

  // tag: a word naming the test in the folder name, for whoever finds a leftover folder.
  explicit TempDir(const std::string& tag = "test") {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/moodnet-" + tag + ".XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path / name).string(); }
  std::filesystem::path operator/(const std::string& rel) const { return path / rel; }
};

}  // namespace moodnet::test
