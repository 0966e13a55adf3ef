// The strict JSON reader that the path database and topology files share: every rejection
// names the JSON path and the problem.
#include "base/strict_json.h"

#include <gtest/gtest.h>

#include <string>

namespace tccl {
namespace {

// What readStrictJson says of `text` when `decode` reads it; "" when all is well.
template <typename Decode>
std::string problem(const std::string& text, Decode decode) {
  return readStrictJson(text, [&](const StrictJson& doc) { decode(doc); });
}
std::string parseProblem(const std::string& text) {
  return problem(text, [](const StrictJson&) {});
}
// The problem reading field "v" of {"v": <value>} with `get`.
template <typename Get>
std::string valueProblem(const std::string& value, Get get) {
  return problem(R"({"v": )" + value + "}", [&](const StrictJson& doc) {
    JsonObjectReader r(doc, "", {"v"});
    get(r);
  });
}

TEST(StrictJson, RejectsMalformedDocuments) {
  EXPECT_EQ(parseProblem(""), "malformed JSON: empty document");
  EXPECT_EQ(parseProblem(" \n\t"), "malformed JSON: empty document");
  EXPECT_EQ(parseProblem(R"({"a": 1)").rfind("malformed JSON: parse error", 0), 0u);
  EXPECT_EQ(parseProblem(R"({"a": 1} x)").rfind("malformed JSON: parse error", 0), 0u);
  EXPECT_EQ(parseProblem(R"({"a": 1e999})"), "malformed JSON: number overflow parsing '1e999'");
  EXPECT_EQ(parseProblem(R"({"a": NaN})").rfind("malformed JSON", 0), 0u);
  EXPECT_EQ(parseProblem(std::string(64, '[') + std::string(64, ']')), "");
  EXPECT_EQ(parseProblem(std::string(65, '[') + std::string(65, ']')),
            "malformed JSON: nested deeper than 64 levels");
  // Brackets inside strings are text, not nesting.
  EXPECT_EQ(parseProblem(R"({"a": ")" + std::string(100, '[') + R"(\"{"})"), "");
}

TEST(StrictJson, RejectsDuplicateKeysWithTheirPath) {
  EXPECT_EQ(parseProblem(R"({"version": 1, "version": 2})"), "version: duplicate key 'version'");
  EXPECT_EQ(parseProblem(R"({"a": [{"b": 1}, {"c": {"d": 1, "d": 1}}]})"),
            "a[1].c.d: duplicate key 'd'");
  // The same key in two objects is no duplicate.
  EXPECT_EQ(parseProblem(R"([{"a": 1}, {"a": 2}, {"b": {"a": 3}}])"), "");
}

TEST(StrictJson, StopsAtAnObjectWithTooManyKeys) {
  std::string obj = "{";
  for (int i = 0; i < 65; ++i) obj += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": 0";
  obj += "}";
  EXPECT_EQ(parseProblem(R"({"x": [)" + obj + "]}"), "x[0]: object with more than 64 keys");
  obj.replace(obj.rfind(", \"k64\": 0"), 10, "");
  EXPECT_EQ(parseProblem(obj), "");
}

TEST(StrictJson, PassesOnWhatTheDecoderThrows) {
  EXPECT_EQ(problem("[]", [](const StrictJson&) { failAtJsonPath("a.b", "bad"); }), "a.b: bad");
  EXPECT_EQ(problem("[]", [](const StrictJson&) { failAtJsonPath("", "bad"); }), "bad");
  // A json exception loses nlohmann's "[json.exception...]" prefix; anything else is named.
  const std::string typeError = problem("1", [](const StrictJson& d) { (void)d.at("x"); });
  EXPECT_FALSE(typeError.empty());
  EXPECT_NE(typeError[0], '[') << typeError;
  EXPECT_EQ(problem("1", [](const StrictJson&) { throw std::runtime_error("boom"); }),
            "cannot load: boom");
}

TEST(StrictJson, ObjectReaderRejectsUnknownAndMissingKeys) {
  auto read = [](const StrictJson& doc) {
    JsonObjectReader top(doc, "", {"a", "list"});
    (void)top.str("a");
    const StrictJson& list = top.array("list");
    for (size_t i = 0; i < list.size(); ++i)
      JsonObjectReader(list[i], jsonIndexPath("list", i), {"x"}).integer("x");
  };
  EXPECT_EQ(problem(R"({"a": "s", "list": [{"x": 1}]})", read), "");
  // The first unknown key in document order, not in alphabetical order.
  EXPECT_EQ(problem(R"({"zz": 1, "a": "s", "b": 2, "list": []})", read), "zz: unknown key 'zz'");
  EXPECT_EQ(problem(R"({"a": "s", "list": [{"x": 1}, {"x": 2, "y": 3}]})", read),
            "list[1].y: unknown key 'y'");
  EXPECT_EQ(problem(R"({"list": []})", read), "(document): missing required key 'a'");
  EXPECT_EQ(problem(R"({"a": "s", "list": [{}]})", read), "list[0]: missing required key 'x'");
  EXPECT_EQ(problem(R"([1])", read), "(document): expected an object, got array");
  EXPECT_EQ(problem(R"({"a": "s", "list": [42]})", read),
            "list[0]: expected an object, got integer 42");
}

TEST(StrictJson, AllowOnlyCanWaitForAFieldThatDecidesTheKeys) {
  auto read = [](const StrictJson& doc) {
    JsonObjectReader r(doc, "rule");
    if (r.str("kind") == "a")
      r.allowOnly({"kind", "alpha"});
    else
      r.allowOnly({"kind", "beta"});
  };
  EXPECT_EQ(problem(R"({"kind": "a", "alpha": 1})", read), "");
  EXPECT_EQ(problem(R"({"kind": "b", "alpha": 1})", read), "rule.alpha: unknown key 'alpha'");
}

TEST(StrictJson, TypedFieldsNameWhatTheyGot) {
  auto str = [](const JsonObjectReader& r) { (void)r.str("v"); };
  auto integer = [](const JsonObjectReader& r) { (void)r.integer("v"); };
  auto number = [](const JsonObjectReader& r) { (void)r.number("v"); };
  auto boolean = [](const JsonObjectReader& r) { (void)r.boolean("v"); };
  auto array = [](const JsonObjectReader& r) { (void)r.array("v", 2); };
  EXPECT_EQ(valueProblem("7", str), "v: expected a string, got integer 7");
  EXPECT_EQ(valueProblem("\"7\"", integer), "v: expected an integer, got string");
  EXPECT_EQ(valueProblem("1.5", integer), "v: expected an integer, got number 1.5");
  EXPECT_EQ(valueProblem("null", number), "v: expected a number, got null");
  EXPECT_EQ(
      valueProblem("\"x\"", [](const JsonObjectReader& r) { r.number("v", "a number (GB/s)"); }),
      "v: expected a number (GB/s), got string");
  EXPECT_EQ(valueProblem("1", boolean), "v: expected true or false, got integer 1");
  EXPECT_EQ(valueProblem("{}", array), "v: expected an array, got object");
  EXPECT_EQ(valueProblem("[1, 2, 3]", array), "v: too many elements (3, at most 2)");
  EXPECT_EQ(valueProblem("[1, \"2\"]",
                         [](const JsonObjectReader& r) { jsonIntArray(r.field("v"), r.at("v")); }),
            "v[1]: expected an integer, got string");
  EXPECT_EQ(valueProblem("[\"a\", false]",
                         [](const JsonObjectReader& r) { jsonStringArray(r.field("v"), "v"); }),
            "v[1]: expected a string, got boolean");
}

// get<int>() would wrap 4294967299 around to 3.
TEST(StrictJson, IntegersMustFitAnInt) {
  auto get = [](const std::string& value) {
    int out = 0;
    const std::string error =
        valueProblem(value, [&](const JsonObjectReader& r) { out = r.integer("v"); });
    return error.empty() ? std::to_string(out) : error;
  };
  EXPECT_EQ(get("2147483647"), "2147483647");
  EXPECT_EQ(get("-2147483648"), "-2147483648");
  EXPECT_EQ(get("2147483648"), "v: integer 2147483648 out of range");
  EXPECT_EQ(get("-2147483649"), "v: integer -2147483649 out of range");
  EXPECT_EQ(get("4294967299"), "v: integer 4294967299 out of range");
  // Beyond 64 bits nlohmann holds a float, which is no integer.
  EXPECT_EQ(get("99999999999999999999999").rfind("v: expected an integer, got number", 0), 0u);
}

TEST(StrictJson, OptionalFieldsFallBackOnlyWhenAbsent) {
  std::string s;
  int i = 0;
  bool b = false;
  size_t n = 9;
  auto read = [&](const StrictJson& doc) {
    JsonObjectReader r(doc, "o", {"s", "i", "b", "list"});
    s = r.str("s", "dflt");
    i = r.integer("i", -1);
    b = r.boolean("b", true);
    n = r.optionalArray("list").size();
  };
  EXPECT_EQ(problem("{}", read), "");
  EXPECT_EQ(s, "dflt");
  EXPECT_EQ(i, -1);
  EXPECT_TRUE(b);
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(problem(R"({"s": "x", "i": 3, "b": false, "list": [1, 2]})", read), "");
  EXPECT_EQ(s, "x");
  EXPECT_EQ(i, 3);
  EXPECT_FALSE(b);
  EXPECT_EQ(n, 2u);
  // Present but of the wrong type is an error, not the fallback.
  EXPECT_EQ(problem(R"({"i": null})", read), "o.i: expected an integer, got null");
  EXPECT_EQ(problem(R"({"list": {}})", read), "o.list: expected an array, got object");
}

}  // namespace
}  // namespace tccl
