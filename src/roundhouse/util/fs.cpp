#include "roundhouse/util/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

namespace rh {

namespace {

Error os_error(const std::string& what, const std::string& path) {
  return Error{errno == ENOENT ? ErrorCode::not_found : ErrorCode::io,
               what + " " + path + ": " + std::strerror(errno)};
}

}  // namespace

std::string dirname_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  if (pos == std::string::npos)
    return ".";
  if (pos == 0)
    return "/";
  return path.substr(0, pos);
}

std::string basename_of(const std::string& path) {
  auto pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

Result<AtomicFile> AtomicFile::create(const std::string& target, const std::string& tmp_dir) {
  std::string dir = tmp_dir.empty() ? dirname_of(target) : tmp_dir;
  thread_local std::mt19937_64 gen{std::random_device{}()};
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string tmp = dir + "/.tmp-" + std::to_string(gen() % 100000000000ULL);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0)
      return AtomicFile(target, tmp, fd);
    if (errno != EEXIST)
      return std::unexpected(os_error("cannot create", tmp));
  }
  return make_error(ErrorCode::io, "cannot create a temporary file in " + dir);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : m_target(std::move(other.m_target)),
      m_tmp(std::move(other.m_tmp)),
      m_fd(other.m_fd),
      m_done(other.m_done) {
  other.m_fd = -1;
  other.m_done = true;
}

AtomicFile::~AtomicFile() {
  if (m_fd >= 0)
    ::close(m_fd);
  if (!m_done)
    ::unlink(m_tmp.c_str());
}

bool write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return false;
    if (k == 0) {  // nothing written and no error: do not spin
      errno = EIO;
      return false;
    }
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

ssize_t read_full(int fd, void* buf, size_t n) {
  char* p = static_cast<char*>(buf);
  size_t got = 0;
  while (got < n) {
    ssize_t k = ::read(fd, p + got, n - got);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -1;
    if (k == 0)
      break;
    got += static_cast<size_t>(k);
  }
  return static_cast<ssize_t>(got);
}

int open_unnamed_file(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  std::string name = dir + "/.scratch-XXXXXX";
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0)
    ::unlink(name.c_str());
  return fd;
}

Status AtomicFile::write(const char* data, size_t n) {
  if (!write_all(m_fd, data, n))
    return std::unexpected(os_error("cannot write", m_tmp));
  return {};
}

Status AtomicFile::commit_to(const std::string& target, bool keep_existing, bool sync) {
  if (sync && ::fsync(m_fd) != 0)
    return std::unexpected(os_error("cannot fsync", m_tmp));
  ::close(m_fd);
  m_fd = -1;
  if (keep_existing) {
    // link() fails with EEXIST instead of replacing: the first complete copy wins.
    if (::link(m_tmp.c_str(), target.c_str()) != 0 && errno != EEXIST) {
      return std::unexpected(os_error("cannot link into place", target));
    }
    ::unlink(m_tmp.c_str());
  } else if (::rename(m_tmp.c_str(), target.c_str()) != 0) {
    return std::unexpected(os_error("cannot rename into place", target));
  }
  m_done = true;
  return sync ? fsync_dir(dirname_of(target)) : Status{};
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return std::unexpected(os_error("cannot open directory", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    return std::unexpected(os_error("cannot fsync directory", dir));
  return {};
}

Status sync_file_system(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::unexpected(os_error("cannot open", path));
  int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0)
    return std::unexpected(os_error("cannot sync the file system of", path));
  return {};
}

Result<std::vector<std::string>> sorted_names(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return std::unexpected(os_error("cannot read the folder", dir));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..")
      names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Status make_dirs(const std::string& path) {
  if (path.empty())
    return {};
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return {};
    return make_error(ErrorCode::io, path + " exists and is not a directory");
  }
  std::string parent = dirname_of(path);
  if (parent != path)
    RH_TRY(make_dirs(parent));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return std::unexpected(os_error("cannot create directory", path));
  }
  return {};
}

Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::unexpected(os_error("cannot open", path));
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t k = ::read(fd, buf, sizeof buf);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      auto e = os_error("cannot read", path);
      ::close(fd);
      return std::unexpected(e);
    }
    if (k == 0)
      break;
    out.append(buf, static_cast<size_t>(k));
  }
  ::close(fd);
  return out;
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  RH_TRY_ASSIGN(auto f, AtomicFile::create(path));
  RH_TRY(f.write(data.data(), data.size()));
  return f.commit();
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h)
    return h;
  if (struct passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir)
    return pw->pw_dir;
  return "/tmp";
}

}  // namespace rh

namespace rh {

Status remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec)
    return make_error(ErrorCode::io, "cannot remove " + path + ": " + ec.message());
  return {};
}

Status rename_path(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return make_error(ErrorCode::io,
                      "cannot rename " + from + " to " + to + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace rh
