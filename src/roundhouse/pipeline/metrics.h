// Metrics and params of a pipeline at a revision, for `rh metrics show|diff`
// and `rh params diff`, as DVC reports them: the metric files are the
// stages' `metrics` outs and the top-level `metrics:`, the params the keys
// the stages track (and the top-level `params:` files whole); values
// flattened with '.' ({"a": {"b": 1}} -> "a.b"). A revision is "workspace"
// or anything git names; a file is read from git at that revision, or, when
// git does not hold it (a cached out), through that revision's lock from
// the repository's cache.
#pragma once

#include <map>
#include <nlohmann/json.hpp>  // values held whole; included by two files only
#include <optional>
#include <string>
#include <vector>

#include "roundhouse/pipeline/repro.h"

namespace rh::pipeline {

// path -> flattened key -> value (JSON text of a scalar or list).
using Values = std::map<std::string, std::map<std::string, Json>>;

// The metric files' values at `rev`; files that cannot be read are left
// out and named in `missing`.
Result<Values> metrics_at(const Project& p, const std::string& rev,
                          std::vector<std::string>* missing = nullptr);

// The tracked params' values at `rev`.
Result<Values> params_at(const Project& p, const std::string& rev);

struct DiffRow {
  std::string path, key;
  std::optional<Json> old_value, new_value;
  std::optional<double> change;  // both numbers (or booleans, as Python counts them)
};

// Rows where a and b differ (or all with `all`), sorted by path, then key.
std::vector<DiffRow> diff(const Values& a, const Values& b, bool all);

// A value as DVC prints it in a table (Python's str(); "-" for none).
std::string shown(const std::optional<Json>& v, int precision = -1);

}  // namespace rh::pipeline
