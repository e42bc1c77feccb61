// Ordered YAML values and the block-style writer for lock files, writing
// what DVC's YAML library (ruamel.yaml, YAML 1.2, width 80) writes for the
// same data: mappings in their order, sequences not indented under their
// key, `key:` alone for null, [] and {} for empty collections, floats as
// Python's repr, and each string plain when YAML 1.2 reads it back as the
// same string, else single-quoted, else (holding a ' or a line break, or
// characters only escapes can write) double-quoted; plain and
// single-quoted strings fold at a space past column 80 as that library
// folds them. Not written alike: double-quoted strings past column 80 are
// not folded here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "roundhouse/util/json.h"

namespace YAML {
class Node;
}

namespace rh::pipeline {

struct YValue;
using YMap = std::vector<std::pair<std::string, YValue>>;
using YSeq = std::vector<YValue>;

struct YValue {
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, YSeq, YMap> v = nullptr;
  YValue() = default;
  YValue(std::nullptr_t) {}
  YValue(bool b) : v(b) {}
  YValue(int64_t i) : v(i) {}
  YValue(int i) : v(int64_t(i)) {}
  YValue(uint64_t i) : v(int64_t(i)) {}
  YValue(double d) : v(d) {}
  YValue(std::string s) : v(std::move(s)) {}
  YValue(const char* s) : v(std::string(s)) {}
  YValue(YSeq s) : v(std::move(s)) {}
  YValue(YMap m) : v(std::move(m)) {}
  bool operator==(const YValue&) const = default;
};

// The document (a mapping at the top), ending in a newline.
std::string write_yaml(const YMap& doc);

// A parsed YAML node as a YValue, keys in the file's order, plain scalars
// typed as YAML 1.2 reads them.
YValue read_yaml_value(const YAML::Node& n);

// A JSON value as a YValue (objects in JSON's key order).
YValue yvalue_of(const nlohmann::json& j);

// Whether a plain scalar reads as something other than a string (YAML 1.2:
// null, booleans, integers, floats, timestamps, `<<`, `=`).
bool resolves_as_non_string(const std::string& s);

}  // namespace rh::pipeline
