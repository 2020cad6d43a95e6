#include "moodnet/io/atomic_file.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "../support/temp_dir.hpp"

using moodnet::io::FileSink;
using moodnet::io::read_file_bytes;
using moodnet::io::write_file_atomic;

namespace {
std::string read_text(const std::string& path) {
  const auto b = read_file_bytes(path);
  return std::string(b.begin(), b.end());
}
// Number of entries in the folder: a failed write must not leave its temporary behind.
int count_files(const std::filesystem::path& dir) {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_CASE("write_file_atomic creates and replaces a file", "[io][atomic]") {
  moodnet::test::TempDir dir;
  const std::string path = dir.file("a.bin");
  write_file_atomic(path, std::string_view("first version"));
  CHECK(read_text(path) == "first version");
  write_file_atomic(path, [](FileSink& s) {
    s.write("second", 6);
    s.write(std::string_view(" version, longer"));
    CHECK(s.bytes_written() == 22);
  });
  CHECK(read_text(path) == "second version, longer");
  CHECK(count_files(dir.path) == 1);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::owner_read) != std::filesystem::perms::none);
}

TEST_CASE("an interrupted write leaves the previous file byte-identical", "[io][atomic]") {
  moodnet::test::TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  std::string old(100000, '\0');
  for (std::size_t i = 0; i < old.size(); ++i) old[i] = static_cast<char>(i * 7 + 3);
  write_file_atomic(path, old);

  // The writer fails midway (a crash in the serialiser): the exception propagates unchanged.
  REQUIRE_THROWS_WITH(write_file_atomic(path, [](FileSink& s) {
                        s.write(std::string(5000, 'x'));
                        throw std::runtime_error("simulated crash while writing");
                      }),
                      "simulated crash while writing");
  CHECK(read_text(path) == old);
  CHECK(count_files(dir.path) == 1);  // the temporary is gone
}

TEST_CASE("an impossible rename throws naming the path and errno, and cleans up", "[io][atomic]") {
  moodnet::test::TempDir dir;
  const std::string target = dir.file("is_a_dir");
  std::filesystem::create_directory(target);
  std::filesystem::create_directory(target + "/child");  // non-empty: rename(file, dir) must fail
  REQUIRE_THROWS_WITH(write_file_atomic(target, std::string_view("data")),
                      Catch::Contains("cannot replace " + target) && Catch::Contains("directory"));
  CHECK(std::filesystem::is_directory(target + "/child"));
  CHECK(count_files(dir.path) == 1);
}

TEST_CASE("writes into a missing folder and reads of missing files throw clear errors", "[io][atomic]") {
  moodnet::test::TempDir dir;
  const std::string missing = dir.file("no/such/folder/x.bin");
  REQUIRE_THROWS_WITH(write_file_atomic(missing, std::string_view("x")),
                      Catch::Contains(missing) && Catch::Contains("No such file or directory"));
  REQUIRE_THROWS_WITH(read_file_bytes(dir.file("absent.bin")),
                      Catch::Contains("cannot open " + dir.file("absent.bin")) && Catch::Contains("No such file"));
  REQUIRE_THROWS_WITH(read_file_bytes(dir.path.string()), Catch::Contains("is a directory"));
}

// Issue 19: a trainer killed (SIGKILL) in the middle of a checkpoint write left its temporary file
// in the run folder for good; the next run's owner removes exactly those.
TEST_CASE("remove_stale_temporaries removes what a killed write leaves, nothing else", "[io][atomic]") {
  moodnet::test::TempDir dir("stale-tmp");
  const std::string stale = dir.file(".last.safetensors.tmp.Ab12Cd");
  write_file_atomic(dir.file("last.safetensors"), "weights");
  for (const char* name : {".last.safetensors.tmp.Ab12Cd", ".best.safetensors.tmp.zZ9900", ".hidden",
                           "notes.tmp.123456", ".x.tmp.1234567", "history.csv"})
    write_file_atomic(dir.file(name), "x");
  CHECK(moodnet::io::remove_stale_temporaries(dir.path.string()) == 2);
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK_FALSE(std::filesystem::exists(dir / ".best.safetensors.tmp.zZ9900"));
  CHECK(count_files(dir.path) == 5);  // last.safetensors, .hidden, notes.tmp.123456, .x.tmp.1234567, history.csv
  CHECK(read_text(dir.file("last.safetensors")) == "weights");
}
