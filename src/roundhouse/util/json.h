// Typed reads from parsed JSON with error messages that name the place
// ("body.script.branch must be a string, got number"), and the wire form of
// doubles: finite numbers as JSON numbers, NaN and infinities as the strings
// "NaN", "Infinity", "-Infinity" (JSON has no literal for them).
//
// Only json_fwd.hpp is included here; files that build JSON include
// <nlohmann/json.hpp> themselves.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {

using Json = nlohmann::json;

// Parses text; invalid_argument with line/column on malformed JSON.
Result<Json> parse_json(std::string_view text, std::string_view where = "body");

Status expect_object(const Json& j, const std::string& where);

// Each read_* leaves `out` untouched when the key is absent and not required.
// A present key of the wrong type is invalid_argument; so is a missing required one.
Status read_string(const Json& obj, const char* key, const std::string& where, std::string& out,
                   bool required = false);
Status read_int(const Json& obj, const char* key, const std::string& where, int64_t& out,
                bool required = false);
Status read_double(const Json& obj, const char* key, const std::string& where, double& out,
                   bool required = false);
Status read_bool(const Json& obj, const char* key, const std::string& where, bool& out,
                 bool required = false);
Status read_string_list(const Json& obj, const char* key, const std::string& where,
                        std::vector<std::string>& out, bool required = false);
// Values may be strings, numbers or booleans; they are kept as text.
Status read_string_map(const Json& obj, const char* key, const std::string& where,
                       std::map<std::string, std::string>& out, bool required = false);

// A double from a number or one of "NaN", "Infinity", "-Infinity".
Result<double> json_to_double(const Json& j, const std::string& where);
Json double_to_json(double v);

std::string describe_json_type(const Json& j);

}  // namespace rh
