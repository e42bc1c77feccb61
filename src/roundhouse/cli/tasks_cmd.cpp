// rh tasks list|show|logs|scalars|compare|tag|delete, and rh artifacts get|put.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/output.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/json.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

void print_json(const Json& j) {
  std::puts(j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
}

// Runs a command body; errors become exit codes through CLI11.
struct ListFlags {
  std::string project;
  std::vector<std::string> status;
  std::vector<std::string> tags;
  std::string name;
  std::string order_by = "created";
  bool ascending = false;
  int limit = 50;
  bool all = false;
  bool json = false;
};

Status list_tasks(Context& ctx, const ListFlags& f) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  TaskQuery q;
  if (!f.project.empty())
    q.project = f.project;
  for (const auto& s : f.status) {
    RH_TRY_ASSIGN(TaskStatus st, parse_task_status(s));
    q.statuses.push_back(st);
  }
  q.tags = f.tags;
  if (!f.name.empty())
    q.name_contains = f.name;
  q.order_by = f.order_by;
  q.descending = !f.ascending;
  q.limit = f.all ? 1000 : std::min(f.limit, 1000);
  std::vector<Task> tasks;
  while (true) {
    RH_TRY_ASSIGN(TaskPage page, store->tasks().list(q));
    for (auto& t : page.tasks)
      tasks.push_back(std::move(t));
    if (!f.all || page.next_cursor.empty())
      break;
    q.cursor = page.next_cursor;
  }
  if (f.json) {
    Json arr = Json::array();
    for (const auto& t : tasks)
      arr.push_back(to_json(t, false));
    print_json(Json{{"tasks", arr}});
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : tasks) {
    double end = t.completed > 0 ? t.completed : t.last_update;
    rows.push_back({t.id.substr(0, 12), std::string(to_string(t.status)), t.project, t.name,
                    format_time(t.created), t.started > 0 ? format_duration(end - t.started) : "-",
                    join(t.tags, ",")});
  }
  print_table({"ID", "STATUS", "PROJECT", "NAME", "CREATED", "DURATION", "TAGS"}, rows);
  return {};
}

Status show_task(Context& ctx, const std::string& ref, bool json) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string id, ctx.resolve_task(ref));
  RH_TRY_ASSIGN(Task t, store->tasks().get(id));
  RH_TRY_ASSIGN(auto scalars, store->scalars().summaries(id));
  RH_TRY_ASSIGN(auto artifacts, store->artifacts().list(id));
  if (json) {
    Json j = to_json(t);
    Json s = Json::array();
    for (const auto& x : scalars)
      s.push_back(to_json(x));
    j["scalars"] = s;
    Json a = Json::array();
    for (const auto& x : artifacts)
      a.push_back(to_json(x));
    j["artifacts"] = a;
    print_json(j);
    return {};
  }
  std::printf("id:          %s\n", t.id.c_str());
  std::printf("name:        %s\n", t.name.c_str());
  std::printf("project:     %s\n", t.project.c_str());
  std::printf("type:        %s\n", std::string(to_string(t.type)).c_str());
  std::printf("status:      %s%s%s\n", std::string(to_string(t.status)).c_str(),
              t.status_message.empty() ? "" : " - ", t.status_message.c_str());
  if (!t.tags.empty())
    std::printf("tags:        %s\n", join(t.tags, ", ").c_str());
  if (!t.parent.empty())
    std::printf("parent:      %s\n", t.parent.c_str());
  std::printf("created:     %s\n", format_time(t.created).c_str());
  std::printf("started:     %s\n", format_time(t.started).c_str());
  std::printf("completed:   %s\n", format_time(t.completed).c_str());
  for (const auto& [k, v] : t.runtime)
    std::printf("%-12s %s\n", (k + ":").c_str(), v.c_str());
  std::printf("\ncode:\n");
  if (!t.script.repository.empty()) {
    std::printf("  repository:  %s\n  branch:      %s\n  commit:      %s\n  working dir: %s\n",
                t.script.repository.c_str(), t.script.branch.c_str(), t.script.commit.c_str(),
                t.script.working_dir.c_str());
    std::printf("  diff:        %zu lines\n",
                t.script.diff.empty() ? size_t{0} : split(t.script.diff, '\n').size() - 1);
  }
  std::printf("  entry point: %s\n  command:     %s\n", t.script.entry_point.c_str(),
              join(t.script.argv, " ").c_str());
  if (!t.script.content.empty())
    std::printf("  script:      %zu bytes recorded\n", t.script.content.size());
  std::printf("\nenvironment:\n  host:        %s\n  os:          %s\n  interpreter: %s\n",
              t.environment.host.c_str(), t.environment.os.c_str(),
              t.environment.interpreter.c_str());
  if (!t.hyperparameters.empty()) {
    std::printf("\nhyperparameters:\n");
    for (const auto& h : t.hyperparameters) {
      std::printf("  %s/%s = %s\n", h.section.c_str(), h.name.c_str(), h.value.c_str());
    }
  }
  if (!t.configurations.empty()) {
    std::printf("\nconfigurations:\n");
    for (const auto& c : t.configurations)
      std::printf("  %s (%zu bytes)\n", c.name.c_str(), c.value.size());
  }
  if (!scalars.empty()) {
    std::printf("\nscalars:\n");
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : scalars) {
      rows.push_back({"  " + s.title, s.series, std::to_string(s.count),
                      std::to_string(s.last_step), format_number(s.last_value),
                      format_number(s.min_value), format_number(s.max_value)});
    }
    print_table({"  TITLE", "SERIES", "POINTS", "LAST ITER", "LAST", "MIN", "MAX"}, rows);
  }
  if (!artifacts.empty()) {
    std::printf("\nartifacts:\n");
    for (const auto& a : artifacts) {
      std::printf("  %s  %s  %s\n", a.name.c_str(), format_bytes(a.size).c_str(), a.digest.c_str());
    }
  }
  return {};
}

Status task_logs(Context& ctx, const std::string& ref, bool follow) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string id, ctx.resolve_task(ref));
  int64_t after = 0;
  bool ended = false;
  while (true) {
    RH_TRY_ASSIGN(auto lines, store->console().read(id, after, 10000));
    for (const auto& l : lines) {
      std::FILE* out = l.stream == ConsoleStream::stderr_stream ? stderr : stdout;
      std::fputs(l.text.c_str(), out);
      std::fputc('\n', out);
      after = l.seq;
    }
    std::fflush(stdout);
    if (lines.size() == 10000)
      continue;
    if (!follow || ended)
      break;
    RH_TRY_ASSIGN(Task t, store->tasks().get(id));
    if (is_final(t.status)) {
      // One more round: lines recorded just before the status changed.
      ended = true;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return {};
}

Status task_scalars(Context& ctx, const std::string& ref, bool json, bool csv) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string id, ctx.resolve_task(ref));
  RH_TRY_ASSIGN(auto sums, store->scalars().summaries(id));
  if (!json && !csv) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : sums) {
      rows.push_back({s.title, s.series, std::to_string(s.count), std::to_string(s.last_step),
                      format_number(s.last_value), format_number(s.min_value),
                      format_number(s.max_value)});
    }
    print_table({"TITLE", "SERIES", "POINTS", "LAST ITER", "LAST", "MIN", "MAX"}, rows);
    return {};
  }
  Json arr = Json::array();
  if (csv)
    std::puts("title,series,iteration,value,time");
  for (const auto& sum : sums) {
    RH_TRY_ASSIGN(ScalarSeries s, store->scalars().read(id, sum.title, sum.series, {}));
    if (csv) {
      auto quote = [](const std::string& v) {
        if (v.find_first_of(",\"\n") == std::string::npos)
          return v;
        std::string q = "\"";
        for (char c : v)
          q += c == '"' ? std::string("\"\"") : std::string(1, c);
        return q + "\"";
      };
      std::string t = quote(s.title), se = quote(s.series);
      for (size_t i = 0; i < s.steps.size(); ++i) {
        std::printf("%s,%s,%lld,%s,%s\n", t.c_str(), se.c_str(), static_cast<long long>(s.steps[i]),
                    format_number(s.values[i]).c_str(), format_number(s.times[i]).c_str());
      }
    } else {
      Json values = Json::array();
      for (double v : s.values)
        values.push_back(double_to_json(v));
      arr.push_back(Json{{"title", s.title},
                         {"series", s.series},
                         {"iterations", s.steps},
                         {"values", values},
                         {"times", s.times}});
    }
  }
  if (json)
    print_json(Json{{"scalars", arr}});
  return {};
}

Status compare_tasks(Context& ctx, const std::vector<std::string>& refs, bool json) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  if (refs.size() < 2)
    return make_error(ErrorCode::invalid_argument, "compare needs at least two tasks");
  std::vector<Task> tasks;
  std::vector<std::map<std::string, SeriesSummary>> scalars;
  for (const auto& r : refs) {
    RH_TRY_ASSIGN(std::string id, ctx.resolve_task(r));
    RH_TRY_ASSIGN(Task t, store->tasks().get(id));
    RH_TRY_ASSIGN(auto sums, store->scalars().summaries(id));
    std::map<std::string, SeriesSummary> by;
    for (auto& s : sums)
      by[s.title + "/" + s.series] = s;
    tasks.push_back(std::move(t));
    scalars.push_back(std::move(by));
  }
  // Union of parameter names, in order.
  std::map<std::string, std::vector<std::string>> params;
  for (size_t i = 0; i < tasks.size(); ++i) {
    for (const auto& h : tasks[i].hyperparameters) {
      auto& row = params[h.section + "/" + h.name];
      row.resize(tasks.size(), "");
      row[i] = h.value;
    }
  }
  std::set<std::string> metric_keys;
  for (const auto& m : scalars) {
    for (const auto& [k, v] : m)
      metric_keys.insert(k);
  }
  auto differs = [](const std::vector<std::string>& v) {
    for (const auto& x : v) {
      if (x != v[0])
        return true;
    }
    return false;
  };
  if (json) {
    Json out{{"tasks", Json::array()}, {"parameters", Json::object()}, {"scalars", Json::object()}};
    for (const auto& t : tasks)
      out["tasks"].push_back(Json{{"id", t.id}, {"name", t.name}});
    for (auto& [k, v] : params) {
      v.resize(tasks.size());
      out["parameters"][k] = Json{{"values", v}, {"different", differs(v)}};
    }
    for (const auto& k : metric_keys) {
      Json per = Json::array();
      for (const auto& m : scalars) {
        auto it = m.find(k);
        per.push_back(it == m.end() ? Json()
                                    : Json{{"last", double_to_json(it->second.last_value)},
                                           {"min", double_to_json(it->second.min_value)},
                                           {"max", double_to_json(it->second.max_value)}});
      }
      out["scalars"][k] = per;
    }
    print_json(out);
    return {};
  }
  std::vector<std::string> header{"", "PARAMETER"};
  for (const auto& t : tasks)
    header.push_back(t.id.substr(0, 12) + " " + t.name);
  std::vector<std::vector<std::string>> rows;
  for (auto& [k, v] : params) {
    v.resize(tasks.size());
    std::vector<std::string> row{differs(v) ? "*" : "", k};
    for (const auto& x : v)
      row.push_back(x.empty() ? "-" : x);
    rows.push_back(row);
  }
  print_table(header, rows);
  std::puts("");
  header[1] = "SCALAR (last / min / max)";
  rows.clear();
  for (const auto& k : metric_keys) {
    std::vector<std::string> cells;
    for (const auto& m : scalars) {
      auto it = m.find(k);
      cells.push_back(it == m.end() ? "-"
                                    : format_number(it->second.last_value) + " / " +
                                          format_number(it->second.min_value) + " / " +
                                          format_number(it->second.max_value));
    }
    std::vector<std::string> row{differs(cells) ? "*" : "", k};
    row.insert(row.end(), cells.begin(), cells.end());
    rows.push_back(row);
  }
  print_table(header, rows);
  std::puts("\n* = differs between tasks");
  return {};
}

Status tag_task(Context& ctx, const std::string& ref, const std::vector<std::string>& changes) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string id, ctx.resolve_task(ref));
  std::vector<std::string> add, remove;
  for (const auto& c : changes) {
    if (c.size() > 1 && c[0] == '-') {
      remove.push_back(c.substr(1));
    } else if (c.size() > 1 && c[0] == '+') {
      add.push_back(c.substr(1));
    } else {
      add.push_back(c);
    }
  }
  RH_TRY_ASSIGN(Task t, store->tasks().change_tags(id, add, remove));
  std::printf("%s: %s\n", t.id.substr(0, 12).c_str(),
              t.tags.empty() ? "(no tags)" : join(t.tags, ", ").c_str());
  return {};
}

Status delete_tasks(Context& ctx, const std::vector<std::string>& refs, bool force) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  std::vector<std::string> ids;
  for (const auto& r : refs) {  // resolve all first: nothing deleted if one is wrong
    RH_TRY_ASSIGN(std::string id, ctx.resolve_task(r));
    RH_TRY_ASSIGN(Task t, store->tasks().get(id));
    if (!force && (t.status == TaskStatus::running || t.status == TaskStatus::queued)) {
      return make_error(ErrorCode::conflict, "task " + id + " is " +
                                                 std::string(to_string(t.status)) +
                                                 "; abort it first or pass --force");
    }
    ids.push_back(id);
  }
  for (const auto& id : ids) {
    RH_TRY(store->tasks().remove(id));
    std::printf("deleted %s\n", id.c_str());
  }
  return {};
}

Status artifact_get(Context& ctx, const std::string& ref, const std::string& name,
                    std::string out) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(BlobStore * blobs, ctx.blobs());
  RH_TRY_ASSIGN(std::string id, ctx.resolve_task(ref));
  RH_TRY_ASSIGN(Artifact a, store->artifacts().get(id, name));
  if (out.empty())
    out = basename_of(a.name);
  RH_TRY_ASSIGN(auto file, AtomicFile::create(out));
  Progress progress("downloading " + a.name);
  Sha256 hasher;
  uint64_t done = 0;
  CallbackSink sink([&](const char* p, size_t n) -> Status {
    hasher.update(p, n);
    done += n;
    progress.update(done, a.size);
    return file.write(p, n);
  });
  RH_TRY(blobs->get(a.digest, sink));
  std::string got = hasher.finish();
  if (got != a.digest) {
    return make_error(ErrorCode::corrupt, "downloaded " + a.name + " does not match its digest " +
                                              a.digest + " (got " + got + "); nothing written");
  }
  RH_TRY(file.commit());
  if (!::isatty(1))
    return {};
  std::printf("%s -> %s (%s)\n", a.name.c_str(), out.c_str(), format_bytes(a.size).c_str());
  return {};
}

Status artifact_put(Context& ctx, const std::string& ref, const std::string& path,
                    std::string name) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(BlobStore * blobs, ctx.blobs());
  RH_TRY_ASSIGN(std::string id, ctx.resolve_task(ref));
  if (name.empty())
    name = basename_of(path);
  Progress progress("uploading " + name);
  blobs->set_progress([&](uint64_t d, uint64_t t) { progress.update(d, t); });
  RH_TRY_ASSIGN(BlobInfo info, blobs->put_file(path, {}));
  Artifact a;
  a.name = name;
  a.digest = info.digest;
  a.size = info.size;
  a.type = "file";
  RH_TRY_ASSIGN(Artifact stored, store->artifacts().put(id, a));
  std::printf("%s %s\n", stored.name.c_str(), stored.digest.c_str());
  return {};
}

}  // namespace

void add_tasks_commands(CLI::App& app, Context& ctx) {
  auto* tasks = app.add_subcommand("tasks", "List, inspect, compare and manage tasks");
  tasks->require_subcommand(1);

  auto lf = std::make_shared<ListFlags>();
  auto* list = tasks->add_subcommand("list", "List tasks, newest first");
  list->add_option("--project", lf->project, "Only this project");
  list->add_option("--status", lf->status, "Only these statuses (repeatable)");
  list->add_option("--tag", lf->tags, "Only tasks with all these tags (repeatable)");
  list->add_option("--name", lf->name, "Only names containing this text");
  list->add_option("--sort", lf->order_by,
                   "created, name, status, started, completed, last_update or metric:TITLE/SERIES");
  list->add_flag("--asc", lf->ascending, "Ascending order");
  list->add_option("--limit", lf->limit, "At most this many (default 50)")
      ->check(CLI::Range(1, 1000));
  list->add_flag("--all", lf->all, "Every matching task");
  list->add_flag("--json", lf->json, "JSON output");
  list->callback([&ctx, lf] { guard([&] { return list_tasks(ctx, *lf); }); });

  auto id = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* show = tasks->add_subcommand("show", "Show one task");
  show->add_option("id", *id, "Task ID or unique prefix")->required();
  show->add_flag("--json", *json, "JSON output");
  show->callback([&ctx, id, json] { guard([&] { return show_task(ctx, *id, *json); }); });

  auto follow = std::make_shared<bool>(false);
  auto* logs = tasks->add_subcommand("logs", "Print a task's console");
  logs->add_option("id", *id, "Task ID or unique prefix")->required();
  logs->add_flag("-f,--follow", *follow, "Keep printing until the task ends");
  logs->callback([&ctx, id, follow] { guard([&] { return task_logs(ctx, *id, *follow); }); });

  auto csv = std::make_shared<bool>(false);
  auto* scal = tasks->add_subcommand("scalars", "Print a task's scalars");
  scal->add_option("id", *id, "Task ID or unique prefix")->required();
  auto* jf = scal->add_flag("--json", *json, "Every point as JSON");
  scal->add_flag("--csv", *csv, "Every point as CSV")->excludes(jf);
  scal->callback(
      [&ctx, id, json, csv] { guard([&] { return task_scalars(ctx, *id, *json, *csv); }); });

  auto ids = std::make_shared<std::vector<std::string>>();
  auto* cmp = tasks->add_subcommand("compare", "Parameters and scalars of tasks side by side");
  cmp->add_option("ids", *ids, "Two or more task IDs or prefixes")->required()->expected(2, 10);
  cmp->add_flag("--json", *json, "JSON output");
  cmp->callback([&ctx, ids, json] { guard([&] { return compare_tasks(ctx, *ids, *json); }); });

  auto changes = std::make_shared<std::vector<std::string>>();
  auto* tag = tasks->add_subcommand("tag", "Add (+T or T) and remove (-T) tags");
  tag->add_option("id", *id, "Task ID or unique prefix")->required();
  tag->add_option("changes", *changes, "+tag / -tag ...")->required()->allow_extra_args();
  tag->positionals_at_end();
  tag->prefix_command();
  tag->callback([&ctx, id, changes, tag] {
    std::vector<std::string> all = *changes;
    for (const auto& extra : tag->remaining())
      all.push_back(extra);
    guard([&] { return tag_task(ctx, *id, all); });
  });

  auto force = std::make_shared<bool>(false);
  auto* del = tasks->add_subcommand("delete", "Delete tasks and what they recorded");
  del->add_option("ids", *ids, "Task IDs or prefixes")->required();
  del->add_flag("--force", *force, "Also delete running or queued tasks");
  del->callback([&ctx, ids, force] { guard([&] { return delete_tasks(ctx, *ids, *force); }); });
}

void add_artifacts_commands(CLI::App& app, Context& ctx) {
  auto* art = app.add_subcommand("artifacts", "Store and fetch task artifacts");
  art->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* get = art->add_subcommand("get", "Download an artifact (digest checked)");
  get->add_option("id", *id, "Task ID or unique prefix")->required();
  get->add_option("name", *name, "Artifact name")->required();
  get->add_option("-o,--output", *out, "Where to write it (default: its base name)");
  get->callback(
      [&ctx, id, name, out] { guard([&] { return artifact_get(ctx, *id, *name, *out); }); });

  auto path = std::make_shared<std::string>();
  auto* put = art->add_subcommand("put", "Upload a file as an artifact of a task");
  put->add_option("id", *id, "Task ID or unique prefix")->required();
  put->add_option("path", *path, "File to upload")->required()->check(CLI::ExistingFile);
  put->add_option("--name", *name, "Artifact name (default: the file's base name)");
  put->callback(
      [&ctx, id, path, name] { guard([&] { return artifact_put(ctx, *id, *path, *name); }); });
}

}  // namespace rh::cli
