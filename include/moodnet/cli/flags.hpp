#pragma once
// A small command-line parser: `--name value`, `--name=value`, boolean `--flag` / `--no-flag`,
// positional arguments, typed values (int, int64, uint64, double, string, bool, duration, choice)
// with range checks, whole-number doubles (.integer()), and --help text generated from the registered flags. Every mistake a user can make
// throws moodnet::Error with a one-line message naming the flag and the value, so main() prints
// `error: ...` and exits 2 (see guarded_main) instead of dumping a stack trace.
//
//   double lr = 1e-3; int batch = 64; std::string opt = "adam"; double budget = 0;
//   moodnet::cli::FlagParser flags("train_mobilenet", "Trains MobileNet-V1 on FER-2013.");
//   flags.add("lr", &lr, "learning rate").greater_than(0);
//   flags.add("batch-size", &batch, "images per batch").range(1, 4096);
//   flags.add_choice("optimizer", &opt, {"sgd", "adam", "adamw"}, "optimizer");
//   flags.add_duration("time-budget", &budget, "stop after this long (0 = no limit)");
//   flags.set_positional("<data-dir>", 1, 1);
//   auto args = flags.parse(argc, argv);
//   if (const std::string text = flags.requested_text(); !text.empty()) { std::cout << text; return 0; }
// (--help and --version are answered that way by every program.)
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "moodnet/cli/terminal.hpp"
#include "moodnet/cli/version.hpp"
#include "moodnet/core/duration.hpp"
#include "moodnet/core/error.hpp"

namespace moodnet::cli {

class Flag {
 public:
  using Target = std::variant<int*, std::int64_t*, std::uint64_t*, double*, std::string*, bool*>;

  // Range checks for numeric flags (int, int64, uint64, double, duration).
  Flag& range(double lo, double hi) { return min(lo).max(hi); }
  Flag& min(double lo) { return bound(lo_, lo, lo_open_, false); }           // value >= lo
  Flag& greater_than(double lo) { return bound(lo_, lo, lo_open_, true); }   // value > lo
  Flag& max(double hi) { return bound(hi_, hi, hi_open_, false); }           // value <= hi
  Flag& positive() { return greater_than(0); }
  // A string flag that refuses "" (--data "" would otherwise mean "the default dataset").
  Flag& non_empty() {
    MOODNET_ASSERT(std::holds_alternative<std::string*>(target_));
    non_empty_ = true;
    return *this;
  }
  // A double flag that takes whole numbers only ("8.7" is an error, not a silent 8 or 9 later).
  Flag& integer() {
    MOODNET_ASSERT(std::holds_alternative<double*>(target_) && !duration_);
    integer_ = true;
    return *this;
  }
  // The placeholder shown in --help: `--data <dir>`.
  Flag& metavar(std::string m) {
    metavar_ = std::move(m);
    return *this;
  }

 private:
  friend class FlagParser;
  Flag(std::string name, Target target, std::string help) : name_(std::move(name)), help_(std::move(help)), target_(target) {}

  Flag& bound(std::optional<double>& slot, double v, bool& open, bool is_open) {
    MOODNET_ASSERT(is_numeric());
    slot = v, open = is_open;
    return *this;
  }
  bool is_bool() const { return std::holds_alternative<bool*>(target_); }
  bool is_numeric() const { return !std::holds_alternative<std::string*>(target_) && !is_bool(); }
  std::string flag() const { return "--" + name_; }

  std::string type_name() const {
    if (!metavar_.empty()) return metavar_;
    if (!choices_.empty()) {
      std::string s;
      for (const auto& c : choices_) s += (s.empty() ? "" : "|") + c;
      return s;
    }
    if (duration_) return "duration";
    return std::visit([this](auto* p) -> std::string {
      using T = std::remove_pointer_t<decltype(p)>;
      if constexpr (std::is_same_v<T, double>) return integer_ ? "integer" : "number";
      else if constexpr (std::is_same_v<T, std::string>) return "string";
      else return "integer";
    }, target_);
  }

  std::string range_text() const {
    const auto num = [](double v) {
      char b[32];
      std::snprintf(b, sizeof b, "%g", v);
      return std::string(b);
    };
    if (lo_ && hi_ && !lo_open_ && !hi_open_) return "in [" + num(*lo_) + ", " + num(*hi_) + "]";
    std::string s;
    if (lo_) s += std::string(lo_open_ ? "> " : ">= ") + num(*lo_);
    if (hi_) s += (s.empty() ? "" : " and ") + std::string("<= ") + num(*hi_);
    return s;
  }

  // Current value as text (the default, when read before parsing).
  std::string value_text() const {
    return std::visit([this](auto* p) -> std::string {
      using T = std::remove_pointer_t<decltype(p)>;
      if constexpr (std::is_same_v<T, bool>) return *p ? "true" : "false";
      else if constexpr (std::is_same_v<T, std::string>) return p->empty() ? "none" : *p;
      else if constexpr (std::is_same_v<T, double>) {
        if (duration_) return *p == 0 ? "0" : format_duration(*p);
        char b[32];
        std::snprintf(b, sizeof b, "%g", *p);
        return b;
      } else return std::to_string(*p);
    }, target_);
  }

  // The value as text that set() reads back as exactly this value: doubles in their shortest
  // round-trip form (durations as seconds), strings as they are. What a program records to run
  // again with the same flags (the trainers' config.json and --resume).
  std::string exact_text() const {
    return std::visit([this](auto* p) -> std::string {
      using T = std::remove_pointer_t<decltype(p)>;
      if constexpr (std::is_same_v<T, bool>) return *p ? "true" : "false";
      else if constexpr (std::is_same_v<T, std::string>) return *p;
      else if constexpr (std::is_same_v<T, double>) {
        char b[400];  // a fixed-point double has at most 309 digits before the point
        const auto r = duration_ ? std::to_chars(b, b + sizeof b, *p, std::chars_format::fixed)
                                 : std::to_chars(b, b + sizeof b, *p);
        return std::string(b, r.ptr);
      } else return std::to_string(*p);
    }, target_);
  }

  void check_range(double v, std::string_view text) const {
    const bool ok = (!lo_ || (lo_open_ ? v > *lo_ : v >= *lo_)) && (!hi_ || v <= *hi_);
    if (!ok) fail("flag ", flag(), ": ", text, " is out of range (must be ", range_text(), ")");
  }

  void set(std::string_view text) {
    const auto whole = [&](auto& v) {
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      return ec == std::errc() && end == text.data() + text.size() && !text.empty();
    };
    std::visit([&](auto* p) {
      using T = std::remove_pointer_t<decltype(p)>;
      if constexpr (std::is_same_v<T, bool>) {
        if (text == "true" || text == "1" || text == "yes" || text == "on") *p = true;
        else if (text == "false" || text == "0" || text == "no" || text == "off") *p = false;
        else fail("flag ", flag(), ": '", text, "' is not a boolean (use true or false)");
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (!choices_.empty() && std::find(choices_.begin(), choices_.end(), text) == choices_.end()) {
          std::string allowed;
          for (const auto& c : choices_) allowed += (allowed.empty() ? "" : ", ") + c;
          fail("flag ", flag(), ": unknown value '", text, "' (allowed: ", allowed, ")");
        }
        if (non_empty_ && text.empty()) fail("flag ", flag(), " is empty: give a value, or leave the flag out");
        *p = std::string(text);
      } else if constexpr (std::is_same_v<T, double>) {
        double v = 0;
        if (duration_) v = parse_duration(text, "flag " + flag());
        else if (!whole(v) || !std::isfinite(v)) fail("flag ", flag(), ": '", text, "' is not a number");
        if (integer_ && v != std::floor(v)) fail("flag ", flag(), ": '", text, "' is not a whole number");
        check_range(v, text);
        *p = v;
      } else {
        // Parsed as the widest integer of T's signedness, then narrowed with a check: "1e30" and
        // "1.5" are not integers, "-1" is not an unsigned one; nothing is cast out of range.
        using Wide = std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>;
        Wide v = 0;
        if (!whole(v)) {
          const bool negative = !text.empty() && text[0] == '-';
          fail("flag ", flag(), ": '", text, "' is not ",
               std::is_unsigned_v<T> && negative ? "a non-negative integer" : "an integer");
        }
        if constexpr (!std::is_same_v<T, Wide>)
          if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
            fail("flag ", flag(), ": ", text, " is out of range for an integer");
        check_range(static_cast<double>(v), text);
        *p = static_cast<T>(v);
      }
    }, target_);
    set_ = true;
  }

  std::string name_, help_, metavar_;
  Target target_;
  std::vector<std::string> choices_;
  bool duration_ = false, set_ = false, integer_ = false, non_empty_ = false;
  std::optional<double> lo_, hi_;
  bool lo_open_ = false, hi_open_ = false;
  std::string default_;
};

// One flag's value as FlagParser::values() records it.
struct FlagValue {
  enum class Kind { text, number, boolean };
  std::string name, text;  // "lr", "0.05"
  Kind kind = Kind::text;
};

class FlagParser {
 public:
  FlagParser(std::string program, std::string summary = "") : program_(std::move(program)), summary_(std::move(summary)) {}

  // Registers --name; the target's current value is the default.
  Flag& add(std::string name, int* target, std::string help) { return push(std::move(name), target, std::move(help)); }
  Flag& add(std::string name, std::int64_t* target, std::string help) { return push(std::move(name), target, std::move(help)); }
  Flag& add(std::string name, std::uint64_t* target, std::string help) { return push(std::move(name), target, std::move(help)); }
  Flag& add(std::string name, double* target, std::string help) { return push(std::move(name), target, std::move(help)); }
  Flag& add(std::string name, std::string* target, std::string help) { return push(std::move(name), target, std::move(help)); }
  // A boolean: --name sets true, --no-name false, --name=true|false also works.
  Flag& add(std::string name, bool* target, std::string help) { return push(std::move(name), target, std::move(help)); }
  // A duration in seconds: "90m", "1h30m", "45s", "5400". Never negative.
  Flag& add_duration(std::string name, double* seconds, std::string help) {
    Flag& f = push(std::move(name), seconds, std::move(help));
    f.duration_ = true;
    // The default in the flag's own syntax: 5280 seconds shows as "1h28m".
    const long long t = std::llround(*seconds);
    if (t > 0 && static_cast<double>(t) == *seconds) {
      f.default_.clear();
      if (t >= 3600) f.default_ += std::to_string(t / 3600) + "h";
      if (t % 3600 >= 60) f.default_ += std::to_string(t % 3600 / 60) + "m";
      if (t % 60) f.default_ += std::to_string(t % 60) + "s";
    }
    return f.min(0);
  }
  // A string restricted to `choices`.
  Flag& add_choice(std::string name, std::string* target, std::vector<std::string> choices, std::string help) {
    MOODNET_ASSERT(std::find(choices.begin(), choices.end(), *target) != choices.end());
    Flag& f = push(std::move(name), target, std::move(help));
    f.choices_ = std::move(choices);
    return f;
  }

  // Positional arguments: the usage text ("<data-dir>") and how many are allowed.
  void set_positional(std::string usage, int min_count, int max_count) {
    positional_usage_ = std::move(usage), min_positional_ = min_count, max_positional_ = max_count;
  }

  // Parses argv[1..argc) and returns the positional arguments. "--" ends the flags.
  std::vector<std::string> parse(int argc, const char* const* argv) {
    return parse(std::vector<std::string>(argv + std::min(argc, 1), argv + argc));
  }
  // Parses arguments without the program name.
  std::vector<std::string> parse(const std::vector<std::string>& args) {
    std::vector<std::string> positional;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--") {
        positional.insert(positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
        break;
      }
      if (a == "--help" || a == "-h") {
        help_requested_ = true;
        continue;
      }
      if (a == "--version") {
        version_requested_ = true;
        continue;
      }
      const bool looks_negative = a.size() > 1 && a[0] == '-' && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.');
      if (a.size() < 2 || a[0] != '-' || looks_negative) {
        positional.push_back(a);
        continue;
      }
      if (a[1] != '-') fail("unknown flag ", a, " (flags start with --; see --help)");
      const std::size_t eq = a.find('=');
      const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (Flag* f = find(name)) {
        if (eq != std::string::npos) f->set(std::string_view(a).substr(eq + 1));
        else if (f->is_bool()) f->set("true");
        else if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) fail("flag ", a, " needs a value");
        else f->set(args[++i]);
      } else if (Flag* nf = name.rfind("no-", 0) == 0 ? find(name.substr(3)) : nullptr; nf && nf->is_bool()) {
        if (eq != std::string::npos) fail("flag --", name, " takes no value, got '", a.substr(eq + 1), "'");
        nf->set("false");
      } else {
        fail("unknown flag --", name, suggestion(name), " (see --help)");
      }
    }
    if (!help_requested_ && !version_requested_) {
      const int n = static_cast<int>(positional.size());
      if (n < min_positional_ || n > max_positional_) {
        std::string got;
        for (const auto& p : positional) got += " '" + p + "'";
        if (max_positional_ == 0)  // a stray word: a typo, or a path that belongs to a flag
          fail("unexpected argument", n > 1 ? "s" : "", got, ": ", program_,
               " takes no positional arguments (flags start with --; see --help)");
        fail("expected ", min_positional_ == max_positional_ ? "" : "between ", min_positional_,
             min_positional_ == max_positional_ ? "" : " and " + std::to_string(max_positional_),
             " positional argument(s) ", positional_usage_, ", got ", n, got.empty() ? "" : ":", got);
      }
    }
    return positional;
  }

  bool help_requested() const { return help_requested_; }
  bool version_requested() const { return version_requested_; }
  // After parse(): the text to print for --help (help()) or --version (cli/version.hpp), the help
  // when both were given; empty when neither was. The program prints it and exits 0.
  std::string requested_text() const {
    return help_requested_ ? help() : version_requested_ ? version_text(program_) : std::string();
  }
  // True when the user gave --name (or --no-name) on the command line.
  bool is_set(std::string_view name) const {
    const Flag* f = find(name);
    MOODNET_ASSERT(f != nullptr);
    return f && f->set_;
  }

  bool has(std::string_view name) const { return find(name) != nullptr; }
  // Every registered flag's current value (registration order) as text that set_value reads back
  // exactly, with its kind (how JSON shows it): what a program records to run the same way again.
  std::vector<FlagValue> values() const {
    std::vector<FlagValue> out;
    for (const Flag& f : flags_)
      out.push_back({f.name_, f.exact_text(), f.is_numeric() ? FlagValue::Kind::number
                                              : f.is_bool()   ? FlagValue::Kind::boolean
                                                              : FlagValue::Kind::text});
    return out;
  }
  // Sets --name from `text` as the command line would (every check included), without counting it
  // as given: is_set(name) answers as before. A string flag also takes "" (a default may be empty:
  // --data, or --resize's "as the dataset says"), which the command line may refuse.
  void set_value(std::string_view name, std::string_view text) {
    Flag* f = find(name);
    MOODNET_CHECK(f != nullptr, "unknown flag --", name);
    const bool was_set = f->set_;
    if (auto* const* str = std::get_if<std::string*>(&f->target_); str && text.empty())
      (*str)->clear();
    else
      f->set(text);
    f->set_ = was_set;
  }

  // "usage: prog [flags] <data-dir>", the summary, then one aligned entry per flag with its type,
  // default and allowed range, for a terminal `columns` wide: the summary and each description wrap
  // at spaces, a description's lines aligned under its column. When that column would be narrower
  // than kMinHelpColumn, each description goes on the lines under its flag, indented by 6, instead.
  // help() without a width: the terminal's ($COLUMNS, else the window size of stdout, else 80).
  static constexpr std::size_t kMinHelpColumn = 24;
  std::string help() const { return help(terminal_columns(stdout)); }
  std::string help(int columns) const {
    const std::size_t cols = columns > 0 ? static_cast<std::size_t>(columns) : 80;
    std::string out = "usage: " + program_ + " [flags]" + (positional_usage_.empty() ? "" : " " + positional_usage_) + "\n";
    if (!summary_.empty()) {
      out += "\n";
      for (const std::string& line : wrap_words(summary_, cols)) out += line + "\n";
    }
    out += "\nflags:\n";
    std::vector<std::pair<std::string, std::string>> rows;
    for (const Flag& f : flags_) {
      std::string left = f.is_bool() ? "--[no-]" + f.name_ : f.flag() + " <" + f.type_name() + ">";
      std::string right = f.help_ + " (default: " + f.default_;
      if (f.lo_ || f.hi_) right += "; must be " + f.range_text();
      if (f.duration_) right += "; e.g. 90m, 1h30m, 45s, 5400";
      rows.emplace_back(std::move(left), right + ")");
    }
    rows.emplace_back("-h, --help", "show this help and exit");
    rows.emplace_back("--version", "show moodnet's version, the compiler and the compiled code paths, and exit");
    std::size_t w = 0;
    for (const auto& r : rows) w = std::max(w, r.first.size());
    const std::size_t column = 2 + w + 3;  // where the descriptions start
    const bool stacked = cols < column + kMinHelpColumn;
    const std::size_t indent = stacked ? 6 : column;
    for (const auto& [l, r] : rows) {
      const std::vector<std::string> lines = wrap_words(r, cols > indent ? cols - indent : 1);
      out += "  " + l + (stacked ? "\n" + std::string(indent, ' ') : std::string(w - l.size() + 3, ' ')) + lines[0] + "\n";
      for (std::size_t i = 1; i < lines.size(); ++i) out += std::string(indent, ' ') + lines[i] + "\n";
    }
    return out;
  }

 private:
  Flag& push(std::string name, Flag::Target target, std::string help) {
    MOODNET_ASSERT(!name.empty() && name.rfind("no-", 0) != 0 && name != "help" && name != "version" && find(name) == nullptr);
    Flag& f = flags_.emplace_back(Flag(std::move(name), target, std::move(help)));
    f.default_ = f.value_text();
    return f;
  }
  Flag* find(std::string_view name) {
    for (Flag& f : flags_)
      if (f.name_ == name) return &f;
    return nullptr;
  }
  const Flag* find(std::string_view name) const { return const_cast<FlagParser*>(this)->find(name); }

  // " (did you mean --lr?)" for a near miss (edit distance <= 2), else "".
  std::string suggestion(const std::string& name) const {
    std::string best;
    std::size_t best_d = 3;
    for (const Flag& f : flags_) {
      const std::string& b = f.name_;
      std::vector<std::size_t> row(b.size() + 1);
      for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
      for (std::size_t i = 1; i <= name.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
          const std::size_t up = row[j];
          row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (name[i - 1] != b[j - 1])});
          diag = up;
        }
      }
      if (row[b.size()] < best_d) best_d = row[b.size()], best = b;
    }
    return best.empty() ? "" : " (did you mean --" + best + "?)";
  }

  std::string program_, summary_, positional_usage_;
  std::deque<Flag> flags_;  // a deque keeps the Flag& handed out by add() valid
  int min_positional_ = 0, max_positional_ = std::numeric_limits<int>::max();
  bool help_requested_ = false, version_requested_ = false;
};

// Runs body() and turns a moodnet::Error into "error: <message>" on stderr and exit code 2 (a usage
// or input mistake), any other exception into exit code 1. Returns body's exit code otherwise. A
// debug build (no NDEBUG) ends the same line with the failed MOODNET_CHECK's condition and place.
template <class Body>
inline int guarded_main(Body&& body) {
  try {
    return body();
  } catch (const Error& e) {
#ifndef NDEBUG
    if (!e.check().empty()) {
      std::fprintf(stderr, "error: %s [debug build: failed check %s]\n", e.what(), e.check().c_str());
      return 2;
    }
#endif
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace moodnet::cli
