#include "roundhouse/pipeline/metrics.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "roundhouse/env/process.h"
#include "roundhouse/pipeline/file_at.h"
#include "roundhouse/pipeline/interpolate.h"
#include "roundhouse/pipeline/params.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::pipeline {

namespace {

void flatten(const Json& v, const std::string& prefix, std::map<std::string, Json>& out) {
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, x] : v.items())
      flatten(x, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  out[prefix] = v;
}

}  // namespace

Result<Values> metrics_at(const Project& p, const std::string& rev,
                          std::vector<std::string>* missing) {
  std::set<std::string> files(p.file.metrics.begin(), p.file.metrics.end());
  for (const auto& s : p.dag.stages)
    for (const auto& o : s.outs)
      if (o.kind == Out::Kind::metric)
        files.insert(o.rel);
  Values out;
  for (const auto& rel : files) {
    auto text = file_at(p, rev, rel);
    auto v = text ? parse_params(rel, *text) : Result<Json>(std::unexpected(text.error()));
    if (!v) {
      if (missing)
        missing->push_back(rel);
      continue;
    }
    flatten(*v, "", out[rel]);
  }
  return out;
}

Result<Values> params_at(const Project& p, const std::string& rev) {
  std::map<std::string, std::set<std::string>> tracked;  // file -> keys ("" = all)
  for (const auto& s : p.dag.stages)
    for (const auto& pd : s.params) {
      if (pd.all)
        tracked[pd.rel].insert("");
      for (const auto& k : pd.keys)
        tracked[pd.rel].insert(k);
    }
  for (const auto& f : p.file.params)
    tracked[f].insert("");
  Values out;
  for (const auto& [rel, keys] : tracked) {
    auto text = file_at(p, rev, rel);
    if (!text)
      continue;
    RH_TRY_ASSIGN(Json v, parse_params(rel, *text));
    for (const auto& k : keys) {
      if (k.empty()) {
        flatten(v, "", out[rel]);
      } else if (const Json* x = find_key(v, k)) {
        flatten(*x, k, out[rel]);
      }
    }
  }
  return out;
}

std::vector<DiffRow> diff(const Values& a, const Values& b, bool all) {
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto* side : {&a, &b})
    for (const auto& [path, kv] : *side)
      for (const auto& [k, v] : kv)
        keys.insert({path, k});
  std::vector<DiffRow> rows;
  for (const auto& [path, k] : keys) {
    DiffRow r{path, k, std::nullopt, std::nullopt, std::nullopt};
    if (auto f = a.find(path); f != a.end())
      if (auto g = f->second.find(k); g != f->second.end())
        r.old_value = g->second;
    if (auto f = b.find(path); f != b.end())
      if (auto g = f->second.find(k); g != f->second.end())
        r.new_value = g->second;
    bool same = r.old_value && r.new_value && *r.old_value == *r.new_value;
    // Booleans count as numbers, as Python's do (True - False is 1).
    auto number = [](const Json& v, double& out) {
      if (v.is_boolean())
        return out = v.get<bool>() ? 1 : 0, true;
      if (v.is_number())
        return out = v.get<double>(), true;
      return false;
    };
    double x = 0, y = 0;
    if (r.old_value && r.new_value && number(*r.old_value, x) && number(*r.new_value, y)) {
      r.change = y - x;
      same = *r.change == 0;
    }
    if (all || !same)
      rows.push_back(std::move(r));
  }
  return rows;
}

std::string shown(const std::optional<Json>& v, int precision) {
  if (!v || v->is_null())
    return "-";
  if (v->is_boolean())
    return v->get<bool>() ? "True" : "False";
  if (v->is_number_float() && precision >= 0) {
    double d = v->get<double>();
    double scale = std::pow(10.0, precision);
    return python_str(Json(std::round(d * scale) / scale));
  }
  if (v->is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& x = (*v)[i];
      out += (i ? ", " : "") + (x.is_string() ? "'" + x.get<std::string>() + "'" : shown(x));
    }
    return out + "]";
  }
  return python_str(*v);
}

}  // namespace rh::pipeline
