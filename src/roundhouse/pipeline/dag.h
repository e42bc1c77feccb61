// The stages' graph: stage A comes before stage B when a dep of B is an out
// of A, lies inside one (A writes data/, B reads data/x.csv), or holds one
// (B reads data/, A writes data/x.csv). Checked as DVC checks it, each
// error naming the stages: two stages writing the same or nested outs, a
// stage whose out is (inside) one of its own deps, and cycles.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/pipeline/pipeline_file.h"

namespace rh::pipeline {

struct Dag {
  std::vector<Stage> stages;               // in the file's order
  std::vector<std::vector<size_t>> after;  // after[b]: the stages b depends on
  std::vector<size_t> order;               // a topological order (file order among equals)
};

Result<Dag> build_dag(std::vector<Stage> stages);

// The stages named by `targets` (a stage, or a group name for all of its
// generated stages) and, unless single, everything they depend on; with
// downstream, what depends on them instead. In topological order. Empty
// targets: every stage.
Result<std::vector<size_t>> select_stages(const Dag& dag, const std::vector<std::string>& targets,
                                          bool single, bool downstream);

// `inner` is `outer` or lies inside it (paths from the root, normalised).
bool path_within(const std::string& inner, const std::string& outer);

}  // namespace rh::pipeline
