#include "roundhouse/pipeline/tracked_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "roundhouse/util/fs.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

namespace {

std::unexpected<Error> bad(const std::string& file, const YAML::Node& n, const std::string& msg) {
  return make_error(ErrorCode::invalid_argument,
                    file + ":" + std::to_string(n.Mark().line + 1) + ": " + msg);
}

bool ends_tracked(const std::string& name) {
  return (name.size() > 4 && name.ends_with(".dvc")) || (name.size() > 3 && name.ends_with(".rh"));
}

Status walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  auto listed = sorted_names(dir);
  if (!listed)
    return {};  // unreadable folders are not the user's data files
  const std::vector<std::string>& names = *listed;
  for (const auto& n : names) {
    std::string child = rel.empty() ? n : rel + "/" + n;
    std::error_code ec;
    auto st = fs::symlink_status(root + "/" + child, ec);
    if (ec)
      continue;
    if (fs::is_directory(st)) {
      if (n == ".git" || n == ".dvc" || n == ".rh")
        continue;
      // A tracked folder holds data, not tracking files.
      if (std::binary_search(names.begin(), names.end(), n + ".dvc") ||
          std::binary_search(names.begin(), names.end(), n + ".rh"))
        continue;
      RH_TRY(walk(root, child, out));
    } else if (fs::is_regular_file(st) && ends_tracked(n)) {
      out.push_back(child);
    }
  }
  return {};
}

}  // namespace

std::string TrackedFile::rel(const LockedPath& o) const {
  std::string p = wdir == "." ? o.path : wdir + "/" + o.path;
  return fs::path(p).lexically_normal().generic_string();
}

Result<TrackedFile> parse_tracked_file(const std::string& file_rel, const std::string& text) {
  TrackedFile t;
  t.file = file_rel;
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::invalid_argument,
                      file_rel + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!doc.IsMap())
    return bad(file_rel, doc, "a tracked data file is a mapping with `outs:`");
  YValue whole = read_yaml_value(doc);
  if (auto* m = std::get_if<YMap>(&whole.v))
    t.doc = std::move(*m);
  std::string folder = fs::path(file_rel).parent_path().generic_string();
  if (folder.empty())
    folder = ".";
  t.wdir = folder;
  if (auto w = doc["wdir"]) {
    std::string wdir = w.as<std::string>();
    t.wdir = fs::path(folder + "/" + wdir).lexically_normal().generic_string();
    if (!t.wdir.empty() && t.wdir.back() == '/')
      t.wdir.pop_back();
    if (t.wdir.empty())
      t.wdir = ".";
    if (t.wdir.starts_with(".."))
      return bad(file_rel, w, "wdir leaves the repository");
  }
  if (doc["deps"])
    return bad(file_rel, doc["deps"],
               "imports (`deps:` of `dvc import`) are not read yet; track the data with rh add");
  auto outs = doc["outs"];
  if (!outs || !outs.IsSequence() || outs.size() == 0)
    return bad(file_rel, outs ? outs : doc, "`outs:` must list what the file tracks");
  RH_TRY_ASSIGN(t.outs, read_locked_paths(file_rel, outs, "outs"));
  for (size_t i = 0; i < outs.size(); ++i) {
    bool cached = true;
    if (auto c = outs[i]["cache"]) {
      try {
        cached = c.as<bool>();
      } catch (const YAML::Exception&) {
        return bad(file_rel, c, "outs: cache is true or false");
      }
    }
    t.cached.push_back(cached);
    std::string rel = t.rel(t.outs[i]);
    if (rel.starts_with("..") || t.outs[i].path.starts_with("/"))
      return bad(file_rel, outs[i], "outs: '" + t.outs[i].path + "' is outside the repository");
  }
  return t;
}

Result<TrackedFile> read_tracked_file(const std::string& root, const std::string& file_rel) {
  RH_TRY_ASSIGN(std::string text, read_file(root + "/" + file_rel));
  return parse_tracked_file(file_rel, text);
}

std::string tracked_file_text(TrackedFile& t, const LockedPath& lp) {
  auto* outs = [&]() -> YSeq* {
    for (auto& [k, v] : t.doc)
      if (k == "outs")
        return std::get_if<YSeq>(&v.v);
    return nullptr;
  }();
  if (!outs) {
    t.doc.emplace_back("outs", YSeq{});
    outs = std::get_if<YSeq>(&t.doc.back().second.v);
  }
  YMap* entry = nullptr;
  for (auto& o : *outs) {
    auto* m = std::get_if<YMap>(&o.v);
    if (!m)
      continue;
    for (auto& [k, v] : *m)
      if (k == "path" && v == YValue(lp.path))
        entry = m;
  }
  YMap fresh{{"md5", lp.md5}, {"size", lp.size}};
  if (lp.nfiles)
    fresh.emplace_back("nfiles", *lp.nfiles);
  fresh.emplace_back("hash", "md5");
  if (!entry) {
    fresh.emplace_back("path", lp.path);
    outs->push_back(fresh);
  } else {
    // The hash fields go first, in dvc add's order; the rest keeps its place.
    YMap kept;
    for (auto& kv : *entry)
      if (kv.first != "md5" && kv.first != "size" && kv.first != "nfiles" && kv.first != "hash")
        kept.push_back(kv);
    fresh.insert(fresh.end(), kept.begin(), kept.end());
    *entry = fresh;
  }
  for (size_t i = 0; i < t.outs.size(); ++i)
    if (t.outs[i].path == lp.path)
      t.outs[i] = lp;
  if (std::none_of(t.outs.begin(), t.outs.end(),
                   [&](const LockedPath& o) { return o.path == lp.path; })) {
    t.outs.push_back(lp);
    t.cached.push_back(true);
  }
  return write_yaml(t.doc);
}

Result<std::vector<std::string>> find_tracked_files(const std::string& root) {
  std::vector<std::string> out;
  RH_TRY(walk(root, "", out));
  return out;
}

}  // namespace rh::pipeline
