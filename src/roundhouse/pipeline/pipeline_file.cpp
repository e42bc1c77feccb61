#include "roundhouse/pipeline/pipeline_file.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "roundhouse/pipeline/interpolate.h"
#include "roundhouse/pipeline/params.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/yaml_json.h"

namespace fs = std::filesystem;

namespace rh::pipeline {

std::string normal_path(const std::string& p) {
  if (p.empty())
    return ".";
  std::string n = fs::path(p).lexically_normal().generic_string();
  while (n.size() > 1 && n.back() == '/')
    n.pop_back();
  return n.empty() ? "." : n;
}

namespace {

std::string join_path(const std::string& dir, const std::string& p) {
  if (!p.empty() && p[0] == '/')
    return normal_path(p);
  return normal_path(dir == "." || dir.empty() ? p : dir + "/" + p);
}

const std::set<std::string> k_stage_keys = {"cmd",     "wdir",  "deps",   "params",         "outs",
                                            "metrics", "plots", "frozen", "always_changed", "desc",
                                            "meta",    "vars"};
const std::set<std::string> k_top_keys = {"stages", "vars",      "params",  "metrics",
                                          "plots",  "artifacts", "datasets"};

class Loader {
 public:
  Loader(std::string root, std::string file) : m_root(std::move(root)), m_file(std::move(file)) {
    m_dir = normal_path(fs::path(m_file).parent_path().generic_string());
  }

  Result<PipelineFile> load() {
    PipelineFile out;
    out.path = normal_path(m_file);
    out.dvc = fs::path(m_file).filename() == "dvc.yaml";
    RH_TRY_ASSIGN(std::string text, read_file(abs(m_file)));
    YAML::Node doc;
    try {
      doc = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return fail(e.mark.line + 1, "", e.msg);
    }
    if (doc.IsNull())
      return out;
    if (!doc.IsMap())
      return fail(doc, "", "the file must be a mapping with `stages:`");
    for (const auto& kv : doc) {
      std::string k = kv.first.as<std::string>();
      if (!k_top_keys.count(k))
        return fail(kv.first, k, "unknown key (known: stages, vars, params, metrics, plots)");
    }
    // Variables: params.yaml beside the file when there is one, then `vars`.
    m_vars = Json::object();
    if (path_exists(abs(join_path(m_dir, "params.yaml")))) {
      RH_TRY(merge_file(doc, "params.yaml", m_dir, m_vars));
    }
    if (auto v = doc["vars"])
      RH_TRY(load_vars(v, "vars", m_dir, m_vars));
    if (auto stages = doc["stages"]) {
      if (!stages.IsMap())
        return fail(stages, "stages", "must be a mapping of stage names");
      for (const auto& kv : stages) {
        std::string name = kv.first.as<std::string>();
        if (name.find('@') != std::string::npos || name.find(':') != std::string::npos ||
            name.empty())
          return fail(kv.first, "stages." + name, "a stage name may not hold '@' or ':'");
        RH_TRY(add_definition(name, kv.second, out));
      }
    }
    if (auto m = doc["metrics"]) {
      RH_TRY_ASSIGN(Json j, resolve_field(m, "metrics", m_vars, "metrics"));
      for (const auto& x : j)
        if (x.is_string())
          out.metrics.push_back(join_path(m_dir, x.get<std::string>()));
    }
    if (auto p = doc["params"]) {
      RH_TRY_ASSIGN(Json j, resolve_field(p, "params", m_vars, "params"));
      for (const auto& x : j)
        if (x.is_string())
          out.params.push_back(join_path(m_dir, x.get<std::string>()));
    }
    if (auto p = doc["plots"]) {
      RH_TRY_ASSIGN(Json j, resolve_field(p, "plots", m_vars, "plots"));
      for (const auto& x : j)
        out.plots.push_back(x.dump());
    }
    std::set<std::string> seen;
    for (const auto& s : out.stages) {
      if (!seen.insert(s.name).second)
        return fail(s.line, "stages." + s.name, "two stages are named " + s.name);
    }
    return out;
  }

 private:
  std::string abs(const std::string& rel) const {
    return rel.starts_with("/") ? rel : m_root + "/" + rel;
  }

  std::unexpected<Error> fail(int line, const std::string& where, const std::string& msg) const {
    std::string at = m_file + (line > 0 ? ":" + std::to_string(line) : "");
    return make_error(ErrorCode::invalid_argument,
                      at + ": " + (where.empty() ? "" : where + ": ") + msg);
  }
  std::unexpected<Error> fail(const YAML::Node& n, const std::string& where,
                              const std::string& msg) const {
    return fail(n.Mark().line + 1, where, msg);
  }

  // Merges `src` into `dst`; a key already set (not a mapping on both sides) is an error.
  static Status merge(Json& dst, const Json& src, const std::string& prefix,
                      const std::string& what) {
    for (const auto& [k, v] : src.items()) {
      std::string path = prefix.empty() ? k : prefix + "." + k;
      if (!dst.contains(k)) {
        dst[k] = v;
      } else if (dst[k].is_object() && v.is_object()) {
        RH_TRY(merge(dst[k], v, path, what));
      } else {
        return make_error(ErrorCode::invalid_argument,
                          "cannot redefine '" + path + "' from " + what + ": it is already set");
      }
    }
    return {};
  }

  Status merge_file(const YAML::Node& at, const std::string& spec, const std::string& dir,
                    Json& vars) {
    std::string file = spec, keys;
    if (auto colon = spec.find(':'); colon != std::string::npos) {
      file = spec.substr(0, colon);
      keys = spec.substr(colon + 1);
    }
    std::string rel = join_path(dir, file);
    if (m_loaded.count(rel + ":" + keys))
      return {};  // the same file (and keys) twice adds nothing
    m_loaded.insert(rel + ":" + keys);
    auto params = read_params(abs(rel));
    if (!params)
      return fail(at, "vars", params.error().message);
    if (auto order = read_key_order(abs(rel))) {
      for (auto& [path, ks] : *order)
        m_order.emplace(path, std::move(ks));  // the first file to define a mapping orders it
    }
    Json take = *params;
    if (!keys.empty()) {
      take = Json::object();
      for (const auto& k : split(keys, ',')) {
        std::string key(trim(k));
        const Json* v = find_key(*params, key);
        if (!v)
          return fail(at, "vars", "no key '" + key + "' in " + rel);
        Json nested = *v;
        auto parts = split(key, '.');
        for (size_t i = parts.size(); i-- > 1;)
          nested = Json{{parts[i], nested}};
        if (auto st = merge(take, Json{{parts[0], nested}}, "", rel); !st)
          return fail(at, "vars", st.error().message);
      }
    }
    if (auto st = merge(vars, take, "", rel); !st)
      return fail(at, "vars", st.error().message);
    return {};
  }

  Status load_vars(const YAML::Node& v, const std::string& where, const std::string& dir,
                   Json& vars) {
    if (!v.IsSequence())
      return fail(v, where, "must be a list of files and mappings");
    for (size_t i = 0; i < v.size(); ++i) {
      const YAML::Node& item = v[i];
      if (item.IsScalar()) {
        if (has_interpolation(item.Scalar()))
          return fail(item, where, "interpolating is not allowed");
        RH_TRY(merge_file(item, item.Scalar(), dir, vars));
      } else if (item.IsMap()) {
        remember_order(item, "");
        if (auto st = merge(vars, yaml_to_json(item), "", where + "[" + std::to_string(i) + "]");
            !st)
          return fail(item, where, st.error().message);
      } else {
        return fail(item, where, "an entry must be a file name or a mapping");
      }
    }
    return {};
  }

  Result<Json> resolve_field(const YAML::Node& n, const std::string& where, const Json& vars,
                             const std::string& field) {
    auto r = resolve(yaml_to_json(n), vars, field);
    if (!r)
      return fail(n, where, r.error().message);
    return *r;
  }

  Status add_definition(const std::string& name, const YAML::Node& def, PipelineFile& out) {
    std::string where = "stages." + name;
    if (!def.IsMap())
      return fail(def, where, "a stage must be a mapping with `cmd`");
    if (def["foreach"] && def["matrix"])
      return fail(def, where, "`foreach` and `matrix` cannot be used together");
    if (auto fe = def["foreach"]) {
      if (!def["do"])
        return fail(def, where, "`foreach` needs `do`");
      for (const auto& kv : def) {
        std::string k = kv.first.as<std::string>();
        if (k != "foreach" && k != "do")
          return fail(kv.first, where + "." + k, "a foreach stage holds only `foreach` and `do`");
      }
      RH_TRY_ASSIGN(Json items, resolve_field(fe, where + ".foreach", m_vars, "foreach"));
      std::vector<std::pair<std::string, Json>> iter;  // key, item
      bool keyed = items.is_object();
      if (items.is_object()) {
        for (const auto& [k, v] : items.items())
          iter.emplace_back(k, v);
      } else if (items.is_array()) {
        bool composite = false;
        for (const auto& v : items)
          composite = composite || v.is_object() || v.is_array();
        for (size_t i = 0; i < items.size(); ++i)
          iter.emplace_back(composite ? std::to_string(i) : python_str(items[i]), items[i]);
      } else {
        return fail(fe, where + ".foreach", "expected a list or a dictionary");
      }
      // A dict's own insertion order is DVC's; JSON objects here are
      // sorted, so take the order from where the dict was written.
      if (keyed) {
        std::vector<std::string> order;
        if (fe.IsMap()) {
          for (const auto& kv : fe)
            order.push_back(kv.first.as<std::string>());
        } else if (fe.IsScalar()) {
          std::string expr = fe.Scalar();
          if (expr.starts_with("${") && expr.ends_with("}")) {
            std::string norm;
            for (char c : expr.substr(2, expr.size() - 3))
              norm += c == '[' ? '.' : c;
            std::erase(norm, ']');
            if (auto it = m_order.find(std::string(trim(norm))); it != m_order.end())
              order = it->second;
          }
        }
        std::vector<std::pair<std::string, Json>> sorted;
        std::set<std::string> done;
        for (const auto& k : order) {
          if (items.contains(k) && done.insert(k).second)
            sorted.emplace_back(k, items[k]);
        }
        for (const auto& [k, v] : iter) {
          if (!done.count(k))
            sorted.emplace_back(k, v);
        }
        iter = std::move(sorted);
      }
      for (const auto& [key, item] : iter) {
        Json vars = m_vars;
        vars["item"] = item;
        if (keyed)
          vars["key"] = key;
        RH_TRY(add_stage(name + "@" + key, name, def["do"], vars, out));
      }
      return {};
    }
    if (auto mx = def["matrix"]) {
      if (!mx.IsMap())
        return fail(mx, where + ".matrix", "must be a mapping of names to lists");
      std::vector<std::pair<std::string, Json>> axes;
      for (const auto& kv : mx) {
        std::string k = kv.first.as<std::string>();
        RH_TRY_ASSIGN(Json vals,
                      resolve_field(kv.second, where + ".matrix." + k, m_vars, "foreach"));
        if (!vals.is_array())
          return fail(kv.second, where + ".matrix." + k, "must be a list");
        axes.emplace_back(k, vals);
      }
      std::vector<size_t> idx(axes.size(), 0);
      bool empty = axes.empty();
      for (const auto& a : axes)
        empty = empty || a.second.empty();
      while (!empty) {
        Json item = Json::object();
        std::string key;
        for (size_t i = 0; i < axes.size(); ++i) {
          const Json& v = axes[i].second[idx[i]];
          item[axes[i].first] = v;
          key += (i ? "-" : "") + (v.is_object() || v.is_array()
                                       ? axes[i].first + std::to_string(idx[i])
                                       : python_str(v));
        }
        Json vars = m_vars;
        vars["item"] = item;
        vars["key"] = key;
        RH_TRY(add_stage(name + "@" + key, name, def, vars, out, /*skip=*/"matrix"));
        size_t i = axes.size();
        while (i-- > 0) {
          if (++idx[i] < axes[i].second.size())
            break;
          idx[i] = 0;
        }
        if (i == size_t(-1))
          break;
      }
      return {};
    }
    return add_stage(name, name, def, m_vars, out);
  }

  Result<std::vector<Dep>> paths(const Json& list, const YAML::Node& n, const std::string& where,
                                 const std::string& wdir) {
    std::vector<Dep> out;
    if (list.is_null())
      return out;
    if (!list.is_array())
      return fail(n, where, "must be a list of paths");
    for (const auto& p : list) {
      if (!p.is_string() || p.get<std::string>().empty())
        return fail(n, where, "each entry must be a path");
      out.push_back(Dep{p.get<std::string>(), join_path(wdir, p.get<std::string>())});
    }
    return out;
  }

  Status add_outs(const Json& list, const YAML::Node& n, const std::string& where,
                  const std::string& wdir, Out::Kind kind, Stage& s) {
    if (list.is_null())
      return {};
    if (!list.is_array())
      return fail(n, where, "must be a list");
    for (const auto& e : list) {
      Out o;
      o.kind = kind;
      Json plot = Json::object();
      Json props = Json::object();
      if (e.is_string()) {
        o.path = e.get<std::string>();
      } else if (e.is_object() && e.size() == 1) {
        o.path = e.begin().key();
        props = e.begin().value().is_null() ? Json::object() : e.begin().value();
        if (!props.is_object())
          return fail(n, where + "." + o.path, "the options must be a mapping");
      } else {
        return fail(n, where, "each entry is a path, or a path with its options");
      }
      for (const auto& [k, v] : props.items()) {
        if (k == "cache" || k == "persist" || k == "push") {
          if (!v.is_boolean())
            return fail(n, where + "." + o.path + "." + k, "must be true or false");
          (k == "cache" ? o.cache : k == "persist" ? o.persist : o.push) = v.get<bool>();
        } else if (k == "desc") {
          o.desc = v.is_string() ? v.get<std::string>() : v.dump();
        } else if (kind == Out::Kind::plot &&
                   (k == "x" || k == "y" || k == "title" || k == "template" || k == "x_label" ||
                    k == "y_label" || k == "header")) {
          plot[k] = v;
        } else if (k == "remote" || k == "type" || k == "labels" || k == "meta") {
          // DVC's registry and remote fields: kept out of the way.
        } else {
          return fail(n, where + "." + o.path + "." + k, "unknown option");
        }
      }
      if (o.path.empty())
        return fail(n, where, "an empty path");
      o.rel = join_path(wdir, o.path);
      if (kind == Out::Kind::plot)
        o.plot = plot.dump();
      s.outs.push_back(std::move(o));
    }
    return {};
  }

  Status add_params(const Json& list, const YAML::Node& n, const std::string& where,
                    const std::string& wdir, Stage& s) {
    if (list.is_null())
      return {};
    if (!list.is_array())
      return fail(n, where, "must be a list of keys or {file: [keys]}");
    ParamDep dflt{"params.yaml", join_path(wdir, "params.yaml"), {}, false};
    for (const auto& e : list) {
      if (e.is_string()) {
        dflt.keys.push_back(e.get<std::string>());
      } else if (e.is_object()) {
        for (const auto& [file, keys] : e.items()) {
          ParamDep p{file, join_path(wdir, file), {}, keys.is_null()};
          if (keys.is_array()) {
            for (const auto& k : keys) {
              if (!k.is_string())
                return fail(n, where + "." + file, "keys must be strings");
              p.keys.push_back(k.get<std::string>());
            }
          } else if (!keys.is_null()) {
            return fail(n, where + "." + file, "must be a list of keys, or empty for all");
          }
          s.params.push_back(std::move(p));
        }
      } else {
        return fail(n, where, "each entry is a key or {file: [keys]}");
      }
    }
    if (!dflt.keys.empty())
      s.params.insert(s.params.begin(), std::move(dflt));
    return {};
  }

  Status add_stage(const std::string& name, const std::string& group, const YAML::Node& def,
                   Json vars, PipelineFile& out, const std::string& skip = "") {
    std::string where = "stages." + name;
    if (!def.IsMap())
      return fail(def, where, "a stage must be a mapping with `cmd`");
    Stage s;
    s.name = name;
    s.group = group;
    s.line = def.Mark().line + 1;
    for (const auto& kv : def) {
      std::string k = kv.first.as<std::string>();
      if (k == skip)
        continue;
      if (!k_stage_keys.count(k))
        return fail(kv.first, where + "." + k,
                    "unknown key (known: cmd, wdir, deps, params, outs, metrics, plots, frozen, "
                    "always_changed, desc, meta, vars)");
    }
    if (!def["cmd"])
      return fail(def, where, "`cmd` is required");
    std::string wdir = m_dir;
    if (auto w = def["wdir"]) {
      RH_TRY_ASSIGN(Json wj, resolve_field(w, where + ".wdir", vars, "wdir"));
      if (!wj.is_string())
        return fail(w, where + ".wdir", "must be a path");
      wdir = join_path(m_dir, wj.get<std::string>());
    }
    s.wdir = wdir;
    if (auto v = def["vars"])
      RH_TRY(load_vars(v, where + ".vars", wdir, vars));
    auto field = [&](const char* key) -> Result<Json> {
      auto n = def[key];
      if (!n)
        return Json();
      return resolve_field(n, where + "." + key, vars, key);
    };
    RH_TRY_ASSIGN(Json cmd, field("cmd"));
    if (cmd.is_string()) {
      s.cmd.push_back(cmd.get<std::string>());
    } else if (cmd.is_array() && !cmd.empty()) {
      for (const auto& c : cmd) {
        if (!c.is_string())
          return fail(def["cmd"], where + ".cmd", "each command must be a string");
        s.cmd.push_back(c.get<std::string>());
      }
    } else {
      return fail(def["cmd"], where + ".cmd", "must be a command or a list of commands");
    }
    RH_TRY_ASSIGN(Json deps, field("deps"));
    RH_TRY_ASSIGN(s.deps, paths(deps, def["deps"], where + ".deps", wdir));
    RH_TRY_ASSIGN(Json params, field("params"));
    RH_TRY(add_params(params, def["params"], where + ".params", wdir, s));
    for (auto [key, kind] :
         {std::pair{"outs", Out::Kind::out}, std::pair{"metrics", Out::Kind::metric},
          std::pair{"plots", Out::Kind::plot}}) {
      RH_TRY_ASSIGN(Json list, field(key));
      RH_TRY(add_outs(list, def[key], where + "." + key, wdir, kind, s));
    }
    for (auto [key, flag] :
         {std::pair{"frozen", &s.frozen}, std::pair{"always_changed", &s.always_changed}}) {
      RH_TRY_ASSIGN(Json v, field(key));
      if (!v.is_null() && !v.is_boolean())
        return fail(def[key], where + "." + key, "must be true or false");
      *flag = v.is_boolean() && v.get<bool>();
    }
    RH_TRY_ASSIGN(Json desc, field("desc"));
    s.desc = desc.is_string() ? desc.get<std::string>() : desc.is_null() ? "" : desc.dump();
    if (auto m = def["meta"])
      s.meta = yaml_to_json(m).dump();  // not templated, as DVC leaves it
    out.stages.push_back(std::move(s));
    return {};
  }

  void remember_order(const YAML::Node& n, const std::string& at) {
    if (!n.IsMap())
      return;
    auto& keys = m_order[at];
    if (!keys.empty())
      return;
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      keys.push_back(k);
      remember_order(kv.second, at.empty() ? k : at + "." + k);
    }
  }

  std::string m_root, m_file, m_dir;
  Json m_vars;
  KeyOrder m_order;  // each variable mapping's keys as written
  std::set<std::string> m_loaded;
};

}  // namespace

Result<PipelineFile> load_pipeline_file(const std::string& root, const std::string& file) {
  return Loader(root, file).load();
}

Result<std::string> find_pipeline_file(const std::string& root, const std::string& dir) {
  for (const char* name : {"rh.yaml", "dvc.yaml"}) {
    std::string rel = dir.empty() || dir == "." ? name : dir + "/" + name;
    if (path_exists(root + "/" + rel))
      return rel;
  }
  return make_error(ErrorCode::not_found,
                    "no rh.yaml or dvc.yaml in " + (dir.empty() ? root : root + "/" + dir));
}

}  // namespace rh::pipeline
