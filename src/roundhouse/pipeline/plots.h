// The plots of a pipeline at revisions, as `rh plots show|diff` draws them
// and as DVC collects them: every stage's `plots` out (a folder: each file
// in it), and the top-level `plots:` entries — a path (file or folder) with
// optional properties, or a named plot whose `y` maps data files to fields
// (and `x` a field, or a file -> field map). x defaults to the row index
// ("step"), y to the first row's last field. Image files are plots too.
// Paths in the report are from the repository root.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/pipeline/repro.h"
#include "roundhouse/util/json.h"

namespace rh::pipeline {

// {"revisions": [...], "plots": [{"id", "title", "template", "x_label",
//  "y_label", "series": [{"rev", "file", "x_field", "y_field", "x": [...],
//  "y": [...]}], "images": [{"rev", "file", "src"}]}]}: `src` a data: URL.
// A plot whose data a revision lacks has no series for it; what could not be
// read at all (a missing field, a bad file) is named in `errors` ("rev: why").
// `targets` keep plots whose id or data file equals one or lies under one.
Result<Json> plots_report(const Project& p, const std::vector<std::string>& revs,
                          const std::vector<std::string>& targets,
                          std::vector<std::string>& errors);

}  // namespace rh::pipeline
