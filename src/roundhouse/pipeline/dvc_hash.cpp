#include "roundhouse/pipeline/dvc_hash.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

#include "roundhouse/hash/md5.h"
#include "roundhouse/pipeline/hash_cache.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

// Python's json.dumps of a string (ensure_ascii): \uXXXX beyond ASCII.
std::string py_json_string(const std::string& s) {
  // Most names are printable ASCII with nothing to escape: as they are.
  bool plain = true;
  for (unsigned char c : s)
    plain = plain && c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
  if (plain)
    return "\"" + s + "\"";
  std::string out = "\"";
  // A byte that is not UTF-8 comes as a lone surrogate (Python reads file
  // names with surrogateescape), so json.dumps writes it as \udcXX.
  for (char32_t cp : utf8_code_points(s)) {
    char buf[16];
    if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\b') {
      out += "\\b";
    } else if (cp == '\f') {
      out += "\\f";
    } else if (cp < 0x20 || (cp >= 0x7F && cp < 0x10000)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    } else if (cp >= 0x10000) {
      uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      out += buf;
    } else {
      out += char(cp);
    }
  }
  return out + "\"";
}

// Calls fn(rel, st) for every regular file below the folder open as `fd`
// (`rel`: its path below the top, '/'-separated; `st` of the file a link
// points to: links to files are followed, links to folders not entered).
// Names are looked up relative to their folder's descriptor, not resolved
// from the top again for every file.
Status walk_files(int fd, const std::string& prefix, const std::string& shown,
                  const std::function<Status(const std::string&, const struct stat&)>& fn) {
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return make_error(ErrorCode::io, "cannot read " + shown + ": " + std::strerror(errno));
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, ::closedir);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..")
      continue;
    bool dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat lst {};
      if (::fstatat(::dirfd(d), e->d_name, &lst, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      dir = S_ISDIR(lst.st_mode);
    }
    if (dir) {
      int sub = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0)
        return make_error(ErrorCode::io,
                          "cannot read " + shown + "/" + name + ": " + std::strerror(errno));
      RH_TRY(walk_files(sub, prefix + name + "/", shown + "/" + name, fn));
      continue;
    }
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
      continue;
    RH_TRY(fn(prefix + name, st));
  }
  return {};
}

}  // namespace

std::string dir_listing(const std::vector<HashedFile>& files) {
  std::string out = "[";
  out.reserve(files.size() * 80);
  for (size_t i = 0; i < files.size(); ++i) {
    out += (i ? ", " : "") + std::string("{\"md5\": \"") + files[i].md5 +
           "\", \"relpath\": " + py_json_string(files[i].relpath) + "}";
  }
  return out + "]";
}

Result<ContentHash> hash_with(const std::string& path_in, const DigestFile& digest_file,
                              HashCache* known) {
  std::string path = path_in;
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return make_error(ErrorCode::not_found, path + " does not exist");
  ContentHash h;
  if (!S_ISDIR(st.st_mode)) {
    RH_TRY_ASSIGN(FileDigests d, digest_file(path, st));
    h.md5 = d.md5;
    h.size = d.size;
    h.files.push_back(HashedFile{"", d.md5, d.sha256, d.size});
    return h;
  }
  h.dir = true;
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorCode::io, "cannot read " + path + ": " + std::strerror(errno));
  RH_TRY(walk_files(fd, "", path, [&](const std::string& rel, const struct stat& fst) -> Status {
    std::optional<FileDigests> hit = known ? known->lookup(fst) : std::nullopt;
    if (!hit) {
      RH_TRY_ASSIGN(hit, digest_file(path + "/" + rel, fst));
    }
    FileDigests& d = *hit;
    h.size += d.size;
    h.files.push_back(HashedFile{rel, std::move(d.md5), std::move(d.sha256), d.size});
    return {};
  }));
  std::sort(h.files.begin(), h.files.end(),
            [](const HashedFile& a, const HashedFile& b) { return a.relpath < b.relpath; });
  h.nfiles = h.files.size();
  h.md5 = md5_hex(dir_listing(h.files)) + ".dir";
  return h;
}

Result<ContentHash> hash_path(const std::string& path, HashCache* cache, bool fresh) {
  return hash_with(
      path,
      [&](const std::string& p, const struct stat& st) { return digests_of(p, st, cache, fresh); },
      cache);
}

}  // namespace rh::pipeline
