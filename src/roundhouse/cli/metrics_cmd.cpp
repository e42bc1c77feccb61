// rh metrics show [-a] [-T] [--json|--md] [--precision N]; rh metrics diff
// [A_REV [B_REV]] [--all] [--json|--md] [--precision N]; rh params diff
// [A_REV [B_REV]] [--all] [--json|--md]: as DVC's commands, on the pipeline
// of the current folder (pipeline/metrics.h).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/pipeline_here.h"
#include "roundhouse/pipeline/metrics.h"
#include "roundhouse/pipeline/named_revisions.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/table.h"

namespace rh::cli {

namespace {

Result<pipeline::Project> here_project() {
  RH_TRY_ASSIGN(PipelineHere h, pipeline_here());
  return pipeline::open_project(h.root, h.file);
}

// DVC's plain tables are format_table with headers padded by two.
// GitHub-flavoured Markdown, as DVC's --md writes it: headers padded by
// two as well, and an empty line after the table.
std::string md_table(const std::vector<std::string>& headers,
                     const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w;
  for (const auto& h : headers)
    w.push_back(h.size() + 2);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i)
      w[i] = std::max(w[i], r[i].size());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t i = 0; i < cells.size(); ++i)
      out += " " + cells[i] + std::string(w[i] - cells[i].size(), ' ') + " |";
    return out + "\n";
  };
  std::string out = line(headers) + "|";
  for (size_t x : w)
    out += std::string(x + 2, '-') + "|";
  out += "\n";
  for (const auto& r : rows)
    out += line(r);
  return out + "\n";
}

nlohmann::json unflatten(const std::map<std::string, Json>& kv) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : kv) {
    nlohmann::json* at = &out;
    auto parts = split(k, '.');
    for (size_t i = 0; i + 1 < parts.size(); ++i)
      at = &(*at)[parts[i]];
    (*at)[parts.back()] = v;
  }
  return out;
}

struct ShowFlags {
  bool json = false, md = false, all_branches = false, all_tags = false;
  int precision = 5;
};

// DVC's `metrics show`: one row per (revision, file), a column per key
// (sorted); the Revision column only with -a or -T; a file a revision lacks
// is a row of "-".
Status metrics_show(const ShowFlags& f) {
  RH_TRY_ASSIGN(pipeline::Project p, here_project());
  bool by_rev = f.all_branches || f.all_tags;
  RH_TRY_ASSIGN(auto revs, pipeline::named_revisions(p.root, f.all_branches, f.all_tags));
  std::vector<std::pair<std::string, pipeline::Values>> per_rev;
  std::vector<std::vector<std::string>> missing_per_rev;
  for (const auto& r : revs) {
    std::vector<std::string> missing;
    RH_TRY_ASSIGN(pipeline::Values v, pipeline::metrics_at(p, r.rev, &missing));
    for (const auto& m : missing)
      std::fprintf(stderr, "rh: cannot read the metrics file %s%s\n", m.c_str(),
                   by_rev ? (" at " + r.shown).c_str() : "");
    per_rev.emplace_back(by_rev ? r.shown : "", std::move(v));
    missing_per_rev.push_back(std::move(missing));
  }
  if (f.json) {
    nlohmann::json out = nlohmann::json::object();
    for (size_t i = 0; i < per_rev.size(); ++i) {
      nlohmann::json data = nlohmann::json::object();
      for (const auto& [path, kv] : per_rev[i].second)
        data[path] = {{"data", unflatten(kv)}};
      for (const auto& m : missing_per_rev[i])
        data[m] = {{"error", {{"type", "FileNotFoundError"}, {"msg", m + " cannot be read"}}}};
      out[per_rev[i].first] = {{"data", data}};
    }
    std::printf("%s\n", out.dump().c_str());
    return {};
  }
  std::set<std::string> keys;
  for (const auto& [rev, v] : per_rev)
    for (const auto& [path, kv] : v)
      for (const auto& [k, x] : kv)
        keys.insert(k);
  std::vector<std::string> headers;
  if (by_rev)
    headers.push_back("Revision");
  headers.push_back("Path");
  headers.insert(headers.end(), keys.begin(), keys.end());
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < per_rev.size(); ++i) {
    std::map<std::string, const std::map<std::string, Json>*> files;
    for (const auto& [path, kv] : per_rev[i].second)
      files[path] = &kv;
    for (const auto& m : missing_per_rev[i])
      files.emplace(m, nullptr);
    for (const auto& [path, kv] : files) {
      std::vector<std::string> row;
      if (by_rev)
        row.push_back(per_rev[i].first);
      row.push_back(path);
      for (const auto& k : keys) {
        std::optional<Json> v;
        if (kv)
          if (auto it = kv->find(k); it != kv->end())
            v = it->second;
        row.push_back(pipeline::shown(v, f.precision));
      }
      rows.push_back(std::move(row));
    }
  }
  if (!rows.empty())
    std::printf("%s", (f.md ? md_table(headers, rows) : format_table(headers, rows, 2)).c_str());
  return {};
}

struct DiffFlags {
  std::vector<std::string> revs;
  bool all = false, json = false, md = false;
  int precision = 5;
};

Status diff_cmd(const DiffFlags& f, bool metrics) {
  RH_TRY_ASSIGN(pipeline::Project p, here_project());
  std::string a = f.revs.size() > 0 ? f.revs[0] : "HEAD";
  std::string b = f.revs.size() > 1 ? f.revs[1] : "workspace";
  auto values = [&](const std::string& rev) {
    return metrics ? pipeline::metrics_at(p, rev) : pipeline::params_at(p, rev);
  };
  RH_TRY_ASSIGN(pipeline::Values old_v, values(a));
  RH_TRY_ASSIGN(pipeline::Values new_v, values(b));
  auto rows = pipeline::diff(old_v, new_v, f.all);
  if (f.json) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& r : rows) {
      // As DVC writes them: a list as its text, a boolean's diff as an integer.
      auto value = [](const std::optional<Json>& v) -> nlohmann::json {
        if (!v)
          return nullptr;
        return v->is_array() ? nlohmann::json(pipeline::shown(v)) : *v;
      };
      nlohmann::json e{{"old", value(r.old_value)}, {"new", value(r.new_value)}};
      if (r.change) {
        bool ints = (r.old_value->is_boolean() || r.old_value->is_number_integer()) &&
                    (r.new_value->is_boolean() || r.new_value->is_number_integer());
        e["diff"] = ints ? nlohmann::json(int64_t(*r.change)) : nlohmann::json(*r.change);
      }
      out[r.path][r.key] = e;
    }
    std::printf("%s\n", out.dump().c_str());
    return {};
  }
  std::vector<std::string> headers{"Path", metrics ? "Metric" : "Param", a, b};
  if (metrics)
    headers.push_back("Change");
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    std::vector<std::string> row{r.path, r.key,
                                 pipeline::shown(r.old_value, metrics ? f.precision : -1),
                                 pipeline::shown(r.new_value, metrics ? f.precision : -1)};
    if (metrics)
      row.push_back(r.change ? pipeline::shown(Json(*r.change), f.precision) : "-");
    table.push_back(std::move(row));
  }
  if (!table.empty())
    std::printf("%s", (f.md ? md_table(headers, table) : format_table(headers, table, 2)).c_str());
  return {};
}

}  // namespace

void add_metrics_commands(CLI::App& app, Context&) {
  auto* metrics = app.add_subcommand("metrics", "The pipeline's metrics, as `dvc metrics`");
  metrics->require_subcommand(1);
  auto sf = std::make_shared<ShowFlags>();
  auto* show = metrics->add_subcommand("show", "The metrics in the workspace (and revisions)");
  show->add_flag("--json", sf->json, "As JSON (DVC's shape)");
  show->add_flag("--md", sf->md, "As a Markdown table");
  show->add_flag("-a,--all-branches", sf->all_branches, "Also every branch's");
  show->add_flag("-T,--all-tags", sf->all_tags, "Also every tag's");
  show->add_option("--precision", sf->precision, "Digits after the point (default 5)");
  show->callback([sf] { guard([&] { return metrics_show(*sf); }); });
  for (bool is_metrics : {true, false}) {
    auto df = std::make_shared<DiffFlags>();
    CLI::App* parent = is_metrics ? metrics : app.add_subcommand("params", "The pipeline's params");
    if (!is_metrics)
      parent->require_subcommand(1);
    auto* d = parent->add_subcommand(
        "diff", is_metrics ? "Metrics between two revisions (default HEAD and the workspace)"
                           : "Params between two revisions (default HEAD and the workspace)");
    d->add_option("revs", df->revs, "A_REV [B_REV]")->expected(0, 2);
    d->add_flag("--all", df->all, "Unchanged ones too");
    d->add_flag("--json", df->json, "As JSON");
    d->add_flag("--md", df->md, "As a Markdown table");
    if (is_metrics)
      d->add_option("--precision", df->precision, "Digits after the point (default 5)");
    d->callback([df, is_metrics] { guard([&] { return diff_cmd(*df, is_metrics); }); });
  }
}

}  // namespace rh::cli
