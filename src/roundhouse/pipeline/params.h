// Parameter files, as DVC reads them: YAML (.yaml, .yml), JSON (.json) and
// TOML (.toml) by extension, each a mapping at the top; a key is a dotted
// path into it (`train.lr`). Python files are refused with a clear error.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "roundhouse/util/error.h"
#include "roundhouse/util/json.h"

namespace rh::pipeline {

// The file's values; not_found when it does not exist, invalid_argument
// naming the file (and line, for YAML and TOML) when it cannot be read.
Result<Json> read_params(const std::string& path);
// The same for text read elsewhere (git at a revision); `path` names it and
// gives its format by extension.
Result<Json> parse_params(const std::string& path, const std::string& text);

// The order the file lists each mapping's keys in (JSON objects here are
// sorted), by the mapping's dotted path ("" for the top; "a[0]" for the
// first item of the list at a): what DVC iterates a `foreach` over, and a
// plot's fields in order. YAML and JSON; TOML tables come sorted.
using KeyOrder = std::map<std::string, std::vector<std::string>>;
Result<KeyOrder> read_key_order(const std::string& path);
// The same for text read elsewhere; what does not parse gives no order.
KeyOrder key_order_of(const std::string& path, const std::string& text);

// The value at a dotted key, or nullopt.
const Json* find_key(const Json& params, const std::string& dotted);

}  // namespace rh::pipeline
