#include "roundhouse/pipeline/checkout.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "roundhouse/pipeline/hash_cache.h"
#include "roundhouse/util/fs.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

bool safe_relpath(const std::string& rel) {
  if (rel.empty() || rel[0] == '/')
    return false;
  for (const auto& part : fs::path(rel))
    if (part == ".." || part == ".")
      return false;
  return true;
}

// A writable copy: a clone of the object's blocks where the file system
// shares them (btrfs, XFS), else its bytes.
Status copy_object(const std::string& obj, const std::string& dst) {
  int in = ::open(obj.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return make_error(ErrorCode::io, "cannot read " + obj + ": " + std::strerror(errno));
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    int e = errno;
    ::close(in);
    return make_error(ErrorCode::io, "cannot write " + dst + ": " + std::strerror(e));
  }
  bool cloned = ::ioctl(out, FICLONE, in) == 0;
  ::close(out);
  ::close(in);
  if (cloned)
    return {};
  std::error_code ec;
  fs::copy_file(obj, dst, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return make_error(ErrorCode::io, "cannot copy to " + dst + ": " + ec.message());
  ::chmod(dst.c_str(), 0644);  // the copy took the object's read-only mode
  return {};
}

// A read-only hard link to the object, else a writable copy. Not a link
// for root, whom the read-only mode does not stop: writing into the link
// would change the cached object.
Status place(const std::string& obj, const std::string& dst, bool copy) {
  RH_TRY(make_dirs(dirname_of(dst)));
  if (!copy && ::geteuid() != 0) {
    if (::link(obj.c_str(), dst.c_str()) == 0)
      return {};
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
      return make_error(ErrorCode::io, "cannot link " + dst + ": " + std::strerror(errno));
  }
  return copy_object(obj, dst);
}

}  // namespace

Result<std::vector<ListedFile>> read_listing(const std::string& cache_root,
                                             const std::string& dir_md5) {
  std::string obj = object_path(cache_root, dir_md5);
  if (!path_exists(obj))
    return make_error(ErrorCode::not_found, "the cache lacks " + dir_md5);
  RH_TRY_ASSIGN(std::string text, read_file(obj));
  auto j = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::corrupt, "cached listing " + obj + ": " + why);
  };
  if (!j.is_array())
    return bad("not a JSON list");
  std::vector<ListedFile> out;
  for (const auto& f : j) {
    if (!f.is_object() || !f.contains("md5") || !f["md5"].is_string() || !f.contains("relpath") ||
        !f["relpath"].is_string())
      return bad("an entry without md5 and relpath");
    ListedFile lf{f["relpath"].get<std::string>(), f["md5"].get<std::string>()};
    if (!safe_relpath(lf.relpath))
      return bad("unsafe path '" + lf.relpath + "'");
    if (lf.md5.size() != 32)
      return bad("bad md5 '" + lf.md5 + "'");
    out.push_back(std::move(lf));
  }
  return out;
}

Result<std::vector<std::string>> needed_objects(const std::string& cache_root,
                                                const LockedPath& lp) {
  std::vector<std::string> out{lp.md5};
  if (!lp.md5.ends_with(".dir"))
    return out;
  auto listing = read_listing(cache_root, lp.md5);
  if (!listing) {
    if (listing.error().code == ErrorCode::not_found)
      return out;
    return std::unexpected(listing.error());
  }
  std::set<std::string> seen;
  for (const auto& f : *listing)
    if (seen.insert(f.md5).second)
      out.push_back(f.md5);
  return out;
}

bool in_cache(const std::string& cache_root, const LockedPath& lp) {
  if (lp.legacy || lp.md5.size() < 32)
    return false;
  auto objects = needed_objects(cache_root, lp);
  if (!objects)
    return false;
  for (const auto& md5 : *objects)
    if (!path_exists(object_path(cache_root, md5)))
      return false;
  return true;
}

Result<CheckoutChange> checkout_entry(const std::string& cache_root, const LockedPath& lp,
                                      const std::string& dst, HashCache* hashes, bool copy) {
  if (lp.legacy)
    return make_error(ErrorCode::invalid_argument,
                      lp.path +
                          ": recorded by DVC 2 (no `hash: md5`); its cache layout is not "
                          "read: run `dvc checkout` or reproduce the stage");
  if (lp.md5.size() < 32)
    return make_error(ErrorCode::invalid_argument, lp.path + ": no content hash recorded");
  bool existed = path_exists(dst);
  if (existed) {
    auto now = hash_path(dst, hashes);
    if (now && now->md5 == lp.md5)
      return CheckoutChange::unchanged;
  }
  auto missing = [&](const std::string& md5) {
    return make_error(ErrorCode::not_found,
                      lp.path + ": the cache lacks its content (" + md5 + "); pull it first");
  };
  bool dir = lp.md5.ends_with(".dir");
  if (!dir) {
    std::string obj = object_path(cache_root, lp.md5);
    if (!path_exists(obj))
      return missing(lp.md5);
    if (existed)
      RH_TRY(remove_all(dst));
    RH_TRY(place(obj, dst, copy));
    return existed ? CheckoutChange::modified : CheckoutChange::added;
  }
  auto listing = read_listing(cache_root, lp.md5);
  if (!listing) {
    if (listing.error().code == ErrorCode::not_found)
      return missing(lp.md5);
    return std::unexpected(listing.error());
  }
  for (const auto& f : *listing)
    if (!path_exists(object_path(cache_root, f.md5)))
      return missing(f.md5);
  if (existed)
    RH_TRY(remove_all(dst));
  RH_TRY(make_dirs(dst));
  for (const auto& f : *listing)
    RH_TRY(place(object_path(cache_root, f.md5), dst + "/" + f.relpath, copy));
  return existed ? CheckoutChange::modified : CheckoutChange::added;
}

}  // namespace rh::pipeline
