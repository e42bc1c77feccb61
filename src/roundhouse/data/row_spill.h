// RowSpill: rows waiting to be written (files put, paths gone), kept in an
// unnamed file rather than in memory (it vanishes with the process, however
// that ends); written once, then read back from the start.
#pragma once

#include <cstdint>
#include <string>

#include "roundhouse/store/metadata_store.h"

namespace rh::data {

class RowSpill {
 public:
  RowSpill() = default;
  RowSpill(const RowSpill&) = delete;
  RowSpill& operator=(const RowSpill&) = delete;
  ~RowSpill();

  Status open(const std::string& dir);

  bool empty() const { return m_count == 0; }

  Status put(const DatasetFile& f);
  Status gone(const std::string& path);

  // From the start again, for reading.
  Status rewind();

  // Up to `max` more changes; false at the end.
  Result<bool> next(FileChanges& c, size_t max);

 private:
  void add(uint64_t v) { m_buf.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void add(const std::string& s);
  Status flush_if_full() { return m_buf.size() >= (1u << 20) ? flush() : Status{}; }
  Status flush();
  // At least n unread bytes in the buffer; false at the end of the file.
  Result<bool> need(size_t n);
  Status take(uint64_t& v);
  Status take(std::string& s);

  int m_fd = -1;
  std::string m_buf;
  size_t m_pos = 0;
  int64_t m_count = 0;  // changes written
};

}  // namespace rh::data
