#include "roundhouse/pipeline/dvc_hash.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "roundhouse/hash/md5.h"
#include "roundhouse/pipeline/hash_cache.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

// Python's json.dumps of a string (ensure_ascii): \uXXXX beyond ASCII.
std::string py_json_string(const std::string& s) {
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

}  // namespace

std::string dir_listing(const std::vector<HashedFile>& files) {
  std::string out = "[";
  for (size_t i = 0; i < files.size(); ++i) {
    out += (i ? ", " : "") + std::string("{\"md5\": \"") + files[i].md5 +
           "\", \"relpath\": " + py_json_string(files[i].relpath) + "}";
  }
  return out + "]";
}

Result<ContentHash> hash_with(const std::string& path_in, const DigestFile& digest_file) {
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
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    struct stat fst {};
    // Follows links to files; a link to a folder is not entered.
    if (::stat(it->path().c_str(), &fst) != 0 || !S_ISREG(fst.st_mode))
      continue;
    std::string p = it->path().string();
    RH_TRY_ASSIGN(FileDigests d, digest_file(p, fst));
    // The name below the folder (std::filesystem::relative resolves every
    // component on disk: far slower over many files).
    h.files.push_back(HashedFile{p.substr(path.size() + 1), d.md5, d.sha256, d.size});
    h.size += d.size;
  }
  if (ec)
    return make_error(ErrorCode::io, "cannot read " + path + ": " + ec.message());
  std::sort(h.files.begin(), h.files.end(),
            [](const HashedFile& a, const HashedFile& b) { return a.relpath < b.relpath; });
  h.nfiles = h.files.size();
  h.md5 = md5_hex(dir_listing(h.files)) + ".dir";
  return h;
}

Result<ContentHash> hash_path(const std::string& path, HashCache* cache, bool fresh) {
  return hash_with(path, [&](const std::string& p, const struct stat& st) {
    return digests_of(p, st, cache, fresh);
  });
}

}  // namespace rh::pipeline
