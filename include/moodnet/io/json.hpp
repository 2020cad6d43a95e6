#pragma once
// A small, strict JSON value, parser and writer — enough for safetensors headers and metadata.
//
// Strict means RFC 8259 and nothing more: no comments, no trailing commas, no NaN/Infinity, no
// leading zeros, strings must be valid UTF-8 without raw control characters, duplicate object keys
// are rejected, and only whitespace may follow the value (safetensors pads headers with spaces).
// Every parse error throws moodnet::Error naming the byte offset. Objects keep their key order.
// Numbers without '.', 'e' or 'E' are int64 (overflow is an error); others are doubles, written
// back in the shortest form that reads back bit-exactly (as precise as %.17g, never rounded).
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "moodnet/core/error.hpp"

namespace moodnet::io {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;  // insertion order, unique keys
  enum class Type { Null, Bool, Int, Double, String, Array, Object };

  Json() = default;
  Json(std::nullptr_t) {}
  Json(bool b) : v_(b) {}
  Json(int i) : v_(static_cast<std::int64_t>(i)) {}
  Json(std::int64_t i) : v_(i) {}
  Json(double d) : v_(d) {}
  Json(const char* s) : v_(std::string(s)) {}
  Json(std::string s) : v_(std::move(s)) {}
  Json(Array a) : v_(std::move(a)) {}
  Json(Object o) : v_(std::move(o)) {}

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  bool is_int() const { return type() == Type::Int; }
  bool is_number() const { return is_int() || type() == Type::Double; }
  bool is_string() const { return type() == Type::String; }
  bool is_array() const { return type() == Type::Array; }
  bool is_object() const { return type() == Type::Object; }

  // Typed access; callers check the type first (a mismatch is a bug: MOODNET_ASSERT).
  bool as_bool() const { return get<bool>(); }
  std::int64_t as_int() const { return get<std::int64_t>(); }
  double as_double() const { return is_int() ? static_cast<double>(as_int()) : get<double>(); }
  const std::string& as_string() const { return get<std::string>(); }
  const Array& as_array() const { return get<Array>(); }
  const Object& as_object() const { return get<Object>(); }
  Array& as_array() { return std::get<Array>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  // Member `key` of an object, or nullptr when absent (or when this is not an object).
  const Json* find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (const auto& [k, v] : as_object())
      if (k == key) return &v;
    return nullptr;
  }

  bool operator==(const Json&) const = default;

 private:
  template <class T>
  const T& get() const {
    MOODNET_ASSERT(std::holds_alternative<T>(v_));
    return std::get<T>(v_);
  }
  std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Array, Object> v_;
};

// Shortest decimal text that reads back as exactly `d` ("0.1", "1e-08", "3"); d must be finite.
inline std::string format_double(double d) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  MOODNET_ASSERT(r.ec == std::errc());
  return std::string(buf, r.ptr);
}

namespace detail {

// Length of the valid UTF-8 sequence of two or more bytes starting at s[pos], or 0 when there is
// none (an ASCII byte, a stray continuation byte, an overlong form, a surrogate, > U+10FFFF).
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t pos) {
  const auto b = [&](std::size_t i) { return pos + i < s.size() ? static_cast<unsigned char>(s[pos + i]) : 0u; };
  const unsigned c = b(0);
  const auto cont = [&](std::size_t i) { return (b(i) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  Json parse_document() {
    skip_ws();
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) error("unexpected text after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 64;

  [[noreturn]] void error(const std::string& what) const {
    fail("JSON: ", what, " at byte ", pos_);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) error(pos_ < s_.size() ? std::string("expected '") + c + "'" : std::string("unexpected end, expected '") + c + "'");
  }
  void expect_word(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) error("invalid literal");
    pos_ += w.size();
  }

  Json parse_value(int depth) {
    if (depth > kMaxDepth) error("nesting deeper than 64 levels");
    if (pos_ >= s_.size()) error("unexpected end of input");
    switch (s_[pos_]) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Json(parse_string());
      case 't': expect_word("true"); return Json(true);
      case 'f': expect_word("false"); return Json(false);
      case 'n': expect_word("null"); return Json(nullptr);
      default: return parse_number();
    }
  }

  Json parse_object(int depth) {
    expect('{');
    Json::Object obj;
    // Keys seen so far, hashed: the duplicate check stays linear in the object's size (a scan of
    // obj per key made a 100k-key safetensors header take half a minute).
    std::unordered_set<std::string> keys;
    skip_ws();
    if (eat('}')) return Json(std::move(obj));
    for (;;) {
      skip_ws();
      const std::size_t key_pos = pos_;
      if (pos_ >= s_.size() || s_[pos_] != '"') error("expected a string key");
      std::string key = parse_string();
      if (!keys.insert(key).second) {
        pos_ = key_pos;
        error("duplicate key \"" + key + "\"");
      }
      skip_ws();
      expect(':');
      skip_ws();
      Json v = parse_value(depth + 1);
      obj.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (eat('}')) return Json(std::move(obj));
      expect(',');
    }
  }

  Json parse_array(int depth) {
    expect('[');
    Json::Array arr;
    skip_ws();
    if (eat(']')) return Json(std::move(arr));
    for (;;) {
      skip_ws();
      arr.push_back(parse_value(depth + 1));
      skip_ws();
      if (eat(']')) return Json(std::move(arr));
      expect(',');
    }
  }

  unsigned hex4() {
    if (pos_ + 4 > s_.size()) error("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else { --pos_; error("invalid hex digit in \\u escape"); }
    }
    return v;
  }
  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) out += char(cp);
    else if (cp < 0x800) { out += char(0xC0 | (cp >> 6)); out += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { out += char(0xE0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
    else { out += char(0xF0 | (cp >> 18)); out += char(0x80 | ((cp >> 12) & 0x3F)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
  }
  std::size_t utf8_length() const { return utf8_sequence_length(s_, pos_); }

  std::string parse_string() {
    expect('"');
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) error("unterminated string");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') { ++pos_; return out; }
      if (c < 0x20) error("raw control character in a string");
      if (c >= 0x80) {
        const std::size_t n = utf8_length();
        if (n == 0) error("invalid UTF-8 in a string");
        out.append(s_.substr(pos_, n));
        pos_ += n;
        continue;
      }
      ++pos_;
      if (c != '\\') { out += char(c); continue; }
      if (pos_ >= s_.size()) error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // high surrogate: a low one must follow
            if (s_.substr(pos_, 2) != "\\u") error("unpaired UTF-16 surrogate");
            pos_ += 2;
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) error("unpaired UTF-16 surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            error("unpaired UTF-16 surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: --pos_; error(std::string("invalid escape \\") + e);
      }
    }
  }

  Json parse_number() {
    const std::size_t start = pos_;
    const auto digit = [&] { return pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9'; };
    bool is_float = false;
    eat('-');
    if (!digit()) error("invalid value");
    if (s_[pos_] == '0') {
      ++pos_;
      if (digit()) error("leading zero in a number");
    } else {
      while (digit()) ++pos_;
    }
    if (eat('.')) {
      is_float = true;
      if (!digit()) error("expected a digit after '.'");
      while (digit()) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      is_float = true;
      ++pos_;
      if (!eat('+')) eat('-');
      if (!digit()) error("expected a digit in the exponent");
      while (digit()) ++pos_;
    }
    const char* b = s_.data() + start;
    const char* e = s_.data() + pos_;
    if (!is_float) {
      std::int64_t i = 0;
      const auto r = std::from_chars(b, e, i);
      if (r.ec != std::errc() || r.ptr != e) { pos_ = start; error("integer out of the int64 range"); }
      return Json(i);
    }
    double d = 0;
    const auto r = std::from_chars(b, e, d);
    if (r.ec != std::errc() || r.ptr != e || !std::isfinite(d)) { pos_ = start; error("number out of the double range"); }
    return Json(d);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// `lossy`: a byte that does not start a valid UTF-8 sequence is written as U+FFFD (else it passes
// through, and the text is only valid JSON when s is UTF-8).
inline void write_json_string(std::string& out, std::string_view s, bool lossy = false) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char ch = s[i];
    const auto c = static_cast<unsigned char>(ch);
    if (lossy && c >= 0x80) {
      const std::size_t n = utf8_sequence_length(s, i);
      if (n == 0) out += "\\ufffd";
      else out.append(s.substr(i, n)), i += n - 1;
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

inline void write_json(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::Type::Null: out += "null"; break;
    case Json::Type::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Json::Type::Int: out += std::to_string(v.as_int()); break;
    case Json::Type::Double: {
      const double d = v.as_double();
      MOODNET_CHECK(std::isfinite(d), "JSON cannot represent the number ", d);
      std::string s = format_double(d);
      // Keep it a double on re-reading: "3" -> "3.0".
      if (s.find_first_of(".eE") == std::string::npos) s += ".0";
      out += s;
      break;
    }
    case Json::Type::String: write_json_string(out, v.as_string()); break;
    case Json::Type::Array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.as_array()) {
        if (!first) out += ',';
        first = false;
        write_json(out, x);
      }
      out += ']';
      break;
    }
    case Json::Type::Object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.as_object()) {
        if (!first) out += ',';
        first = false;
        write_json_string(out, k);
        out += ':';
        write_json(out, x);
      }
      out += '}';
      break;
    }
  }
}

}  // namespace detail

// Parses one JSON document (surrounding whitespace allowed); throws "JSON: ... at byte N".
inline Json parse_json(std::string_view text) { return detail::JsonParser(text).parse_document(); }

// A JSON string literal for text that need not be UTF-8 (a Linux file name is any bytes): each byte
// that does not start a valid UTF-8 sequence becomes U+FFFD, so the line is always valid JSON.
inline std::string json_string_lossy(std::string_view s) {
  std::string out;
  detail::write_json_string(out, s, true);
  return out;
}

// Compact JSON text (no spaces); strings are written as UTF-8 with the mandatory escapes.
inline std::string to_json(const Json& v) {
  std::string out;
  detail::write_json(out, v);
  return out;
}

}  // namespace moodnet::io
