#pragma once
// A fresh folder under $TMPDIR (or /tmp) for one test, removed with everything in it on scope exit.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

namespace moodnet::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/moodnet_io_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace moodnet::test
