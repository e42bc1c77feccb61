#include "roundhouse/api/file_list.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace rh::api {

namespace {

void append_path(std::string& out, const std::string& path) {
  for (char c : path) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  out += '\n';
}

}  // namespace

void append_file_list(std::string& out, const std::vector<DatasetFile>& files) {
  out.reserve(out.size() + files.size() * 112);
  char num[32];
  for (const auto& f : files) {
    out += f.digest;
    out += '\t';
    auto r = std::to_chars(num, num + sizeof num, f.size);
    out.append(num, r.ptr);
    out += '\t';
    r = std::to_chars(num, num + sizeof num, f.mode, 8);
    out.append(num, r.ptr);
    out += '\t';
    append_path(out, f.path);
  }
}

void append_file_changes(std::string& out, const FileChanges& changes) {
  append_file_list(out, changes.put);
  for (const auto& path : changes.gone) {
    out += "-\t0\t0\t";
    append_path(out, path);
  }
}

namespace {

Error bad_line(size_t line, const std::string& why) {
  return Error{ErrorCode::invalid_argument, "file list line " + std::to_string(line) + ": " + why};
}

template <class T>
bool parse_number(std::string_view s, T& v, int base) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

}  // namespace

Status read_file_list(std::string_view text, std::vector<DatasetFile>& out, size_t first_line) {
  size_t line = first_line - 1;
  while (!text.empty()) {
    ++line;
    size_t end = text.find('\n');
    if (end == std::string_view::npos)
      return std::unexpected(bad_line(line, "does not end with a newline (cut short?)"));
    std::string_view l = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string_view field[4];
    for (int k = 0; k < 3; ++k) {
      size_t tab = l.find('\t');
      if (tab == std::string_view::npos)
        return std::unexpected(
            bad_line(line, "needs 4 tab-separated fields: digest, size, mode, path"));
      field[k] = l.substr(0, tab);
      l.remove_prefix(tab + 1);
    }
    field[3] = l;
    DatasetFile f;
    f.digest = std::string(field[0]);
    if (!parse_number(field[1], f.size, 10))
      return std::unexpected(
          bad_line(line, "size \"" + std::string(field[1]) + "\" is not a number"));
    if (!parse_number(field[2], f.mode, 8) || f.mode > 07777)
      return std::unexpected(
          bad_line(line, "mode \"" + std::string(field[2]) + "\" is not an octal file mode"));
    f.path.reserve(field[3].size());
    for (size_t i = 0; i < field[3].size(); ++i) {
      char c = field[3][i];
      if (c != '\\') {
        if (c == '\r')
          return std::unexpected(
              bad_line(line, "a carriage return in the path must be written \\r"));
        f.path += c;
        continue;
      }
      if (++i == field[3].size())
        return std::unexpected(bad_line(line, "the path ends with a lone backslash"));
      switch (field[3][i]) {
        case '\\':
          f.path += '\\';
          break;
        case 't':
          f.path += '\t';
          break;
        case 'n':
          f.path += '\n';
          break;
        case 'r':
          f.path += '\r';
          break;
        default:
          return std::unexpected(
              bad_line(line, std::string("unknown escape \\") + field[3][i] + " in the path"));
      }
    }
    out.push_back(std::move(f));
  }
  return {};
}

Status read_file_changes(std::string_view text, FileChanges& out, size_t first_line) {
  std::vector<DatasetFile> rows;
  RH_TRY(read_file_list(text, rows, first_line));
  for (auto& f : rows) {
    if (f.digest == "-")
      out.gone.push_back(std::move(f.path));
    else
      out.put.push_back(std::move(f));
  }
  return {};
}

Result<FileChangesReader> FileChangesReader::open(const std::string& path, size_t slice_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::io, "cannot open " + path + ": " + std::strerror(errno));
  return FileChangesReader(fd, std::max<size_t>(slice_bytes, 1));
}

FileChangesReader::FileChangesReader(FileChangesReader&& o) noexcept
    : m_fd(std::exchange(o.m_fd, -1)),
      m_slice(o.m_slice),
      m_carry(std::move(o.m_carry)),
      m_line(o.m_line),
      m_eof(o.m_eof) {}

FileChangesReader::~FileChangesReader() {
  if (m_fd >= 0)
    ::close(m_fd);
}

Result<bool> FileChangesReader::next(FileChanges& out) {
  out.put.clear();
  out.gone.clear();
  while (true) {
    size_t cut = m_carry.rfind('\n');
    if (cut != std::string::npos && (m_carry.size() >= m_slice || m_eof)) {
      std::string_view whole(m_carry.data(), cut + 1);
      RH_TRY(read_file_changes(whole, out, m_line));
      m_line += static_cast<size_t>(std::count(whole.begin(), whole.end(), '\n'));
      m_carry.erase(0, cut + 1);
      return true;
    }
    if (m_eof) {
      if (!m_carry.empty())
        return std::unexpected(
            Error{ErrorCode::invalid_argument, "file list line " + std::to_string(m_line) +
                                                   ": does not end with a newline (cut short?)"});
      return false;
    }
    size_t old = m_carry.size();
    m_carry.resize(old + m_slice);
    ssize_t n;
    do {
      n = ::read(m_fd, m_carry.data() + old, m_slice);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
      return make_error(ErrorCode::io,
                        std::string("cannot read a change list: ") + std::strerror(errno));
    m_carry.resize(old + static_cast<size_t>(n));
    m_eof = n == 0;
  }
}

}  // namespace rh::api
