#include "roundhouse/pipeline/plots.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "roundhouse/env/process.h"
#include "roundhouse/pipeline/file_at.h"
#include "roundhouse/pipeline/plot_data.h"
#include "roundhouse/util/base64.h"

namespace rh::pipeline {

namespace {

namespace fs = std::filesystem;

struct Source {
  std::string file;  // from the root
  std::string x;     // a field, or "" for the row index
  std::string y;     // a field, or "" for the first row's last field
};

struct Definition {
  std::string id;
  Json props = Json::object();  // title, template, x_label, y_label, ...
  std::vector<Source> sources;  // named plots; a path plot gets its own per file
  bool is_path = true;          // the id is a file or folder
};

std::string joined(const std::string& dir, const std::string& rel) {
  return normal_path(dir.empty() || dir == "." ? rel : dir + "/" + rel);
}

std::vector<std::string> fields(const Json& v) {
  std::vector<std::string> out;
  if (v.is_string())
    out.push_back(v.get<std::string>());
  else if (v.is_array())
    for (const auto& x : v)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

// A plot of one data file with the properties as written (x, y fields).
std::vector<Source> path_sources(const std::string& file, const Json& props) {
  std::string x =
      props.contains("x") && props["x"].is_string() ? props["x"].get<std::string>() : "";
  std::vector<std::string> ys =
      props.contains("y") ? fields(props["y"]) : std::vector<std::string>{};
  if (ys.empty())
    ys.push_back("");
  std::vector<Source> out;
  for (const auto& y : ys)
    out.push_back({file, x, y});
  return out;
}

Result<std::vector<Definition>> definitions(const Project& p) {
  std::vector<Definition> out;
  std::string config_dir = fs::path(p.file.path).parent_path().generic_string();
  for (const auto& raw : p.file.plots) {
    RH_TRY_ASSIGN(Json entry, parse_json(raw, p.file.path + ": plots"));
    Definition d;
    if (entry.is_string()) {
      d.id = joined(config_dir, entry.get<std::string>());
      out.push_back(std::move(d));
      continue;
    }
    if (!entry.is_object() || entry.size() != 1)
      return make_error(ErrorCode::invalid_argument,
                        p.file.path + ": plots: each entry is a path or {id: properties}");
    auto it = entry.begin();
    Json props = it.value().is_object() ? it.value() : Json::object();
    if (props.contains("y") && props["y"].is_object()) {
      d.id = it.key();
      d.is_path = false;
      std::map<std::string, std::string> x_of;  // file -> x field
      std::string x_all;
      if (props.contains("x") && props["x"].is_string())
        x_all = props["x"].get<std::string>();
      if (props.contains("x") && props["x"].is_object())
        for (const auto& [f, v] : props["x"].items())
          if (v.is_string())
            x_of[joined(config_dir, f)] = v.get<std::string>();
      for (const auto& [f, v] : props["y"].items()) {
        std::string file = joined(config_dir, f);
        std::string x = x_of.count(file) ? x_of[file] : x_all;
        for (const auto& y : fields(v))
          d.sources.push_back({file, x, y});
      }
    } else {
      d.id = joined(config_dir, it.key());
    }
    props.erase("x");
    props.erase("y");
    d.props = std::move(props);
    out.push_back(std::move(d));
  }
  for (const auto& s : p.dag.stages)
    for (const auto& o : s.outs) {
      if (o.kind != Out::Kind::plot)
        continue;
      Definition d;
      d.id = o.rel;
      if (!o.plot.empty()) {
        RH_TRY_ASSIGN(d.props, parse_json(o.plot, p.file.path + ": " + s.name));
      }
      if (!d.props.is_object())
        d.props = Json::object();
      out.push_back(std::move(d));
    }
  return out;
}

// DVC's rule: a definition is wanted when a target, read as a regular
// expression, matches at the start of its id or of "<pipeline file>::<id>"
// (Python's re.match); a target that is no valid expression matches as a
// plain prefix.
bool matches(const std::vector<std::string>& targets, const std::string& config,
             const std::string& id) {
  if (targets.empty())
    return true;
  std::string full = config + "::" + id;
  for (const auto& t : targets) {
    try {
      std::regex re(t);
      auto flags = std::regex_constants::match_continuous;
      if (std::regex_search(id, re, flags) || std::regex_search(full, re, flags))
        return true;
    } catch (const std::regex_error&) {
      if (id.starts_with(t) || full.starts_with(t))
        return true;
    }
  }
  return false;
}

std::string mime_of(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  for (auto& c : e)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (e == ".svg")
    return "image/svg+xml";
  if (e == ".jpg" || e == ".jpeg")
    return "image/jpeg";
  return "image/" + e.substr(1);
}

Json new_plot(const std::string& id, const Json& props) {
  Json plot{{"id", id},
            {"title", props.value("title", "")},
            {"template", props.value("template", "linear")},
            {"x_label", props.value("x_label", "")},
            {"y_label", props.value("y_label", "")},
            {"series", Json::array()},
            {"images", Json::array()}};
  return plot;
}

}  // namespace

Result<Json> plots_report(const Project& p, const std::vector<std::string>& revs,
                          const std::vector<std::string>& targets,
                          std::vector<std::string>& errors) {
  RH_TRY_ASSIGN(auto defs, definitions(p));
  std::vector<std::string> order;  // plot ids as first met
  std::map<std::string, Json> plots;
  auto plot_for = [&](const std::string& id, const Json& props) -> Json& {
    auto it = plots.find(id);
    if (it == plots.end()) {
      order.push_back(id);
      it = plots.emplace(id, new_plot(id, props)).first;
    }
    return it->second;
  };
  // Rows of a file at a revision, read once.
  std::map<std::pair<std::string, std::string>, std::optional<PlotRows>> rows_cache;
  auto rows_at = [&](const std::string& rev, const std::string& file) -> const PlotRows* {
    auto key = std::make_pair(rev, file);
    auto it = rows_cache.find(key);
    if (it == rows_cache.end()) {
      std::optional<PlotRows> got;
      if (auto text = file_at(p, rev, file)) {
        auto r = plot_rows(file, *text);
        if (r)
          got = std::move(*r);
        else
          errors.push_back(rev + ": " + r.error().message);
      }
      it = rows_cache.emplace(key, std::move(got)).first;
    }
    return it->second ? &*it->second : nullptr;
  };
  auto add_series = [&](Json& plot, const std::string& rev, const Source& s) {
    const PlotRows* r = rows_at(rev, s.file);
    if (!r || r->rows.empty())
      return;
    std::string y = s.y.empty() ? (r->fields.empty() ? "" : r->fields.back()) : s.y;
    if (y.empty())
      return;
    Json xs = Json::array(), ys = Json::array();
    for (size_t i = 0; i < r->rows.size(); ++i) {
      const Json& row = r->rows[i];
      if (!row.contains(y) || (!s.x.empty() && !row.contains(s.x))) {
        errors.push_back(rev + ": " + s.file + ": no field '" + (row.contains(y) ? s.x : y) +
                         "' in row " + std::to_string(i + 1));
        return;
      }
      xs.push_back(s.x.empty() ? Json(int64_t(i)) : row[s.x]);
      ys.push_back(row[y]);
    }
    plot["series"].push_back({{"rev", rev},
                              {"file", s.file},
                              {"x_field", s.x.empty() ? "step" : s.x},
                              {"y_field", y},
                              {"x", std::move(xs)},
                              {"y", std::move(ys)}});
  };
  // A path plot: the file itself, or each file of the folder.
  // `drawn`: the files drawn at this revision, each drawn once.
  auto add_path = [&](const std::string& rev, const std::string& path, const Json& props,
                      std::set<std::string>& drawn) -> Status {
    RH_TRY_ASSIGN(auto inside, files_under_at(p, rev, path));
    std::vector<std::string> files = inside.empty() ? std::vector<std::string>{path} : inside;
    for (const auto& file : files) {
      if (!drawn.insert(file).second)
        continue;
      if (is_plot_image(file)) {
        auto bytes = file_at(p, rev, file);
        if (!bytes)
          continue;
        Json& plot = plot_for(file, props);
        plot["images"].push_back(
            {{"rev", rev},
             {"file", file},
             {"src", "data:" + mime_of(file) + ";base64," + base64_encode(*bytes)}});
        continue;
      }
      Json& plot = plot_for(file, props);
      for (const auto& s : path_sources(file, props))
        add_series(plot, rev, s);
    }
    return {};
  };
  for (const auto& rev : revs) {
    std::set<std::string> drawn;
    for (const auto& d : defs) {
      if (!matches(targets, p.file.path, d.id))
        continue;
      if (!d.is_path) {
        Json& plot = plot_for(d.id, d.props);
        for (const auto& s : d.sources)
          add_series(plot, rev, s);
        continue;
      }
      RH_TRY(add_path(rev, d.id, d.props, drawn));
    }
    // A target that is a file or folder at the revision is drawn as it is
    // (what no definition drew already).
    for (const auto& t : targets) {
      std::string path = normal_path(t);
      RH_TRY_ASSIGN(auto inside, files_under_at(p, rev, path));
      if (inside.empty() && !file_at(p, rev, path))
        continue;
      RH_TRY(add_path(rev, path, Json::object(), drawn));
    }
  }
  Json out{{"revisions", revs}, {"plots", Json::array()}};
  for (const auto& id : order)
    if (!plots[id]["series"].empty() || !plots[id]["images"].empty())
      out["plots"].push_back(std::move(plots[id]));
  return out;
}

Result<std::vector<std::string>> plots_diff_revisions(const std::string& root,
                                                      std::vector<std::string> revs) {
  for (const auto& r : revs) {
    if (is_workspace(r))
      continue;
    RH_TRY_ASSIGN(ProcessOutput c,
                  run_capture({"git", "rev-parse", "--verify", "-q", r + "^{commit}"}, root));
    if (c.exit_code != 0)
      return make_error(ErrorCode::not_found, "no git revision '" + r + "' in " + root);
  }
  if (revs.size() > 1)
    return revs;
  if (revs.empty()) {
    RH_TRY_ASSIGN(ProcessOutput head,
                  run_capture({"git", "rev-parse", "--verify", "-q", "HEAD"}, root));
    if (head.exit_code == 0) {
      RH_TRY_ASSIGN(
          ProcessOutput st,
          run_capture({"git", "status", "--porcelain", "--untracked-files=no"}, root, 60000));
      if (st.exit_code != 0)
        return make_error(ErrorCode::invalid_argument, "git status failed in " + root);
      if (!st.out.empty())
        revs.push_back("HEAD");
    }
  }
  if (revs.empty() || !is_workspace(revs.back()))
    revs.push_back("workspace");
  return revs;
}

}  // namespace rh::pipeline
