#include "roundhouse/data/row_slices.h"

namespace rh::data {

RowSlices::RowSlices(DatasetStore& ds, std::string id, size_t size)
    : m_ds(ds), m_id(std::move(id)), m_size(size) {
  read_after("");
}

Result<std::vector<DatasetFile>> RowSlices::next() {
  if (!m_pending.valid())
    return std::vector<DatasetFile>{};
  auto slice = m_pending.get();
  if (slice && slice->size() == m_size)
    read_after(slice->back().path);
  return slice;
}

void RowSlices::read_after(std::string after) {
  m_pending = std::async(std::launch::async, [this, after = std::move(after)] {
    return m_ds.files(m_id, after, static_cast<int>(m_size));
  });
}

Result<const DatasetFile*> RowCursor::head() {
  while (!m_done && m_i == m_slice.size()) {
    RH_TRY_ASSIGN(m_slice, m_rows.next());
    m_i = 0;
    m_done = m_slice.empty();
  }
  return m_done ? nullptr : &m_slice[m_i];
}

}  // namespace rh::data
