// --help at a given terminal width: the summary and every description wrap at spaces, each
// description's lines aligned under the description column (or, too narrow for two columns,
// indented under their flag), no line wider than the terminal, no word lost or cut.
#include "moodnet/cli/flags.hpp"
#include "moodnet/cli/terminal.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using moodnet::cli::FlagParser;
using moodnet::cli::wrap_words;

namespace {
struct HelpWrapConfig {
  double lr = 1e-3, budget = 0;
  std::string out = "runs/x";
  bool augment = true;
};
FlagParser help_wrap_parser(HelpWrapConfig& c) {
  FlagParser p("prog", "Trains a small network on an image dataset on the CPU and writes its weights, curves and "
                       "confusion matrices.");
  p.add("lr", &c.lr, "learning rate").positive();
  p.add_duration("time-budget", &c.budget, "stop after this long (0 = no limit)");
  p.add("out", &c.out, "the output folder where the weights, the curves and the confusion matrices are written");
  p.add("augment", &c.augment, "random flips, crops and rotations");
  return p;
}
std::vector<std::string> help_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}
// The entries after "flags:" as (flag, description with its lines joined by one space). A line that
// starts "  -" opens an entry, the flag ending at the first double space (or the line's end, when
// stacked); every other line must start with exactly `indent` spaces and continues the description.
std::vector<std::pair<std::string, std::string>> help_entries(const std::string& text, std::size_t indent) {
  std::vector<std::pair<std::string, std::string>> entries;
  const std::vector<std::string> lines = help_lines(text);
  std::size_t i = 0;
  while (i < lines.size() && lines[i] != "flags:") ++i;
  for (++i; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.rfind("  -", 0) == 0) {
      const std::size_t end = std::min(l.find("  ", 2), l.size());
      entries.emplace_back(l.substr(2, end - 2), end < l.size() ? l.substr(l.find_first_not_of(' ', end)) : "");
      if (end < l.size()) CHECK(l.find_first_not_of(' ', end) == indent);
      continue;
    }
    INFO(l);
    REQUIRE(!entries.empty());
    CHECK(l.find_first_not_of(' ') == indent);
    std::string& d = entries.back().second;
    d += (d.empty() ? "" : " ") + l.substr(indent);
  }
  return entries;
}
}  // namespace

TEST_CASE("wrap_words: lines at most the width, broken at spaces, long words whole", "[cli][help_wrap]") {
  CHECK(wrap_words("", 10) == std::vector<std::string>{""});
  CHECK(wrap_words("one two three", 7) == std::vector<std::string>{"one two", "three"});
  CHECK(wrap_words("one two three", 13) == std::vector<std::string>{"one two three"});
  CHECK(wrap_words("  one   two ", 80) == std::vector<std::string>{"one two"});
  CHECK(wrap_words("a incomprehensibilities b", 5) == std::vector<std::string>{"a", "incomprehensibilities", "b"});
}

TEST_CASE("--help wraps the descriptions to the width, under their column", "[cli][help_wrap]") {
  HelpWrapConfig c;
  const FlagParser p = help_wrap_parser(c);
  // Left column: "--time-budget <duration>" (24) between 2 and 3 spaces: descriptions at column 29.
  const std::string wide = p.help(1000), narrow = p.help(60);
  INFO(narrow);
  for (const std::string& l : help_lines(narrow)) CHECK(l.size() <= 60);
  const std::string pad(29 - 15, ' '), indent(29, ' ');
  CHECK(narrow.find("\n  --lr <number>" + pad + "learning rate (default: 0.001;\n" + indent + "must be > 0)\n") !=
        std::string::npos);
  // The summary wraps at the width too.
  CHECK(narrow.rfind("usage: prog [flags]\n\nTrains a small network on an image dataset on the CPU and\n", 0) == 0);
  // Nothing lost: joined again, the wrapped entries are the one-line ones.
  const auto wrapped = help_entries(narrow, 29), whole = help_entries(wide, 29);
  CHECK(wrapped.size() == 6);
  CHECK(wrapped == whole);
  CHECK(help_lines(wide).size() == 11);  // usage, summary, "flags:" and two blank lines; one line per entry
  CHECK(help_lines(narrow).size() > 11);
}

TEST_CASE("--help too narrow for two columns puts each description under its flag", "[cli][help_wrap]") {
  HelpWrapConfig c;
  const FlagParser p = help_wrap_parser(c);
  const std::string narrow = p.help(40);  // 29 + 24 > 40: stacked
  INFO(narrow);
  for (const std::string& l : help_lines(narrow)) CHECK(l.size() <= 40);
  CHECK(narrow.find("\n  --lr <number>\n      learning rate (default: 0.001;\n      must be > 0)\n") != std::string::npos);
  CHECK(help_entries(narrow, 6) == help_entries(p.help(1000), 29));
}

TEST_CASE("--help without a width follows $COLUMNS, else 80 when stdout is not a terminal", "[cli][help_wrap]") {
  HelpWrapConfig c;
  const FlagParser p = help_wrap_parser(c);
  const char* old = std::getenv("COLUMNS");
  const std::string saved = old ? old : "";
  ::setenv("COLUMNS", "57", 1);
  CHECK(p.help() == p.help(57));
  ::unsetenv("COLUMNS");
  if (!moodnet::cli::is_terminal(stdout)) CHECK(p.help() == p.help(80));
  if (old) ::setenv("COLUMNS", saved.c_str(), 1);
}
