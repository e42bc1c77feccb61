#include "roundhouse/pipeline/lock.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "roundhouse/util/fs.h"

namespace rh::pipeline {

const StageLock* Lock::find(const std::string& name) const {
  for (const auto& s : stages)
    if (s.name == name)
      return &s;
  return nullptr;
}

void Lock::put(StageLock s) {
  for (auto& e : stages) {
    if (e.name == s.name) {
      e = std::move(s);
      return;
    }
  }
  stages.push_back(std::move(s));
}

std::string lock_path_for(const std::string& pipeline_file) {
  auto dot = pipeline_file.rfind(".yaml");
  return (dot == std::string::npos ? pipeline_file : pipeline_file.substr(0, dot)) + ".lock";
}

namespace {

std::unexpected<Error> bad(const std::string& path, const YAML::Node& n, const std::string& msg) {
  return make_error(ErrorCode::invalid_argument,
                    path + ":" + std::to_string(n.Mark().line + 1) + ": " + msg);
}

}  // namespace

LockedPath locked_path(const std::string& path, const ContentHash& h) {
  LockedPath lp{path, h.md5, h.size, std::nullopt, false};
  if (h.dir)
    lp.nfiles = h.nfiles;
  return lp;
}

Result<std::vector<LockedPath>> read_locked_paths(const std::string& file, const YAML::Node& list,
                                                  const std::string& where) {
  std::vector<LockedPath> out;
  if (!list)
    return out;
  if (!list.IsSequence())
    return bad(file, list, where + ": must be a list");
  for (const auto& e : list) {
    if (!e.IsMap() || !e["path"])
      return bad(file, e, where + ": each entry needs a path");
    LockedPath p;
    p.path = e["path"].as<std::string>();
    p.legacy = !e["hash"];
    if (e["md5"])
      p.md5 = e["md5"].as<std::string>();
    try {
      if (e["size"])
        p.size = e["size"].as<uint64_t>();
      if (e["nfiles"])
        p.nfiles = e["nfiles"].as<uint64_t>();
    } catch (const YAML::Exception&) {
      return bad(file, e, where + ": size and nfiles are numbers");
    }
    out.push_back(std::move(p));
  }
  return out;
}

YMap locked_path_entry(const LockedPath& p) {
  YMap m{{"path", p.path}};
  if (!p.legacy)
    m.emplace_back("hash", "md5");
  m.emplace_back("md5", p.md5);
  m.emplace_back("size", p.size);
  if (p.nfiles)
    m.emplace_back("nfiles", *p.nfiles);
  return m;
}

Result<Lock> read_lock(const std::string& path) {
  if (!path_exists(path))
    return Lock{};
  RH_TRY_ASSIGN(std::string text, read_file(path));
  return parse_lock(path, text);
}

Result<Lock> parse_lock(const std::string& path, const std::string& text) {
  Lock lock;
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::invalid_argument,
                      path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (doc.IsNull())
    return lock;
  if (!doc.IsMap())
    return bad(path, doc, "a lock file is a mapping");
  if (auto schema = doc["schema"]; schema && schema.as<std::string>() != "2.0")
    return bad(path, schema, "schema " + schema.as<std::string>() + " is not read (2.0 is)");
  auto stages = doc["stages"];
  if (!stages)
    return lock;
  if (!stages.IsMap())
    return bad(path, stages, "stages: must be a mapping");
  for (const auto& kv : stages) {
    StageLock s;
    s.name = kv.first.as<std::string>();
    const YAML::Node& e = kv.second;
    std::string where = "stages." + s.name;
    if (!e.IsMap())
      return bad(path, e, where + ": must be a mapping");
    if (e["cmd"])
      s.cmd = read_yaml_value(e["cmd"]);
    RH_TRY_ASSIGN(s.deps, read_locked_paths(path, e["deps"], where + ".deps"));
    RH_TRY_ASSIGN(s.outs, read_locked_paths(path, e["outs"], where + ".outs"));
    if (auto p = e["params"]) {
      YValue v = read_yaml_value(p);
      if (auto* m = std::get_if<YMap>(&v.v))
        s.params = *m;
    }
    lock.stages.push_back(std::move(s));
  }
  return lock;
}

std::string lock_text(const Lock& lock) {
  YMap stages;
  for (const auto& s : lock.stages) {
    YMap e{{"cmd", s.cmd}};
    auto sorted = [](std::vector<LockedPath> v) {
      std::stable_sort(v.begin(), v.end(),
                       [](const LockedPath& a, const LockedPath& b) { return a.path < b.path; });
      YSeq out;
      for (const auto& p : v)
        out.push_back(locked_path_entry(p));
      return out;
    };
    if (!s.deps.empty())
      e.emplace_back("deps", sorted(s.deps));
    if (!s.params.empty())
      e.emplace_back("params", s.params);
    if (!s.outs.empty())
      e.emplace_back("outs", sorted(s.outs));
    stages.emplace_back(s.name, std::move(e));
  }
  return write_yaml(YMap{{"schema", "2.0"}, {"stages", std::move(stages)}});
}

}  // namespace rh::pipeline
