// Reading a version's rows in path order with bounded memory: RowSlices (a
// slice at a time, the next read ahead) and RowCursor (a row at a time).
#pragma once

#include <future>
#include <string>
#include <vector>

#include "roundhouse/store/metadata_store.h"

namespace rh::data {

// A version's rows in path order, a slice at a time; the next slice is read
// while the caller works on this one, so an operation holds two slices of
// rows at most, whatever the version's size.
class RowSlices {
 public:
  static constexpr size_t k_rows = 16000;  // rows a slice holds unless told
  RowSlices(DatasetStore& ds, std::string id, size_t size = k_rows);
  RowSlices(const RowSlices&) = delete;
  RowSlices& operator=(const RowSlices&) = delete;
  // The next slice; empty after the last.
  Result<std::vector<DatasetFile>> next();

 private:
  void read_after(std::string after);
  DatasetStore& m_ds;
  std::string m_id;
  size_t m_size;
  std::future<Result<std::vector<DatasetFile>>> m_pending;  // last: joined first
};

// A version's rows one at a time (over RowSlices), for merges in path order.
class RowCursor {
 public:
  RowCursor(DatasetStore& ds, std::string id) : m_rows(ds, std::move(id)) {}
  // The current row, or null after the last.
  Result<const DatasetFile*> head();
  void pop() { ++m_i; }

 private:
  RowSlices m_rows;
  std::vector<DatasetFile> m_slice;
  size_t m_i = 0;
  bool m_done = false;
};

}  // namespace rh::data
