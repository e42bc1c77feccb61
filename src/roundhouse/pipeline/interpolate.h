// Templating of pipeline files, as DVC's dvc.yaml does it: `${a.b}` and
// `${a[b]}` select from the variables (a list index is a number: `${l[0]}`,
// `${l.0}`); a field that is exactly one `${x}` keeps x's type (a number
// stays a number); inside text a value is written as Python's str() writes
// it (true/false for booleans, None for null, 0.1 / 1e-05 / 100.0 for
// floats); a dict is allowed only in `cmd`, written as command-line flags
// (`--key value`, nested keys joined with '.', strings shell-quoted, a list
// as `--key a b`, true as `--key`, false left out); `\${` is a literal `${`.
#pragma once

#include <string>

#include "roundhouse/util/error.h"
#include "roundhouse/util/json.h"

namespace rh::pipeline {

// The value at a `${...}` expression; not_found "Could not find 'a.b'".
Result<Json> select(const Json& vars, const std::string& expr);

// Resolves every string inside v (objects and lists recursively, mapping
// keys too, as DVC does). `field` is the stage field v belongs to ("cmd", "outs",
// ...): only under "cmd" may a dict be interpolated. Errors name the
// expression and what is wrong.
Result<Json> resolve(const Json& v, const Json& vars, const std::string& field);

// Python's str() of a JSON scalar (what DVC writes into text).
std::string python_str(const Json& v);

// True when s holds an unescaped `${`.
bool has_interpolation(const std::string& s);

}  // namespace rh::pipeline
