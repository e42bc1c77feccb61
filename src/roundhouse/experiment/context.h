// An experiment's context directory: the files its trials run with, packed
// into one archive that is stored as a blob, so an unchanged context has the
// same digest and is not sent twice. What is packed: every file and symlink
// under the folder that the ignore rules keep (experiment/ignore.h:
// `.rhignore` and `.detignore` at its root); modes are kept (the executable
// bit matters), times and owners are not, entries are in path order, so the
// same files give the same bytes. Format: POSIX tar (pax; names as their bytes),
// zstd-compressed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh::experiment {

struct ContextFile {
  std::string path;  // relative, '/'-separated
  uint64_t size = 0;
  uint32_t mode = 0644;
  bool symlink = false;
  std::string target;  // a symlink's target, as written
};

// The files the rules keep, in path order; an unreadable folder is an error
// naming it. Sockets, fifos and devices are left out.
Result<std::vector<ContextFile>> list_context(const std::string& dir);

struct PackResult {
  std::vector<ContextFile> files;
  uint64_t bytes = 0;  // the files' sizes added up
};

// Packs the context into out_path. Over max_bytes (the files' sizes added
// up), invalid_argument naming the largest files and nothing written.
Result<PackResult> pack_context(const std::string& dir, const std::string& out_path,
                                uint64_t max_bytes = uint64_t(1) << 30);

// Unpacks an archive made by pack_context into dest (created; must not
// exist). Absolute paths, `..`, links leaving dest and anything but files,
// folders and symlinks are refused, naming the entry; after a refusal dest
// is removed, so nothing half-written stays.
Status unpack_context(const std::string& archive_path, const std::string& dest);

}  // namespace rh::experiment
