// The fuzz corpora (tools/fuzz/corpus/<target>/: seeds from tools/fuzz/make_seeds.py and the
// findings of fuzz runs) replayed through the same target functions the libFuzzer programs call
// (tools/fuzz/targets.hpp), in the normal build: so the GCC release and portable builds run every
// reader on every file too. Each file must come back as accepted or refused by moodnet::Error —
// any other exception fails the test, a crash or broken invariant aborts it; ok-* files must be
// accepted and bad-* files refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "../../tools/fuzz/targets.hpp"

namespace fs = std::filesystem;

TEST_CASE("fuzz corpus: every seed and finding replays through its reader", "[io][fuzz]") {
  const fs::path root = fs::path(MOODNET_SOURCE_DIR) / "tools" / "fuzz" / "corpus";
  for (const moodnet::fuzz::Target& target : moodnet::fuzz::kTargets) {
    const fs::path dir = root / target.name;
    INFO("corpus " << dir.string());
    REQUIRE(fs::is_directory(dir));
    std::vector<fs::path> files;
    for (const fs::directory_entry& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    int accepted_seeds = 0;
    for (const fs::path& f : files) {
      const std::vector<unsigned char> bytes = moodnet::io::read_file_bytes(f.string());
      const std::string name = f.filename().string();
      INFO(target.name << " on " << name << " (" << bytes.size() << " bytes)");
      const bool accepted = target.run(bytes.data(), bytes.size());
      if (name.rfind("ok-", 0) == 0) {
        CHECK(accepted);
        accepted_seeds += accepted;
      }
      if (name.rfind("bad-", 0) == 0) CHECK_FALSE(accepted);
    }
    CHECK(files.size() >= 3);  // a valid file and near misses, at least
    CHECK(accepted_seeds >= 1);
  }
}
