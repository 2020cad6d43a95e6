#pragma once
// Training history: one record per epoch, kept as history.csv beside the checkpoints. The file is
// rewritten atomically after every epoch (a crash never leaves half a row), and read back on
// --resume so a resumed run appends to it. Numbers use the shortest text that reads back exactly;
// a missing value (no validation set) is "nan"; an extra absent in a row is an empty cell.
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/io/atomic_file.hpp"

namespace moodnet::train {

struct EpochRecord {
  int epoch = 0;
  double train_loss = NAN, train_acc = NAN, val_loss = NAN, val_acc = NAN;
  double lr = NAN, epoch_seconds = NAN, images_per_second = NAN;
  std::map<std::string, double> extras;  // e.g. "val_macro_f1", "data_wait_seconds"
  bool operator==(const EpochRecord&) const = default;  // NaN fields compare unequal, as doubles do
};

namespace detail {
inline constexpr const char* kHistoryColumns[] = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                                  "lr", "epoch_seconds", "images_per_second"};
inline constexpr std::size_t kHistoryFixed = std::size(kHistoryColumns);

inline std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',') out.emplace_back();
    else if (c != '\r') out.back() += c;
  }
  return out;
}
}  // namespace detail

// history.csv text: the fixed columns, then every extra key used by any record (sorted).
inline std::string history_csv(const std::vector<EpochRecord>& records) {
  std::set<std::string> extra_keys;
  for (const auto& r : records)
    for (const auto& [k, v] : r.extras) extra_keys.insert(k);
  std::string out;
  for (const char* c : detail::kHistoryColumns) out += std::string(out.empty() ? "" : ",") + c;
  for (const auto& k : extra_keys) (out += ',') += k;
  out += "\n";
  for (const auto& r : records) {
    out += std::to_string(r.epoch);
    for (double v : {r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.lr, r.epoch_seconds, r.images_per_second})
      (out += ',') += detail::format_number(v);
    for (const auto& k : extra_keys) {
      const auto it = r.extras.find(k);
      (out += ',') += (it == r.extras.end() ? std::string() : detail::format_number(it->second));
    }
    out += "\n";
  }
  return out;
}

// Writes history.csv atomically (temporary file + fsync + rename).
inline void write_history_csv(const std::string& path, const std::vector<EpochRecord>& records) {
  io::write_file_atomic(path, history_csv(records));
}

// Reads a file written by write_history_csv. Throws moodnet::Error naming the file and line on a
// missing file, a wrong header, a wrong field count, a non-number or non-increasing epochs.
inline std::vector<EpochRecord> read_history_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("cannot open history file '", path, "'");
  std::string line;
  if (!std::getline(in, line)) fail(path, ":1: empty history file (expected a header line)");
  const auto header = detail::split_csv_line(line);
  for (std::size_t i = 0; i < detail::kHistoryFixed; ++i)
    if (i >= header.size() || header[i] != detail::kHistoryColumns[i])
      fail(path, ":1: bad header: column ", i + 1, " should be '", detail::kHistoryColumns[i], "'");
  for (std::size_t i = detail::kHistoryFixed; i < header.size(); ++i)
    if (header[i].empty()) fail(path, ":1: bad header: column ", i + 1, " has no name");

  std::vector<EpochRecord> records;
  for (int line_no = 2; std::getline(in, line); ++line_no) {
    if (line.empty() || line == "\r") continue;
    const auto fields = detail::split_csv_line(line);
    if (fields.size() != header.size())
      fail(path, ":", line_no, ": expected ", header.size(), " fields, got ", fields.size());
    const auto number = [&](std::size_t i) {
      const std::string& f = fields[i];
      if (f == "nan") return static_cast<double>(NAN);
      double v = 0;
      const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), v);
      if (f.empty() || ec != std::errc() || end != f.data() + f.size())
        fail(path, ":", line_no, ": column '", header[i], "': '", f, "' is not a number");
      return v;
    };
    EpochRecord r;
    const double epoch = number(0);
    if (epoch != std::floor(epoch) || epoch < 0 || epoch > 1e9)
      fail(path, ":", line_no, ": column 'epoch': '", fields[0], "' is not an epoch number");
    r.epoch = static_cast<int>(epoch);
    if (!records.empty() && r.epoch <= records.back().epoch)
      fail(path, ":", line_no, ": epoch ", r.epoch, " does not follow epoch ", records.back().epoch);
    double* fixed[] = {&r.train_loss, &r.train_acc, &r.val_loss, &r.val_acc, &r.lr, &r.epoch_seconds,
                       &r.images_per_second};
    for (std::size_t i = 1; i < detail::kHistoryFixed; ++i) *fixed[i - 1] = number(i);
    for (std::size_t i = detail::kHistoryFixed; i < header.size(); ++i)
      if (!fields[i].empty()) r.extras[header[i]] = number(i);
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace moodnet::train
