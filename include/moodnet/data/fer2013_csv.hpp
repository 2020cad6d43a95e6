#pragma once
// The original challenge file fer2013.csv:
//
//   emotion,pixels,Usage
//   0,70 80 82 ... (2,304 values 0..255, row-major 48x48),Training
//
// emotion uses the CSV's own numbering (0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise,
// 6 Neutral), which is mapped onto moodnet's alphabetical order (angry 0, disgust 1, fear 2,
// happy 3, neutral 4, sad 5, surprise 6). Usage is Training, PublicTest or PrivateTest.
// Columns are found by name (trimmed, case-insensitive), so the Kaggle variant
// "emotion, Usage, pixels" also reads. Rows are numbered by their line in the file (the header is
// line 1); each image's key is "csv line <n>" and every error names the file, the line and the value.
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/fer2013_classes.hpp"
#include "moodnet/data/parallel_load.hpp"

namespace moodnet::data {

// CSV emotion number -> moodnet class index.
inline constexpr std::array<std::int32_t, 7> kCsvToClass{0, 1, 2, 3, 5, 6, 4};
// moodnet class index -> CSV emotion number.
inline constexpr std::array<std::int32_t, 7> kClassToCsv{0, 1, 2, 3, 6, 4, 5};

inline const std::array<std::string_view, 3>& csv_usages() {
  static constexpr std::array<std::string_view, 3> u{"Training", "PublicTest", "PrivateTest"};
  return u;
}

struct CsvOptions {
  BadItemPolicy bad_items = BadItemPolicy::strict;
  bool warn = false;  // also print skipped rows to stderr (they are in Dataset::report either way)
};

namespace detail {
inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}
inline std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& ch : r) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return r;
}
inline std::vector<std::string_view> split_commas(std::string_view line) {
  std::vector<std::string_view> f;
  std::size_t start = 0;
  for (;;) {
    const std::size_t c = line.find(',', start);
    f.push_back(trim(line.substr(start, c == std::string_view::npos ? std::string_view::npos : c - start)));
    if (c == std::string_view::npos) return f;
    start = c + 1;
  }
}
inline std::string shorten(std::string_view s) { return s.size() > 40 ? std::string(s.substr(0, 40)) + "..." : std::string(s); }

// Parses the pixels field: exactly 2,304 integers 0..255 separated by spaces.
inline void parse_pixels(std::string_view s, std::uint8_t* out, const std::string& where) {
  std::int64_t n = 0;
  const char* p = s.data();
  const char* end = p + s.size();
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    if (p == end) break;
    const char* tok = p;
    while (p < end && *p != ' ' && *p != '\t') ++p;
    int v = -1;
    const auto [q, ec] = std::from_chars(tok, p, v);
    const std::string_view token(tok, static_cast<std::size_t>(p - tok));
    MOODNET_CHECK(ec == std::errc() && q == p, where, ": pixel ", n + 1, " is not a number: '", shorten(token), "'");
    MOODNET_CHECK(v >= 0 && v <= 255, where, ": pixel ", n + 1, " is ", v, ", outside 0..255");
    if (n < kImagePixels) out[n] = static_cast<std::uint8_t>(v);
    ++n;
  }
  MOODNET_CHECK(n == kImagePixels, where, ": has ", n, " pixel values, expected ", kImagePixels, " (48x48)");
}
}  // namespace detail

// Loads the rows of fer2013.csv whose Usage is one of `usages` (e.g. {"Training"} or
// {"PublicTest", "PrivateTest"}). Throws moodnet::Error naming the file when it cannot be read or
// its header lacks emotion/pixels/Usage; a bad row (wrong number of fields, pixel count other than
// 2,304, non-numeric or out-of-range pixel, emotion outside 0..6, unknown Usage) follows
// options.bad_items and is named by its line. Labels and Usage are checked on every row; pixels
// only on the rows loaded.
inline Dataset load_fer2013_csv(const std::filesystem::path& path, const std::vector<std::string>& usages,
                                const CsvOptions& options = {}) {
  for (const auto& u : usages)
    MOODNET_CHECK(std::find(csv_usages().begin(), csv_usages().end(), u) != csv_usages().end(), "unknown Usage '",
                  u, "' requested (use Training, PublicTest or PrivateTest)");
  {  // opening a FIFO blocks until a writer comes: refuse anything but a regular file first
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    MOODNET_CHECK(fs::is_regular_file(st), "cannot read CSV file '", path.string(), "': ",
                  !fs::exists(st) ? "no such file" : fs::is_directory(st) ? "it is a folder"
                                                      : "not a regular file (a FIFO, socket or device)");
  }
  std::ifstream in(path, std::ios::binary);
  MOODNET_CHECK(in.good(), "cannot open CSV file '", path.string(), "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  MOODNET_CHECK(!in.bad(), "read error on '", path.string(), "'");
  const std::string file = path.string();
  // A UTF-8 byte-order mark (Excel and some Windows tools save CSV with one) is not part of the
  // header's first column name.
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);

  // Lines as views into text; line_no[k] is the 1-based line number of lines[k].
  std::vector<std::string_view> lines;
  std::vector<std::int64_t> line_no;
  {
    std::string_view all(text);
    std::int64_t no = 0;
    std::size_t start = 0;
    while (start < all.size()) {
      std::size_t nl = all.find('\n', start);
      if (nl == std::string_view::npos) nl = all.size();
      ++no;
      std::string_view line = all.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!detail::trim(line).empty() || no == 1) {
        lines.push_back(line);
        line_no.push_back(no);
      }
      start = nl + 1;
    }
  }
  MOODNET_CHECK(!lines.empty(), "CSV file '", file, "' is empty");
  const auto header = detail::split_commas(lines[0]);
  int col_emotion = -1, col_pixels = -1, col_usage = -1;
  for (int c = 0; c < static_cast<int>(header.size()); ++c) {
    const std::string h = detail::lower(header[static_cast<std::size_t>(c)]);
    if (h == "emotion") col_emotion = c;
    if (h == "pixels") col_pixels = c;
    if (h == "usage") col_usage = c;
  }
  MOODNET_CHECK(col_emotion >= 0 && col_pixels >= 0 && col_usage >= 0 && header.size() == 3, "CSV file '", file,
                "' has header '", detail::shorten(lines[0]), "', expected the columns emotion,pixels,Usage");

  struct Row {
    std::string_view pixels;
    std::int64_t line;
    std::int32_t label;
  };
  std::vector<Row> rows;
  Dataset d;
  d.report.source = file;
  for (std::size_t k = 1; k < lines.size(); ++k) {
    const std::string where = file + " line " + std::to_string(line_no[k]);
    try {
      const auto f = detail::split_commas(lines[k]);
      MOODNET_CHECK(f.size() == 3, where, ": has ", f.size(), " fields, expected 3 (emotion,pixels,Usage)");
      const auto emo = f[static_cast<std::size_t>(col_emotion)];
      int e = -1;
      const auto [q, ec] = std::from_chars(emo.data(), emo.data() + emo.size(), e);
      MOODNET_CHECK(ec == std::errc() && q == emo.data() + emo.size() && e >= 0 && e <= 6, where, ": emotion '",
                    detail::shorten(emo), "' is not a label 0..6");
      const auto usage = f[static_cast<std::size_t>(col_usage)];
      MOODNET_CHECK(std::find(csv_usages().begin(), csv_usages().end(), usage) != csv_usages().end(), where,
                    ": unknown Usage '", detail::shorten(usage), "' (expected Training, PublicTest or PrivateTest)");
      if (std::find(usages.begin(), usages.end(), usage) != usages.end())
        rows.push_back({f[static_cast<std::size_t>(col_pixels)], line_no[k], kCsvToClass[static_cast<std::size_t>(e)]});
    } catch (const Error& err) {
      if (options.bad_items == BadItemPolicy::strict) throw;
      d.report.skipped.push_back({"csv line " + std::to_string(line_no[k]), err.what()});
    }
  }
  MOODNET_CHECK(!rows.empty(), "CSV file '", file, "' has no rows with the requested Usage");

  Dataset loaded = Dataset::with_capacity(fer2013_class_names(), static_cast<std::int64_t>(rows.size()));
  loaded.report = std::move(d.report);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    loaded.keys[i] = "csv line " + std::to_string(rows[i].line);
    loaded.labels[static_cast<std::int64_t>(i)] = rows[i].label;
  }
  detail::decode_items(loaded, options.bad_items, num_threads(), [&](std::int64_t i, std::uint8_t* out) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    detail::parse_pixels(r.pixels, out, file + " line " + std::to_string(r.line));
    return false;
  });
  if (options.warn) warn_skipped(loaded.report, std::cerr);
  return loaded;
}

// Writes datasets with FER-2013's classes as a fer2013.csv (header emotion,pixels,Usage), each
// with its Usage ("Training", "PublicTest", "PrivateTest"). Used to convert folders to the CSV
// format and to test the reader.
inline void write_fer2013_csv(const std::filesystem::path& path,
                              const std::vector<std::pair<const Dataset*, std::string>>& parts) {
  std::ofstream out(path, std::ios::binary);
  MOODNET_CHECK(out.good(), "cannot create CSV file '", path.string(), "'");
  out << "emotion,pixels,Usage\n";
  for (const auto& [d, usage] : parts) {
    MOODNET_CHECK(d->class_names == fer2013_class_names(), "write_fer2013_csv: dataset from ", d->report.source,
                  " does not have FER-2013's 7 classes");
    MOODNET_CHECK(d->shape() == kFer2013Shape || d->size() == 0, "write_fer2013_csv: dataset from ", d->report.source,
                  " holds ", d->shape().str(), " images; fer2013.csv holds 1x48x48");
    std::string line;
    for (std::int64_t i = 0; i < d->size(); ++i) {
      line = std::to_string(kClassToCsv[static_cast<std::size_t>(d->labels[i])]) + ",";
      const std::uint8_t* px = d->image(i);
      for (std::int64_t j = 0; j < kImagePixels; ++j) {
        if (j) line += ' ';
        line += std::to_string(px[j]);
      }
      out << line << ',' << usage << '\n';
    }
  }
  MOODNET_CHECK(out.good(), "write error on '", path.string(), "'");
}

}  // namespace moodnet::data
