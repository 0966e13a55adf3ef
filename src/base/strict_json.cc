#include "base/strict_json.h"

#include <algorithm>
#include <climits>
#include <set>

#include "base/text_file.h"

namespace tccl {
namespace {

constexpr int kMaxDepth = 64;
// No object of the formats has more than a dozen keys. The cap also keeps ordered_json's
// insertion (a linear search per key) from turning a flood of keys into a quadratic parse.
constexpr size_t kMaxKeysPerObject = 64;

// Depth of [ and { outside strings; nlohmann's parser is iterative, but the decoders and
// anyone walking the tree afterwards should not see absurd nesting.
int maxNesting(std::string_view text) {
  int depth = 0, maxDepth = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      maxDepth = std::max(maxDepth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return maxDepth;
}

// Tracks the JSON path during parsing so that duplicate object keys, which nlohmann would
// silently collapse, are reported, and stops the parse at an object with too many keys.
class DuplicateKeyFinder {
 public:
  bool operator()(int /*depth*/, StrictJson::parse_event_t event, StrictJson& parsed) {
    using E = StrictJson::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        bumpIndex();
        stack_.push_back({event == E::object_start, {}, {}, -1});
        break;
      case E::object_end:
      case E::array_end:
        if (!stack_.empty()) stack_.pop_back();
        break;
      case E::key:
        if (!stack_.empty()) {
          Level& top = stack_.back();
          top.key = parsed.get<std::string>();
          if (!top.keys.insert(top.key).second && error.empty())
            error = path() + ": duplicate key '" + top.key + "'";
          if (top.keys.size() > kMaxKeysPerObject)
            failAtJsonPath(path(stack_.size() - 1),
                           "object with more than " + std::to_string(kMaxKeysPerObject) + " keys");
        }
        break;
      case E::value:
        bumpIndex();
        break;
    }
    return true;
  }
  std::string error;

 private:
  struct Level {
    bool isObject;
    std::set<std::string> keys;
    std::string key;
    long index;
  };
  void bumpIndex() {
    if (!stack_.empty() && !stack_.back().isObject) ++stack_.back().index;
  }
  // The path down to the object or array at `levels` deep (all of them by default).
  std::string path(size_t levels = SIZE_MAX) const {
    std::string p;
    for (size_t i = 0; i < std::min(levels, stack_.size()); ++i) {
      const Level& l = stack_[i];
      p = l.isObject ? jsonKeyPath(p, l.key) : jsonIndexPath(p, static_cast<size_t>(l.index));
    }
    return p.empty() ? "(document)" : p;
  }
  std::vector<Level> stack_;
};

// "[json.exception.parse_error.101] parse error at ..." -> "parse error at ...".
std::string stripNlohmannPrefix(std::string what) {
  if (!what.empty() && what[0] == '[') {
    auto close = what.find("] ");
    if (close != std::string::npos) what.erase(0, close + 2);
  }
  return what;
}

StrictJson parseBounded(std::string_view text) {
  if (text.size() > kMaxInputFileBytes)
    throw JsonInputError("malformed JSON: document larger than " +
                         std::to_string(kMaxInputFileBytes >> 20) + " MiB");
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    throw JsonInputError("malformed JSON: empty document");
  if (maxNesting(text) > kMaxDepth)
    throw JsonInputError("malformed JSON: nested deeper than " + std::to_string(kMaxDepth) +
                         " levels");
  DuplicateKeyFinder dups;
  StrictJson doc;
  try {
    doc = StrictJson::parse(text, std::ref(dups));
  } catch (const StrictJson::exception& e) {  // parse_error, or out_of_range for 1e999
    throw JsonInputError("malformed JSON: " + stripNlohmannPrefix(e.what()));
  }
  if (!dups.error.empty()) throw JsonInputError(dups.error);
  return doc;
}

}  // namespace

void failAtJsonPath(const std::string& path, const std::string& problem) {
  throw JsonInputError(path.empty() ? problem : path + ": " + problem);
}

std::string jsonIndexPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string jsonKeyPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string describeJsonValue(const StrictJson& value) {
  if (value.is_number_integer()) return "integer " + value.dump();
  if (value.is_number_float()) return "number " + value.dump();
  return value.type_name();
}

std::string readStrictJson(std::string_view text,
                           const std::function<void(const StrictJson&)>& decode) {
  StrictJson doc;
  try {
    doc = parseBounded(text);
  } catch (const JsonInputError& e) {
    return e.what();
  } catch (const std::exception& e) {  // std::bad_alloc: the caller learns, the host lives
    return std::string("cannot parse: ") + e.what();
  }
  try {
    decode(doc);
  } catch (const JsonInputError& e) {
    return e.what();
  } catch (const StrictJson::exception& e) {
    return stripNlohmannPrefix(e.what());
  } catch (const std::exception& e) {
    return std::string("cannot load: ") + e.what();
  }
  return {};
}

std::string jsonString(const StrictJson& value, const std::string& path) {
  if (!value.is_string())
    failAtJsonPath(path, "expected a string, got " + describeJsonValue(value));
  return value.get<std::string>();
}

int jsonInt(const StrictJson& value, const std::string& path) {
  if (!value.is_number_integer())
    failAtJsonPath(path, "expected an integer, got " + describeJsonValue(value));
  // get<int>() would wrap 4294967299 around to 3.
  const bool fits = value.is_number_unsigned()
                        ? value.get<uint64_t>() <= static_cast<uint64_t>(INT_MAX)
                        : value.get<int64_t>() >= INT_MIN && value.get<int64_t>() <= INT_MAX;
  if (!fits) failAtJsonPath(path, "integer " + value.dump() + " out of range");
  return static_cast<int>(value.get<int64_t>());
}

double jsonNumber(const StrictJson& value, const std::string& path, std::string_view expected) {
  if (!value.is_number())
    failAtJsonPath(path, "expected " + std::string(expected) + ", got " + describeJsonValue(value));
  return value.get<double>();
}

bool jsonBool(const StrictJson& value, const std::string& path) {
  if (!value.is_boolean())
    failAtJsonPath(path, "expected true or false, got " + describeJsonValue(value));
  return value.get<bool>();
}

const StrictJson& jsonArray(const StrictJson& value, const std::string& path, size_t maxSize) {
  if (!value.is_array()) failAtJsonPath(path, "expected an array, got " + describeJsonValue(value));
  if (value.size() > maxSize)
    failAtJsonPath(path, "too many elements (" + std::to_string(value.size()) + ", at most " +
                             std::to_string(maxSize) + ")");
  return value;
}

std::vector<int> jsonIntArray(const StrictJson& value, const std::string& path, size_t maxSize) {
  std::vector<int> out;
  for (size_t i = 0; i < jsonArray(value, path, maxSize).size(); ++i)
    out.push_back(jsonInt(value[i], jsonIndexPath(path, i)));
  return out;
}

std::vector<std::string> jsonStringArray(const StrictJson& value, const std::string& path,
                                         size_t maxSize) {
  std::vector<std::string> out;
  for (size_t i = 0; i < jsonArray(value, path, maxSize).size(); ++i)
    out.push_back(jsonString(value[i], jsonIndexPath(path, i)));
  return out;
}

JsonObjectReader::JsonObjectReader(const StrictJson& value, std::string path)
    : value_(value), path_(std::move(path)) {
  if (!value_.is_object())
    failAtJsonPath(path_.empty() ? "(document)" : path_,
                   "expected an object, got " + describeJsonValue(value_));
}

JsonObjectReader::JsonObjectReader(const StrictJson& value, std::string path,
                                   std::initializer_list<std::string_view> allowed)
    : JsonObjectReader(value, std::move(path)) {
  allowOnly(allowed);
}

void JsonObjectReader::allowOnly(std::initializer_list<std::string_view> allowed) const {
  for (auto it = value_.begin(); it != value_.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      failAtJsonPath(at(it.key()), "unknown key '" + it.key() + "'");
}

const StrictJson& JsonObjectReader::field(const std::string& key) const {
  auto it = value_.find(key);
  if (it == value_.end())
    failAtJsonPath(path_.empty() ? "(document)" : path_, "missing required key '" + key + "'");
  return *it;
}

const StrictJson& JsonObjectReader::optionalArray(const std::string& key, size_t maxSize) const {
  static const StrictJson kEmpty = StrictJson::array();
  return has(key) ? array(key, maxSize) : kEmpty;
}

}  // namespace tccl
