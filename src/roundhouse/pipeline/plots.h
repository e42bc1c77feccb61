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
// A plot whose data a revision lacks has no series for it (one with no data
// at any revision is left out); what could not be
// read at all (a missing field, a bad file) is named in `errors` ("rev: why").
// With `targets`, as DVC: the definitions a target matches (a regular
// expression matched at the start of the id, or of "<pipeline file>::<id>"),
// and each target that is a file or folder at the revision, drawn as it is.
Result<Json> plots_report(const Project& p, const std::vector<std::string>& revs,
                          const std::vector<std::string>& targets,
                          std::vector<std::string>& errors);

// The revisions `rh plots diff REV...` draws, as DVC chooses them: the
// given ones, and with at most one given the workspace after it; with none
// given, HEAD first when tracked files differ from it (untracked files do
// not count). A repository with no commits has the workspace alone; a
// revision git does not know is not_found.
Result<std::vector<std::string>> plots_diff_revisions(const std::string& root,
                                                      std::vector<std::string> revs);

}  // namespace rh::pipeline
