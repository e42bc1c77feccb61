// A pipeline file: Roundhouse's rh.yaml, or DVC's dvc.yaml read as it is
// (the same keys, the same templating: interpolate.h). Stages come out in
// the file's order, each `foreach` or `matrix` group expanded into its
// `group@key` stages (DVC's names: a list of plain values is keyed by the
// values, a list of lists or dicts by index, a dict by its keys; a matrix
// by its values joined with '-', a list or dict value as name + index).
// Every error names the file, the line and the stage.
#pragma once

#include <string>
#include <vector>

#include "roundhouse/util/error.h"
#include "roundhouse/util/json.h"

namespace rh::pipeline {

struct Out {
  std::string path;  // as written, relative to the stage's wdir
  std::string rel;   // from the repository root, normalised
  bool cache = true;
  bool persist = false;
  bool push = true;
  std::string desc;
  enum class Kind { out, metric, plot } kind = Kind::out;
  std::string plot;  // a plot's x, y, title, template, ... as written: a JSON object
};

struct ParamDep {
  std::string file;               // relative to the stage's wdir (params.yaml by default)
  std::string rel;                // from the repository root
  std::vector<std::string> keys;  // dotted; empty with `all`: every key of the file
  bool all = false;
};

struct Dep {
  std::string path;  // as written
  std::string rel;   // from the repository root, normalised
};

struct Stage {
  std::string name;   // "train", or "train@us" for a generated one
  std::string group;  // the name it was generated from (= name when not generated)
  std::vector<std::string> cmd;
  std::string wdir;  // from the repository root, normalised ("." = the root)
  std::vector<Dep> deps;
  std::vector<ParamDep> params;
  std::vector<Out> outs;  // outs, metrics and plots, as listed
  bool frozen = false;
  bool always_changed = false;
  std::string desc;
  std::string meta;  // as written, JSON; empty when none
  int line = 0;      // of the stage's definition in the file
};

struct PipelineFile {
  std::string path;  // from the repository root ("dvc.yaml", "sub/rh.yaml")
  bool dvc = false;  // a dvc.yaml (its lock is dvc.lock, as DVC writes it)
  std::vector<Stage> stages;
  std::vector<std::string> metrics;  // top-level metrics:, from the root
  std::vector<std::string> plots;    // top-level plots:, as written (JSON each)
  std::vector<std::string> params;   // top-level params: files, from the root
  std::vector<std::string> warnings;
};

// Reads and expands `file` (relative to `root`, the repository's top).
Result<PipelineFile> load_pipeline_file(const std::string& root, const std::string& file);

// The pipeline file of the folder: rh.yaml, else dvc.yaml (not_found when neither).
Result<std::string> find_pipeline_file(const std::string& root, const std::string& dir = "");

// `a/./b/../c` -> `a/c`; "" and "." -> "."
std::string normal_path(const std::string& p);

}  // namespace rh::pipeline
