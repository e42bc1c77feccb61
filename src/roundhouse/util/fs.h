// File-system helpers: durable atomic files and small whole-file reads.
//
// AtomicFile writes into a temporary file beside the target; commit() fsyncs
// it, renames it into place and fsyncs the directory. Destroying an
// uncommitted AtomicFile removes the temporary file, so a half-written file
// never appears under the target name.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {

class AtomicFile {
 public:
  // Creates the temp file in tmp_dir (default: the target's directory), which
  // must be on the same file system as target.
  static Result<AtomicFile> create(const std::string& target, const std::string& tmp_dir = {});
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();

  Status write(const char* data, size_t n);
  // Durably moves the file into place. When `keep_existing`, an existing
  // target is left as it is (content-addressed objects are equal by name).
  Status commit(bool keep_existing = false) { return commit_to(m_target, keep_existing); }
  // Same, under a name known only once the content is written (a digest).
  // sync = false skips the fsyncs (the caller syncs the file system once for a batch).
  Status commit_to(const std::string& target, bool keep_existing, bool sync = true);
  const std::string& temp_path() const { return m_tmp; }

 private:
  AtomicFile(std::string target, std::string tmp, int fd)
      : m_target(std::move(target)), m_tmp(std::move(tmp)), m_fd(fd) {}
  std::string m_target;
  std::string m_tmp;
  int m_fd = -1;
  bool m_done = false;
};

Status make_dirs(const std::string& path);
// The names in a folder (without . and ..), sorted bytewise; an error
// naming the folder when it cannot be read.
Result<std::vector<std::string>> sorted_names(const std::string& dir);
Status fsync_dir(const std::string& dir);
// Flushes the whole file system holding `path` (syncfs): one call after
// writing many files with commit_to(..., sync = false).
Status sync_file_system(const std::string& path);
Result<std::string> read_file(const std::string& path);
Status write_file_atomic(const std::string& path, std::string_view data);
bool path_exists(const std::string& path);
// All n bytes to fd (short writes and EINTR retried); false with errno set otherwise.
bool write_all(int fd, const void* data, size_t n);
// Up to n bytes from fd, stopping early only at the end of the file (EINTR
// retried); the count read, or -1 with errno set.
ssize_t read_full(int fd, void* buf, size_t n);
// A scratch file in `dir` that has no name (O_TMPFILE, or a temporary file
// unlinked at once where the file system lacks it): read-write, gone with
// its descriptor however the process ends. -1 with errno set on failure.
int open_unnamed_file(const std::string& dir);
// Removes a file or a whole tree; a missing path is fine.
Status remove_all(const std::string& path);
Status rename_path(const std::string& from, const std::string& to);
std::string dirname_of(const std::string& path);
std::string basename_of(const std::string& path);
// $HOME, or the passwd entry's home.
std::string home_dir();

}  // namespace rh
