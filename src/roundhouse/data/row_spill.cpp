#include "roundhouse/data/row_spill.h"

#include <unistd.h>

#include <cstring>

#include "roundhouse/data/os_error.h"
#include "roundhouse/util/fs.h"

namespace rh::data {

RowSpill::~RowSpill() {
  if (m_fd >= 0)
    ::close(m_fd);
}

Status RowSpill::open(const std::string& dir) {
  m_fd = open_unnamed_file(dir);
  if (m_fd < 0)
    return std::unexpected(os_err("cannot create a file in", dir));
  return {};
}

Status RowSpill::put(const DatasetFile& f) {
  ++m_count;
  m_buf += 'p';
  add(f.path);
  add(f.digest);
  add(f.size);
  add(uint64_t{f.mode});
  return flush_if_full();
}

Status RowSpill::gone(const std::string& path) {
  ++m_count;
  m_buf += 'g';
  add(path);
  return flush_if_full();
}

Status RowSpill::rewind() {
  RH_TRY(flush());
  if (::lseek(m_fd, 0, SEEK_SET) != 0)
    return std::unexpected(os_err("cannot read back", "the rows to write"));
  m_pos = 0;
  return {};
}

Result<bool> RowSpill::next(FileChanges& c, size_t max) {
  c.put.clear();
  c.gone.clear();
  while (c.put.size() + c.gone.size() < max) {
    RH_TRY_ASSIGN(bool more, need(1));
    if (!more)
      break;
    char kind = m_buf[m_pos++];
    if (kind == 'p') {
      DatasetFile f;
      uint64_t mode = 0;
      RH_TRY(take(f.path));
      RH_TRY(take(f.digest));
      RH_TRY(take(f.size));
      RH_TRY(take(mode));
      f.mode = static_cast<uint32_t>(mode);
      c.put.push_back(std::move(f));
    } else {
      std::string p;
      RH_TRY(take(p));
      c.gone.push_back(std::move(p));
    }
  }
  return !(c.put.empty() && c.gone.empty());
}

void RowSpill::add(const std::string& s) {
  add(uint64_t{s.size()});
  m_buf += s;
}

Status RowSpill::flush() {
  if (!write_all(m_fd, m_buf.data(), m_buf.size()))
    return std::unexpected(os_err("cannot write", "the rows to write"));
  m_buf.clear();
  return {};
}

Result<bool> RowSpill::need(size_t n) {
  while (m_buf.size() - m_pos < n) {
    m_buf.erase(0, m_pos);
    m_pos = 0;
    size_t had = m_buf.size();
    m_buf.resize(had + (1u << 20));
    ssize_t got = read_full(m_fd, m_buf.data() + had, 1u << 20);
    if (got < 0)
      return std::unexpected(os_err("cannot read back", "the rows to write"));
    m_buf.resize(had + static_cast<size_t>(got));
    if (got == 0) {
      if (m_buf.empty())
        return false;
      return make_error(ErrorCode::corrupt, "the rows to write end in the middle of one");
    }
  }
  return true;
}

Status RowSpill::take(uint64_t& v) {
  RH_TRY(need(sizeof v));
  std::memcpy(&v, m_buf.data() + m_pos, sizeof v);
  m_pos += sizeof v;
  return {};
}

Status RowSpill::take(std::string& s) {
  uint64_t n = 0;
  RH_TRY(take(n));
  RH_TRY(need(n));
  s.assign(m_buf, m_pos, n);
  m_pos += n;
  return {};
}

}  // namespace rh::data
