#include "roundhouse/blob/blob_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rh {

Result<size_t> StringSource::read(char* buf, size_t n) {
  size_t k = std::min(n, m_data.size());
  std::memcpy(buf, m_data.data(), k);
  m_data.remove_prefix(k);
  return k;
}

FileSource::FileSource(const std::string& path) : m_path(path) {
  m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) {
    m_error = Error{errno == ENOENT ? ErrorCode::not_found : ErrorCode::io,
                    "cannot open " + path + ": " + std::strerror(errno)};
  }
}

FileSource::~FileSource() {
  if (m_fd >= 0)
    ::close(m_fd);
}

Result<size_t> FileSource::read(char* buf, size_t n) {
  if (m_error)
    return make_error(*m_error);
  while (true) {
    ssize_t k = ::read(m_fd, buf, n);
    if (k >= 0)
      return static_cast<size_t>(k);
    if (errno == EINTR)
      continue;
    return make_error(ErrorCode::io, "cannot read " + m_path + ": " + std::strerror(errno));
  }
}

Status read_range(int fd, uint64_t offset, uint64_t length, ByteSink& sink, const std::string& name,
                  bool exact) {
  std::string buf(static_cast<size_t>(std::min<uint64_t>(length, 1 << 20)), '\0');
  off_t pos = static_cast<off_t>(offset);
  while (length > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, buf.size()));
    ssize_t k = ::pread(fd, buf.data(), want, pos);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return make_error(ErrorCode::io, "cannot read " + name + ": " + std::strerror(errno));
    if (k == 0) {
      if (exact)
        return make_error(ErrorCode::io, "cannot read " + name + ": cut short");
      return {};
    }
    RH_TRY(sink.write(buf.data(), static_cast<size_t>(k)));
    pos += k;
    length -= static_cast<uint64_t>(k);
  }
  return {};
}

Result<BlobInfo> BlobStore::put_bytes(std::string_view data) {
  StringSource src(data);
  return put(src, {});
}

Result<BlobInfo> BlobStore::put_file(const std::string& path, std::string_view expected_digest) {
  FileSource src(path);
  if (src.open_error())
    return make_error(*src.open_error());
  return put(src, expected_digest);
}

Result<std::string> BlobStore::get_bytes(std::string_view digest) {
  StringSink sink;
  RH_TRY(get(digest, sink));
  return std::move(sink.data());
}

}  // namespace rh

namespace rh {

Status BlobStore::put_many(const std::vector<std::pair<std::string, std::string>>& items) {
  for (const auto& [digest, path] : items) {
    RH_TRY(put_file(path, digest));
  }
  return {};
}

Status BlobStore::put_checked(
    const std::vector<std::pair<std::string, std::string_view>>& objects) {
  for (const auto& [digest, bytes] : objects) {
    StringSource src(bytes);
    RH_TRY(put(src, digest));
  }
  return {};
}

Status BlobStore::get_many(
    const std::vector<std::string>& digests,
    const std::function<Status(const std::string&, std::string_view)>& each) {
  for (const auto& d : digests) {
    RH_TRY_ASSIGN(std::string data, get_bytes(d));
    RH_TRY(each(d, data));
  }
  return {};
}

Result<std::vector<std::string>> BlobStore::missing(const std::vector<std::string>& digests) {
  std::vector<std::string> out;
  for (const auto& d : digests) {
    auto st = stat(d);
    if (!st) {
      if (st.error().code != ErrorCode::not_found)
        return std::unexpected(st.error());
      out.push_back(d);
    }
  }
  return out;
}

}  // namespace rh
