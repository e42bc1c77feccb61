#include "roundhouse/pipeline/get.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "roundhouse/env/process.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/data_entries.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/pipeline/sync.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

// A temporary folder removed when it goes.
struct TempFolder {
  std::string path;
  TempFolder() {
    std::string pattern = (fs::temp_directory_path() / "rh-get-XXXXXX").string();
    if (::mkdtemp(pattern.data()))
      path = pattern;
  }
  ~TempFolder() {
    if (!path.empty())
      (void)remove_all(path);
  }
};

Result<std::string> git(const std::string& gitdir, const std::vector<std::string>& args,
                        bool must = true) {
  std::vector<std::string> argv{"git", "-C", gitdir};
  argv.insert(argv.end(), args.begin(), args.end());
  RH_TRY_ASSIGN(auto r, run_capture(argv, "", 300000));
  if (r.exit_code != 0)
    return make_error(must ? ErrorCode::invalid_argument : ErrorCode::not_found,
                      "git " + join(args, " ") + " failed in " + gitdir);
  return r.out;
}

// Writes what git holds at rev:path (a blob or a tree) under dst.
Status from_git(const std::string& gitdir, const std::string& rev, const std::string& path,
                const std::string& dst, uint64_t& files) {
  RH_TRY_ASSIGN(std::string type, git(gitdir, {"cat-file", "-t", rev + ":" + path}));
  auto write_blob = [&](const std::string& object, const std::string& mode,
                        const std::string& to) -> Status {
    RH_TRY(make_dirs(dirname_of(to)));
    RH_TRY_ASSIGN(std::string bytes, git(gitdir, {"cat-file", "blob", object}));
    ++files;
    if (mode == "120000") {
      if (::symlink(bytes.c_str(), to.c_str()) != 0)
        return make_error(ErrorCode::io, "cannot make the link " + to);
      return {};
    }
    RH_TRY(write_file_atomic(to, bytes));
    ::chmod(to.c_str(), mode == "100755" ? 0755 : 0644);
    return {};
  };
  if (chomp(type) == "blob") {
    RH_TRY_ASSIGN(std::string entry, git(gitdir, {"ls-tree", "-z", rev, "--", path}));
    std::string mode = entry.substr(0, entry.find(' '));
    return write_blob(rev + ":" + path, mode, dst);
  }
  RH_TRY(make_dirs(dst));
  RH_TRY_ASSIGN(std::string listing, git(gitdir, {"ls-tree", "-r", "-z", rev, "--", path + "/"}));
  for (const auto& line : split(listing, '\0')) {
    if (line.empty())
      continue;
    // "<mode> <type> <object>\t<path>"
    auto tab = line.find('\t');
    auto parts = split(line.substr(0, tab), ' ');
    if (parts.size() != 3 || tab == std::string::npos || parts[1] != "blob")
      continue;  // submodules are not fetched
    std::string rel = line.substr(tab + 1).substr(path.size() + 1);
    RH_TRY(write_blob(parts[2], parts[0], dst + "/" + rel));
  }
  return {};
}

}  // namespace

Result<GetResult> get_from_repo(const GetRequest& r, const OpenRemote& open_remote) {
  GetResult res;
  std::string path = fs::path(r.path).lexically_normal().generic_string();
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  if (path.empty() || path == "." || path.starts_with("..") || path.starts_with("/"))
    return make_error(ErrorCode::invalid_argument,
                      "path '" + r.path + "': give a path inside the repository, from its top");
  res.out = r.out.empty() ? fs::path(path).filename().string() : r.out;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(res.out, ec)) && !r.force)
    return make_error(ErrorCode::already_exists,
                      "'" + res.out + "' exists; use --force to replace it");
  TempFolder tmp;
  if (tmp.path.empty())
    return make_error(ErrorCode::io, "cannot make a temporary folder");
  // A local repository is read where it is; a URL is cloned (bare) first.
  bool local = fs::is_directory(r.repo, ec);
  std::string gitdir =
      local ? fs::absolute(r.repo).lexically_normal().string() : tmp.path + "/repo.git";
  if (!local) {
    auto clone = run_capture({"git", "clone", "-q", "--bare", r.repo, gitdir}, "", 600000);
    if (!clone || clone->exit_code != 0)
      return make_error(ErrorCode::not_found, "cannot clone " + r.repo);
  }
  std::string rev = r.rev.empty() ? "HEAD" : r.rev;
  RH_TRY_ASSIGN(std::string commit,
                git(gitdir, {"rev-parse", "-q", "--verify", rev + "^{commit}"}));
  (void)commit;
  std::string top = gitdir;  // where relative remote folders are resolved
  if (local) {
    if (auto t = git(gitdir, {"rev-parse", "--show-toplevel"}, false))
      top = std::string(chomp(*t));
  }
  RepoLayout layout{gitdir, false};
  std::string lock_rel;
  for (const char* l : {"rh.lock", "dvc.lock"})
    if (lock_rel.empty() && git(gitdir, {"cat-file", "-e", rev + ":" + l}, false))
      lock_rel = l;
  RH_TRY_ASSIGN(auto entries, revision_data(layout, lock_rel, rev));
  const DataEntry* hit = nullptr;
  for (const auto& e : entries)
    if (e.rel == path || (e.lp.md5.ends_with(".dir") && path.starts_with(e.rel + "/")))
      hit = &e;
  std::string staging = res.out + ".rh-get-" + std::to_string(::getpid());
  (void)remove_all(staging);
  if (!hit) {
    if (!git(gitdir, {"cat-file", "-e", rev + ":" + path}, false))
      return make_error(
          ErrorCode::not_found,
          "'" + path + "' is neither in git nor in the data of " + r.repo + " at " + rev);
    res.from_git = true;
    auto st = from_git(gitdir, rev, path, staging, res.files);
    if (!st) {
      (void)remove_all(staging);
      return std::unexpected(st.error());
    }
  } else {
    std::string cache = tmp.path + "/cache";
    std::vector<DataEntry> want{*hit};
    // The repository's own cache first, when it is here and has one.
    if (local) {
      for (const std::string& c : {repo_layout(top).cache(), top + "/.rh/cache"})
        if (path_exists(c)) {
          auto own = folder_remote(c);
          RH_TRY_ASSIGN(auto got, fetch_entries(want, cache, *own, {}));
          res.bytes_fetched += got.bytes;
        }
    }
    if (!in_cache(cache, hit->lp)) {
      RH_TRY_ASSIGN(RemoteConfig cfg,
                    remote_config_from(top, [&](const std::string& file) -> Result<std::string> {
                      auto text = git(gitdir, {"show", rev + ":" + file}, false);
                      return text ? *text : std::string();
                    }));
      RH_TRY_ASSIGN(RemoteSpec spec, cfg.pick(r.remote));
      RH_TRY_ASSIGN(auto remote, open_remote(spec));
      RH_TRY_ASSIGN(auto got, fetch_entries(want, cache, *remote, {}));
      res.bytes_fetched += got.bytes;
      if (!got.unavailable.empty())
        return make_error(ErrorCode::not_found, "'" + hit->rel + "': remote '" + spec.name + "' (" +
                                                    spec.url + ") lacks its content");
    }
    Status st = [&]() -> Status {
      if (path == hit->rel) {
        RH_TRY(checkout_entry(cache, hit->lp, fs::absolute(staging).string(), nullptr, true));
        res.files = hit->lp.nfiles.value_or(1);
        return {};
      }
      // A part of a tracked folder: the listing's files under it.
      RH_TRY_ASSIGN(auto listing, read_listing(cache, hit->lp.md5));
      std::string inner = path.substr(hit->rel.size() + 1);
      for (const auto& f : listing) {
        if (f.relpath == inner) {
          RH_TRY(checkout_entry(cache, LockedPath{path, f.md5, 0, std::nullopt, false},
                                fs::absolute(staging).string(), nullptr, true));
          ++res.files;
        } else if (f.relpath.starts_with(inner + "/")) {
          RH_TRY(checkout_entry(
              cache, LockedPath{path, f.md5, 0, std::nullopt, false},
              fs::absolute(staging).string() + "/" + f.relpath.substr(inner.size() + 1), nullptr,
              true));
          ++res.files;
        }
      }
      if (res.files == 0)
        return make_error(ErrorCode::not_found,
                          "'" + path + "' is not in '" + hit->rel + "' at " + rev);
      return {};
    }();
    if (!st) {
      (void)remove_all(staging);
      return std::unexpected(st.error());
    }
  }
  if (fs::exists(fs::symlink_status(res.out, ec)))
    RH_TRY(remove_all(res.out));
  fs::rename(staging, res.out, ec);
  if (ec) {
    (void)remove_all(staging);
    return make_error(ErrorCode::io, "cannot move the result to " + res.out + ": " + ec.message());
  }
  return res;
}

}  // namespace rh::pipeline
