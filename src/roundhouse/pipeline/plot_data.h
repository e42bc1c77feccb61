// A plot's data file as DVC reads it: rows of fields ("datapoints").
// .csv/.tsv: RFC 4180 (quotes, doubled quotes, newlines inside quotes), the
// first row the header; a field that reads whole as a number becomes one.
// .json/.yaml/.yml: a list of objects, or every list of objects found in an
// object (depth first), rows merged by index. Images (.png, .jpg, .jpeg,
// .gif, .svg) are not data: is_plot_image tells them apart.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/util/error.h"
#include "roundhouse/util/json.h"

namespace rh::pipeline {

bool is_plot_image(const std::string& path);

struct PlotRows {
  std::vector<Json> rows;           // JSON objects
  std::vector<std::string> fields;  // the first row's fields in the file's order
};

// invalid_argument naming `path` for a format it does not read or a file
// that does not parse.
Result<PlotRows> plot_rows(const std::string& path, const std::string& text);

}  // namespace rh::pipeline
