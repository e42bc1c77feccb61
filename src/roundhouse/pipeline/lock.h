// Lock files: what each stage last ran with and produced. A dvc.yaml's lock
// is dvc.lock, read and written as DVC 3 writes it (schema '2.0'; per stage
// `cmd`, then `deps` and `outs` sorted by path with `hash: md5`, `md5`,
// `size` and, for folders, `nfiles`, and `params` by file with the keys
// sorted), so `rh repro` and `dvc repro` on one repository each see the
// other's work as up to date. An rh.yaml's lock is rh.lock, the same form.
// Entries DVC 2 wrote (no `hash: md5`) are read as legacy: their md5 is of
// the file's text with CRLF turned into LF.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "roundhouse/pipeline/dvc_hash.h"
#include "roundhouse/pipeline/yaml_out.h"
#include "roundhouse/util/error.h"

namespace rh::pipeline {

struct LockedPath {
  std::string path;  // as the stage writes it (relative to its wdir)
  std::string md5;
  uint64_t size = 0;
  std::optional<uint64_t> nfiles;  // folders
  bool legacy = false;             // no `hash: md5`: DVC 2's text hash
};

// The entry for a path hashed as `h`.
LockedPath locked_path(const std::string& path, const ContentHash& h);

// A list of path entries (deps or outs, or a .dvc file's outs); `where`
// names it in errors ("stages.train.outs"), with `file` and the line.
Result<std::vector<LockedPath>> read_locked_paths(const std::string& file, const YAML::Node& list,
                                                  const std::string& where);
// One entry as a lock writes it: path, hash, md5, size, nfiles.
YMap locked_path_entry(const LockedPath& p);

struct StageLock {
  std::string name;
  YValue cmd;  // a string, or a list of them
  std::vector<LockedPath> deps, outs;
  YMap params;  // file -> {key -> value}
};

struct Lock {
  std::vector<StageLock> stages;  // in the file's order
  const StageLock* find(const std::string& name) const;
  // Replaces the stage's entry, or appends it.
  void put(StageLock s);
};

// The lock beside a pipeline file (dvc.yaml -> dvc.lock, rh.yaml -> rh.lock).
std::string lock_path_for(const std::string& pipeline_file);

// An empty lock when the file does not exist; errors name the file and line.
Result<Lock> read_lock(const std::string& path);
// The same for text read elsewhere (git at a revision); `path` names it in errors.
Result<Lock> parse_lock(const std::string& path, const std::string& text);

// The text, as DVC writes it.
std::string lock_text(const Lock& lock);

}  // namespace rh::pipeline
