// The compact form of a dataset version's file rows ("application/x-rh-files",
// docs/api.md), for GET and POST /api/v1/datasets/{id}/files: one line per
// file, "<digest>\t<size>\t<mode, octal>\t<path>\n", the path with '\\',
// tab, newline and carriage return written as \\, \t, \n and \r. 50,000 rows
// are about 5 MB and parse in milliseconds, where JSON took a third of a
// second both ways. Written and read here only, by the server and its client.
// A change list (PUT /api/v1/datasets/{id}/changes) is the same rows, a
// removal written as a row whose digest is "-" ("-\t0\t0\t<path>").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "roundhouse/store/metadata_store.h"
#include "roundhouse/util/error.h"

namespace rh::api {

inline constexpr const char* k_file_list_type = "application/x-rh-files";

void append_file_list(std::string& out, const std::vector<DatasetFile>& files);
// Appends the rows of `text` to `out`; a malformed line is invalid_argument
// naming its line number. Paths and digests are checked by the store.
// `first_line` numbers the first line of `text` in messages (for a list read
// in pieces).
Status read_file_list(std::string_view text, std::vector<DatasetFile>& out, size_t first_line = 1);

void append_file_changes(std::string& out, const FileChanges& changes);
// Appends the rows of `text` to out.put and the removals to out.gone.
Status read_file_changes(std::string_view text, FileChanges& out, size_t first_line = 1);

// Reads a change list from a file a slice at a time (about `slice_bytes` of
// rows each), for DatasetStore::change_files: next() fills `out` (cleared
// first) and returns false at the end; a malformed row or a last line
// without its newline is invalid_argument naming the line.
class FileChangesReader {
 public:
  static Result<FileChangesReader> open(const std::string& path, size_t slice_bytes = 4 << 20);
  FileChangesReader(FileChangesReader&& o) noexcept;
  FileChangesReader& operator=(FileChangesReader&&) = delete;
  ~FileChangesReader();
  Result<bool> next(FileChanges& out);

 private:
  FileChangesReader(int fd, size_t slice_bytes) : m_fd(fd), m_slice(slice_bytes) {}
  int m_fd;
  size_t m_slice;
  std::string m_carry;  // a line cut by the previous read
  size_t m_line = 1;    // the number of the first line in m_carry
  bool m_eof = false;
};

}  // namespace rh::api
