#pragma once
// Durations as people type and read them: "90m", "1h30m", "45s", "5400" (seconds) in, "1h02m03s" and
// "01:02:03" out. Used by --time-budget (cli/flags.hpp) and by the progress bar's elapsed/ETA fields
// (train/progress.hpp); in core/ so that cli/ and train/ both depend on it, not on each other.
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "moodnet/core/error.hpp"

namespace moodnet {

// Seconds in `text`: a plain number of seconds ("5400", "12.5") or number+unit groups in the order
// d, h, m, s ("1h30m", "90m", "45s", "1.5h"). `what` names the value in the error message.
inline double parse_duration(std::string_view text, std::string_view what = "duration") {
  const auto bad = [&](const char* why) {
    fail(what, ": '", text, "' is not a duration (", why, "; e.g. 90m, 1h30m, 45s, 5400)");
  };
  if (text.empty()) bad("empty");
  double total = 0;
  int last_unit_rank = 99;  // units must appear from largest to smallest, each at most once
  std::size_t i = 0;
  while (i < text.size()) {
    // Only digits and '.' make up a number here: from_chars would also accept "-", "inf" and "1e3".
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.')) ++j;
    if (j == i) bad("expected a number");
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + j, value);
    if (ec != std::errc() || end != text.data() + j) bad("bad number");
    if (j == text.size()) {
      if (i != 0) bad("missing unit after the last number");
      return value;  // a bare number is seconds
    }
    int rank = 0;
    double scale = 1;
    switch (text[j]) {
      case 'd': rank = 3, scale = 86400; break;
      case 'h': rank = 2, scale = 3600; break;
      case 'm': rank = 1, scale = 60; break;
      case 's': rank = 0, scale = 1; break;
      default: bad("unknown unit; use d, h, m or s");
    }
    if (rank >= last_unit_rank) bad("units must go from largest to smallest, each once");
    last_unit_rank = rank;
    total += value * scale;
    i = j + 1;
  }
  return total;
}

// "1h02m03s", "2m05s", "42s", "3.2s" (tenths below 10 s), "-" for a negative or non-finite value.
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  char buf[48];
  if (seconds < 10) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    return buf;
  }
  const long long s = std::llround(seconds);
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

// Clock style for ETAs: "02:05", "1:02:03"; "--:--" when unknown (negative or non-finite).
inline std::string format_clock(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long long s = std::llround(seconds);
  char buf[48];
  if (s < 3600)
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

}  // namespace moodnet
