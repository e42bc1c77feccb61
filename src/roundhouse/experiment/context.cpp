#include "roundhouse/experiment/context.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "roundhouse/experiment/ignore.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::experiment {

namespace {

Error os_error(const std::string& what, const std::string& path) {
  return Error{ErrorCode::io, what + " " + path + ": " + std::strerror(errno)};
}

Status walk(const std::string& root, const std::string& rel, const IgnoreRules& rules,
            std::vector<ContextFile>& out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  auto names = sorted_names(dir);
  if (!names)
    return make_error(names.error().code, "the context: " + names.error().message);
  for (const auto& n : *names) {
    std::string path = rel.empty() ? n : rel + "/" + n;
    std::string full = root + "/" + path;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0)
      return std::unexpected(os_error("cannot read", full));
    bool is_dir = S_ISDIR(st.st_mode);
    if (rules.ignored(path, is_dir))
      continue;
    if (is_dir) {
      RH_TRY(walk(root, path, rules, out));
    } else if (S_ISREG(st.st_mode)) {
      out.push_back(
          ContextFile{path, uint64_t(st.st_size), uint32_t(st.st_mode & 07777), false, {}});
    } else if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX];
      ssize_t n_read = ::readlink(full.c_str(), buf, sizeof buf);
      if (n_read < 0)
        return std::unexpected(os_error("cannot read the link", full));
      out.push_back(ContextFile{path, 0, 0777, true, std::string(buf, size_t(n_read))});
    }
  }
  return {};
}

std::string mib(uint64_t b) {
  return format_bytes(b);
}

struct WriteArchive {
  archive* a = archive_write_new();
  ~WriteArchive() { archive_write_free(a); }
  Error err(const std::string& what) const {
    return Error{ErrorCode::io,
                 what + ": " + (archive_error_string(a) ? archive_error_string(a) : "")};
  }
};

struct ReadArchive {
  archive* a = archive_read_new();
  ~ReadArchive() { archive_read_free(a); }
};

struct Entry {
  archive_entry* e = archive_entry_new();
  ~Entry() { archive_entry_free(e); }
};

// A path from an archive that stays inside: relative, no "..", no empty parts.
bool safe_relative(const std::string& p) {
  if (p.empty() || p[0] == '/')
    return false;
  for (const auto& part : split(p, '/')) {
    if (part == "..")
      return false;
  }
  return true;
}

// A symlink at `path` pointing at `target` stays inside the root. Climbing
// (`..`) is allowed only before the first named part, so the climb is
// through real folders (see parents_are_plain) and means what it says.
bool link_stays_inside(const std::string& path, const std::string& target) {
  if (target.empty() || target[0] == '/')
    return false;
  std::vector<std::string> at = split(path, '/');
  at.pop_back();  // the link's own folder
  bool named = false;
  for (const auto& part : split(target, '/')) {
    if (part.empty() || part == ".")
      continue;
    if (part == "..") {
      if (named || at.empty())
        return false;
      at.pop_back();
    } else {
      named = true;
      at.push_back(part);
    }
  }
  return true;
}

// No folder on the way to `name` under dest is a symlink: nothing is
// written through a link.
bool parents_are_plain(const std::string& dest, const std::string& name) {
  std::string p = dest;
  auto parts = split(name, '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    p += "/" + parts[i];
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
      return false;
  }
  return true;
}

}  // namespace

Result<std::vector<ContextFile>> list_context(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(ErrorCode::invalid_argument, "the context " + dir + " is not a folder");
  IgnoreRules rules;
  for (const char* name : {".rhignore", ".detignore"}) {
    std::string p = dir + "/" + name;
    if (path_exists(p)) {
      RH_TRY_ASSIGN(std::string text, read_file(p));
      rules.add(text);
    }
  }
  std::vector<ContextFile> out;
  RH_TRY(walk(dir, "", rules, out));
  return out;
}

Result<PackResult> pack_context(const std::string& dir, const std::string& out_path,
                                uint64_t max_bytes) {
  PackResult r;
  RH_TRY_ASSIGN(r.files, list_context(dir));
  for (const auto& f : r.files) {
    r.bytes += f.size;
    if (f.symlink && !link_stays_inside(f.path, f.target)) {
      return make_error(ErrorCode::invalid_argument,
                        "the context's link " + f.path + " -> " + f.target +
                            " leaves the context folder (or climbs after a name); a trial could "
                            "not use it: copy what it points at into the context, or leave it out "
                            "with .rhignore");
    }
  }
  if (r.bytes > max_bytes) {
    std::vector<const ContextFile*> big;
    for (const auto& f : r.files)
      big.push_back(&f);
    std::sort(big.begin(), big.end(), [](auto* a, auto* b) { return a->size > b->size; });
    std::string largest;
    for (size_t i = 0; i < big.size() && i < 5; ++i)
      largest += (i ? ", " : "") + big[i]->path + " (" + mib(big[i]->size) + ")";
    return make_error(ErrorCode::invalid_argument,
                      "the context " + dir + " holds " + mib(r.bytes) + ", over the limit of " +
                          mib(max_bytes) + "; the largest files: " + largest +
                          ". Leave them out with .rhignore, or raise the limit");
  }
  WriteArchive w;
  // Names as the bytes they are on disk (UTF-8 in practice), whatever the
  // locale: a C locale could not convert a non-ASCII name.
  if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
      archive_write_set_format_option(w.a, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK ||
      archive_write_add_filter_zstd(w.a) != ARCHIVE_OK)
    return std::unexpected(w.err("cannot set up the context archive"));
  std::string tmp = out_path + ".partial";
  if (archive_write_open_filename(w.a, tmp.c_str()) != ARCHIVE_OK)
    return std::unexpected(w.err("cannot write " + tmp));
  std::vector<char> buf(1 << 16);
  for (const auto& f : r.files) {
    Entry e;
    archive_entry_set_pathname(e.e, f.path.c_str());
    archive_entry_set_mtime(e.e, 0, 0);
    if (f.symlink) {
      archive_entry_set_filetype(e.e, AE_IFLNK);
      archive_entry_set_perm(e.e, 0777);
      archive_entry_set_symlink(e.e, f.target.c_str());
      archive_entry_set_size(e.e, 0);
    } else {
      archive_entry_set_filetype(e.e, AE_IFREG);
      archive_entry_set_perm(e.e, f.mode & 0777);
      archive_entry_set_size(e.e, int64_t(f.size));
    }
    if (archive_write_header(w.a, e.e) != ARCHIVE_OK)
      return std::unexpected(w.err("cannot pack " + f.path));
    if (f.symlink)
      continue;
    std::string full = dir + "/" + f.path;
    int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return std::unexpected(os_error("cannot read", full));
    uint64_t left = f.size;
    while (left > 0) {
      ssize_t n = ::read(fd, buf.data(), std::min<uint64_t>(buf.size(), left));
      if (n <= 0) {
        ::close(fd);
        return make_error(ErrorCode::io, full + " changed while it was packed; try again");
      }
      if (archive_write_data(w.a, buf.data(), size_t(n)) != n) {
        ::close(fd);
        return std::unexpected(w.err("cannot pack " + f.path));
      }
      left -= uint64_t(n);
    }
    ::close(fd);
  }
  if (archive_write_close(w.a) != ARCHIVE_OK)
    return std::unexpected(w.err("cannot finish " + tmp));
  RH_TRY(rename_path(tmp, out_path));
  return r;
}

Status unpack_context(const std::string& archive_path, const std::string& dest) {
  if (path_exists(dest))
    return make_error(ErrorCode::already_exists,
                      "cannot unpack the context into " + dest + ": it exists");
  ReadArchive rd;
  archive_read_support_format_tar(rd.a);
  archive_read_support_filter_zstd(rd.a);
  if (archive_read_open_filename(rd.a, archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
    return make_error(ErrorCode::corrupt, "cannot read the context archive " + archive_path + ": " +
                                              archive_error_string(rd.a));
  RH_TRY(make_dirs(dest));
  auto fail = [&](Error e) -> Status {
    (void)remove_all(dest);
    return std::unexpected(std::move(e));
  };
  archive_entry* e = nullptr;
  std::vector<char> buf(1 << 16);
  while (true) {
    int rc = archive_read_next_header(rd.a, &e);
    if (rc == ARCHIVE_EOF)
      break;
    if (rc != ARCHIVE_OK)
      return fail(Error{ErrorCode::corrupt, std::string("the context archive is damaged: ") +
                                                archive_error_string(rd.a)});
    const char* name_c = archive_entry_pathname(e);
    std::string name = name_c ? name_c : "";
    while (name.starts_with("./"))
      name.erase(0, 2);
    if (!safe_relative(name))
      return fail(Error{ErrorCode::corrupt, "the context archive's entry \"" + name +
                                                "\" points outside the folder; refused"});
    if (!parents_are_plain(dest, name))
      return fail(Error{ErrorCode::corrupt, "the context archive's entry \"" + name +
                                                "\" goes through a link; refused"});
    std::string full = dest + "/" + name;
    auto type = archive_entry_filetype(e);
    if (auto slash = full.rfind('/'); slash != std::string::npos) {
      if (auto st = make_dirs(full.substr(0, slash)); !st)
        return fail(st.error());
    }
    if (type == AE_IFDIR) {
      if (auto st = make_dirs(full); !st)
        return fail(st.error());
    } else if (type == AE_IFLNK) {
      const char* t = archive_entry_symlink(e);
      std::string target = t ? t : "";
      if (!link_stays_inside(name, target))
        return fail(Error{ErrorCode::corrupt, "the context archive's link \"" + name + "\" -> \"" +
                                                  target + "\" leaves the folder; refused"});
      if (::symlink(target.c_str(), full.c_str()) != 0)
        return fail(os_error("cannot create the link", full));
    } else if (type == AE_IFREG) {
      int fd = ::open(full.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                      archive_entry_perm(e) & 0777);
      if (fd < 0)
        return fail(os_error("cannot write", full));
      while (true) {
        la_ssize_t n = archive_read_data(rd.a, buf.data(), buf.size());
        if (n < 0) {
          ::close(fd);
          return fail(Error{ErrorCode::corrupt, "the context archive is damaged at " + name});
        }
        if (n == 0)
          break;
        if (!write_all(fd, buf.data(), size_t(n))) {
          ::close(fd);
          return fail(os_error("cannot write", full));
        }
      }
      ::close(fd);
    } else {
      return fail(Error{ErrorCode::corrupt, "the context archive's entry \"" + name +
                                                "\" is not a file, folder or link; refused"});
    }
  }
  return {};
}

}  // namespace rh::experiment
