// Reading untrusted JSON documents strictly (the path database, topology files): a bounded
// parse that rejects duplicate keys, and typed access that rejects unknown keys, missing keys,
// wrong types and integers that do not fit. Every error names the JSON path of the offending
// element, e.g. "nodes[0].intra[1].gpus[1]: expected an integer, got number 1.5".
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tccl {

// Keys in document order, so that the first unknown key reported is the first in the file.
using StrictJson = nlohmann::ordered_json;

// What the readers below throw: "<json path>: <problem>", or the problem alone at an empty path.
struct JsonInputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void failAtJsonPath(const std::string& path, const std::string& problem);

// "nodes[3]"; "nodes[3].gpus" ("gpus" at the top level).
std::string jsonIndexPath(const std::string& path, size_t index);
std::string jsonKeyPath(const std::string& path, std::string_view key);
// What a value is, for "expected X, got Y": "integer 42", "number 1.5", "string", "array", ...
std::string describeJsonValue(const StrictJson& value);

// Parses `text` and hands the document to `decode`. Returns "" on success, else the problem:
// "malformed JSON: ..." (bad syntax, an empty document, more than kMaxInputFileBytes, nesting
// deeper than 64 levels), "<path>: object with more than 64 keys", "<path>: duplicate key 'k'",
// or what `decode` threw (a JsonInputError as is, anything else with its type of failure).
// Never throws.
std::string readStrictJson(std::string_view text,
                           const std::function<void(const StrictJson&)>& decode);

// One value, found at `path`; each throws JsonInputError unless the value has the type asked
// for. `expected` words the type in the message ("a number (GB/s)").
std::string jsonString(const StrictJson& value, const std::string& path);
int jsonInt(const StrictJson& value, const std::string& path);  // checked, no wrap-around
double jsonNumber(const StrictJson& value, const std::string& path,
                  std::string_view expected = "a number");
bool jsonBool(const StrictJson& value, const std::string& path);
const StrictJson& jsonArray(const StrictJson& value, const std::string& path,
                            size_t maxSize = SIZE_MAX);
std::vector<int> jsonIntArray(const StrictJson& value, const std::string& path,
                              size_t maxSize = SIZE_MAX);
std::vector<std::string> jsonStringArray(const StrictJson& value, const std::string& path,
                                         size_t maxSize = SIZE_MAX);

// The fields of one JSON object, by key, typed as above.
class JsonObjectReader {
 public:
  // Throws unless `value` is an object; `path` "" is the document itself.
  JsonObjectReader(const StrictJson& value, std::string path);
  // ... whose keys are all in `allowed`.
  JsonObjectReader(const StrictJson& value, std::string path,
                   std::initializer_list<std::string_view> allowed);
  // Throws at the first key, in document order, that is not in `allowed`. For objects whose
  // allowed keys depend on a field read first (a version, a kind).
  void allowOnly(std::initializer_list<std::string_view> allowed) const;

  const std::string& path() const { return path_; }
  std::string at(const std::string& key) const { return jsonKeyPath(path_, key); }
  bool has(const std::string& key) const { return value_.contains(key); }
  const StrictJson& field(const std::string& key) const;  // required

  std::string str(const std::string& key) const { return jsonString(field(key), at(key)); }
  std::string str(const std::string& key, const std::string& fallback) const {
    return has(key) ? str(key) : fallback;
  }
  int integer(const std::string& key) const { return jsonInt(field(key), at(key)); }
  int integer(const std::string& key, int fallback) const {
    return has(key) ? integer(key) : fallback;
  }
  double number(const std::string& key, std::string_view expected = "a number") const {
    return jsonNumber(field(key), at(key), expected);
  }
  bool boolean(const std::string& key) const { return jsonBool(field(key), at(key)); }
  bool boolean(const std::string& key, bool fallback) const {
    return has(key) ? boolean(key) : fallback;
  }
  const StrictJson& array(const std::string& key, size_t maxSize = SIZE_MAX) const {
    return jsonArray(field(key), at(key), maxSize);
  }
  // An empty array when the key is absent.
  const StrictJson& optionalArray(const std::string& key, size_t maxSize = SIZE_MAX) const;

 private:
  const StrictJson& value_;
  std::string path_;
};

}  // namespace tccl
