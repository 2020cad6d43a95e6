#include "moodnet/io/json.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using moodnet::io::Json;
using moodnet::io::parse_json;
using moodnet::io::to_json;

TEST_CASE("JSON parses every value type and keeps object order", "[io][json]") {
  const Json v = parse_json(R"( {"z": [1, -2, 3.5, -0.25e2, 1E3], "a": {"t": true, "f": false, "n": null},
                                 "s": "q\"b\\s\/\b\f\n\r\t\u00e9\ud83d\ude00", "big": 9223372036854775807} )");
  REQUIRE(v.is_object());
  REQUIRE(v.as_object().size() == 4);
  CHECK(v.as_object()[0].first == "z");
  CHECK(v.as_object()[1].first == "a");
  const auto& z = v.find("z")->as_array();
  CHECK(z[0].is_int());
  CHECK(z[0].as_int() == 1);
  CHECK(z[1].as_int() == -2);
  CHECK(z[2].as_double() == 3.5);
  CHECK(z[3].as_double() == -25.0);
  CHECK(!z[4].is_int());
  CHECK(z[4].as_double() == 1000.0);
  CHECK(v.find("a")->find("t")->as_bool());
  CHECK(!v.find("a")->find("f")->as_bool());
  CHECK(v.find("a")->find("n")->is_null());
  CHECK(v.find("s")->as_string() == "q\"b\\s/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(v.find("big")->as_int() == 9223372036854775807LL);
  CHECK(v.find("missing") == nullptr);
}

TEST_CASE("JSON writes compactly and round-trips doubles bit-exactly", "[io][json]") {
  const Json v(Json::Object{{"b", Json(0.1)}, {"a", Json(Json::Array{Json(1), Json(3.0), Json(nullptr), Json(true)})},
                            {"s", Json("tab\there \"q\" \x01 \xc3\xa9")}});
  const std::string text = to_json(v);
  CHECK(text == R"({"b":0.1,"a":[1,3.0,null,true],"s":"tab\there \"q\" \u0001 )" "\xc3\xa9\"}");
  CHECK(parse_json(text) == v);
  for (double d : {0.1, 1.0 / 3.0, 6.02214076e23, -2.2250738585072014e-308, 4.9e-324, 1e300, 123456789.125}) {
    const Json back = parse_json(to_json(Json(d)));
    CHECK(back.type() == Json::Type::Double);
    CHECK(back.as_double() == d);
  }
  CHECK_THROWS_WITH(to_json(Json(std::nan(""))), Catch::Contains("JSON cannot represent"));
}

TEST_CASE("JSON parse errors name the byte offset", "[io][json]") {
  const auto err = [](const std::string& text) {
    try {
      parse_json(text);
    } catch (const moodnet::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err(R"({"a": 1,})") == "JSON: expected a string key at byte 8");
  CHECK(err(R"({"a" 1})") == "JSON: expected ':' at byte 5");
  CHECK(err(R"([1, 2)") == "JSON: unexpected end, expected ',' at byte 5");
  CHECK(err(R"({"a": 1, "a": 2})") == "JSON: duplicate key \"a\" at byte 9");
  CHECK(err("[01]") == "JSON: leading zero in a number at byte 2");
  CHECK(err("[1.]") == "JSON: expected a digit after '.' at byte 3");
  CHECK(err("[NaN]") == "JSON: invalid value at byte 1");
  CHECK(err("tru") == "JSON: invalid literal at byte 0");
  CHECK(err("\"abc") == "JSON: unterminated string at byte 4");
  CHECK(err("\"a\nb\"") == "JSON: raw control character in a string at byte 2");
  CHECK(err(R"("\x")") == "JSON: invalid escape \\x at byte 2");
  CHECK(err(R"("\ud800")") == "JSON: unpaired UTF-16 surrogate at byte 7");
  CHECK(err("\"\xff\"") == "JSON: invalid UTF-8 in a string at byte 1");
  CHECK(err("\"\xc0\xaf\"") == "JSON: invalid UTF-8 in a string at byte 1");  // overlong '/'
  CHECK(err("[99999999999999999999]") == "JSON: integer out of the int64 range at byte 1");
  CHECK(err("[1e999]") == "JSON: number out of the double range at byte 1");
  CHECK(err("{} x") == "JSON: unexpected text after the JSON value at byte 3");
  CHECK(err("") == "JSON: unexpected end of input at byte 0");
  CHECK(err(std::string(100, '[')) == "JSON: nesting deeper than 64 levels at byte 65");
  CHECK(err("{}   \n ") == "no error");
}

// Issue 19: the duplicate-key check scanned the object for every key (100k keys: half a minute; the
// 100 MB safetensors header limit allowed hours). It is a hash set now; this checks that a 200k-key
// object still parses in full and that a duplicate as its last key is found at the right byte.
TEST_CASE("JSON: an object with 200k keys parses, and a duplicate last key is named at its byte", "[io][json]") {
  constexpr int n = 200000;
  std::string text = "{";
  for (int i = 0; i < n; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
  const Json v = parse_json(text + "}");
  REQUIRE(v.as_object().size() == static_cast<std::size_t>(n));
  CHECK(v.as_object().back().first == "k" + std::to_string(n - 1));
  CHECK(v.as_object().back().second.as_int() == n - 1);
  const std::size_t at = text.size() + 1;
  CHECK_THROWS_WITH(parse_json(text + ",\"k12345\":0}"),
                    "JSON: duplicate key \"k12345\" at byte " + std::to_string(at));
}

// Issue 19: predict --json printed file names that are not UTF-8 byte for byte: invalid JSON.
TEST_CASE("json_string_lossy: valid UTF-8 kept, every invalid byte U+FFFD, escapes as to_json", "[io][json]") {
  using moodnet::io::json_string_lossy;
  CHECK(json_string_lossy("caf\xc3\xa9 \"x\"\n.jpg") == "\"caf\xc3\xa9 \\\"x\\\"\\n.jpg\"");
  CHECK(json_string_lossy("a\xff" "b\xc3") == "\"a\\ufffdb\\ufffd\"");             // stray byte, cut sequence
  CHECK(json_string_lossy("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");        // a surrogate, byte by byte
  CHECK(json_string_lossy("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");         // U+1F600 kept
  const std::string bad_name = "face\x80\xfe.jpg";
  CHECK(parse_json(json_string_lossy(bad_name)).as_string() == "face\xef\xbf\xbd\xef\xbf\xbd.jpg");
}
