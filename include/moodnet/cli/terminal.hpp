#pragma once
// What the programs need to know about the terminal they print to: whether a stream is one (so a
// '\r' redraw is seen as a moving line rather than logged as noise) and how many columns it has
// (so a redrawn line never wraps: a wrapped line cannot be redrawn in place, each redraw would
// leave a row behind; and --help's descriptions wrap under their own column, wrap_words).
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace moodnet::cli {

// True when f is a terminal.
inline bool is_terminal(std::FILE* f) { return f != nullptr && ::isatty(::fileno(f)) == 1; }

// The width of the terminal behind f: $COLUMNS when it is a positive number (the user's override,
// and what a shell exports), else the kernel's window size (ioctl TIOCGWINSZ), else `fallback`.
inline int terminal_columns(std::FILE* f, int fallback = 80) {
  if (const char* env = std::getenv("COLUMNS"); env && *env) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (*end == '\0' && v > 0 && v < 100000) return static_cast<int>(v);
  }
  winsize ws{};
  if (f != nullptr && ::ioctl(::fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return fallback;
}

// s cut to at most `columns` - 1 characters: a terminal wraps (or, on some, parks the cursor past
// the margin) when a line fills its last column, so a line meant for '\r' redraws stays one short.
inline std::string fit_to_columns(std::string s, int columns) {
  const std::size_t room = columns > 1 ? static_cast<std::size_t>(columns - 1) : 1;
  if (s.size() > room) s.resize(room);
  return s;
}

// `text` as lines of at most `width` characters, broken at spaces (runs of spaces collapse; a word
// longer than `width` gets a line of its own rather than being cut). Never an empty list.
inline std::vector<std::string> wrap_words(std::string_view text, std::size_t width) {
  std::vector<std::string> lines(1);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', i), text.size());
    const std::string_view word = text.substr(i, end - i);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    if (!lines.back().empty()) lines.back() += ' ';
    lines.back() += word;
    i = end;
  }
  return lines;
}

}  // namespace moodnet::cli
