// SQLite parts for projects and tasks.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "roundhouse/model/json.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/sqlite/parts.h"
#include "roundhouse/util/strings.h"

namespace rh::sqlite {

namespace {

// Columns of a task summary row, in the order row_to_task reads them.
constexpr const char* k_task_columns =
    "t.id, p.name, t.name, t.type, t.status, t.status_message, t.comment, t.parent, t.tags, "
    "t.created, t.started, t.completed, t.last_update, t.script, t.environment, t.runtime";

// The sort key a listing selects after the task's columns.
constexpr int k_key_column = 16;

// A page cursor: the last row's place in the order, so the next page starts
// right after it whatever was inserted or removed meanwhile (keyset paging).
// phase 0 = the first page; a metric sort has phase 1 (tasks with the
// metric) and phase 2 (the rest, newest first). Text form "k<phase>:<id>:<key>".
struct PageCursor {
  int phase = 0;
  std::string id;
  std::string value;
};

Result<PageCursor> parse_cursor(const std::string& text) {
  PageCursor c;
  if (text.empty())
    return c;
  auto bad = [&] {
    return make_error(ErrorCode::invalid_argument, "cursor \"" + text + "\" is not valid");
  };
  if (text.size() < 4 || text[0] != 'k' || (text[1] != '1' && text[1] != '2') || text[2] != ':')
    return bad();
  auto colon = text.find(':', 3);
  if (colon == std::string::npos || !is_hex(text.substr(3, colon - 3)))
    return bad();
  c.phase = text[1] - '0';
  c.id = text.substr(3, colon - 3);
  c.value = text.substr(colon + 1);
  return c;
}

std::string encode_cursor(const PageCursor& c) {
  return "k" + std::to_string(c.phase) + ":" + c.id + ":" + c.value;
}

// A double as text that reads back to the same double.
std::string format_key(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Result<Task> row_to_task(Stmt& s) {
  Task t;
  t.id = s.text(0);
  t.project = s.text(1);
  t.name = s.text(2);
  RH_TRY_ASSIGN(t.type, parse_task_type(s.text(3)));
  RH_TRY_ASSIGN(t.status, parse_task_status(s.text(4)));
  t.status_message = s.text(5);
  t.comment = s.text(6);
  t.parent = s.text(7);
  RH_TRY_ASSIGN(Json tags, parse_json(s.text(8), "tags column"));
  RH_TRY(read_string_list(Json{{"tags", tags}}, "tags", "task", t.tags));
  t.created = s.real(9);
  t.started = s.real(10);
  t.completed = s.real(11);
  t.last_update = s.real(12);
  RH_TRY_ASSIGN(Json script, parse_json(s.text(13), "script column"));
  RH_TRY(from_json(script, "task.script", t.script));
  RH_TRY_ASSIGN(Json env, parse_json(s.text(14), "environment column"));
  RH_TRY(from_json(env, "task.environment", t.environment));
  RH_TRY_ASSIGN(Json runtime, parse_json(s.text(15), "runtime column"));
  RH_TRY(read_string_map(Json{{"runtime", runtime}}, "runtime", "task", t.runtime));
  return t;
}

std::vector<std::string> normalize_tags(std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

Status write_tags(Db& db, const std::string& id, const std::vector<std::string>& tags, double now) {
  RH_TRY_ASSIGN(Stmt * del, db.cached("DELETE FROM task_tags WHERE task_id = ?"));
  RH_TRY(del->bind(1, id).exec());
  for (const auto& tag : tags) {
    RH_TRY_ASSIGN(Stmt * ins, db.cached("INSERT INTO task_tags(task_id, tag) VALUES(?, ?)"));
    RH_TRY(ins->bind(1, id).bind(2, tag).exec());
  }
  RH_TRY_ASSIGN(Stmt * upd, db.cached("UPDATE tasks SET tags = ?, last_update = ? WHERE id = ?"));
  return upd->bind(1, Json(tags).dump()).bind(2, now).bind(3, id).exec();
}

Status upsert_params(Db& db, const std::string& id, const std::vector<Hyperparameter>& params) {
  for (const auto& h : params) {
    RH_TRY_ASSIGN(Stmt * s,
                  db.cached("INSERT INTO hyperparameters(task_id, section, name, value, type, "
                            "description) VALUES(?,?,?,?,?,?) ON CONFLICT(task_id, section, "
                            "name) DO UPDATE SET value = excluded.value, type = excluded.type, "
                            "description = excluded.description"));
    RH_TRY(s->bind(1, id)
               .bind(2, h.section)
               .bind(3, h.name)
               .bind(4, h.value)
               .bind(5, h.type)
               .bind(6, h.description)
               .exec());
  }
  return {};
}

Status upsert_config(Db& db, const std::string& id, const Configuration& c) {
  RH_TRY_ASSIGN(Stmt * s, db.cached("INSERT INTO configurations(task_id, name, value, description) "
                                    "VALUES(?,?,?,?) ON CONFLICT(task_id, name) DO UPDATE SET "
                                    "value = excluded.value, description = excluded.description"));
  return s->bind(1, id).bind(2, c.name).bind(3, c.value).bind(4, c.description).exec();
}

Status require_editable(Db& db, const std::string& id, const char* what) {
  RH_TRY_ASSIGN(std::string st, task_status(db, id));
  RH_TRY_ASSIGN(TaskStatus status, parse_task_status(st));
  if (!is_editable(status)) {
    return make_error(ErrorCode::conflict, std::string("cannot change the ") + what + " of task " +
                                               id + ": it is " + st +
                                               " (only created or running tasks are editable)");
  }
  return {};
}

class SqliteProjects final : public ProjectStore {
 public:
  explicit SqliteProjects(Shared& s) : m_s(s) {}

  Result<std::vector<Project>> list() override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT p.id, p.name, p.description, p.created, "
                                      "(SELECT count(*) FROM tasks t WHERE t.project_id = p.id) "
                                      "FROM projects p ORDER BY p.name"));
    std::vector<Project> out;
    RH_TRY(s.each_row([&] {
      out.push_back(Project{s.text(0), s.text(1), s.text(2), s.real(3), s.int64(4)});
    }));
    return out;
  }

  Result<Project> get(const std::string& name) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT p.id, p.name, p.description, p.created, "
                                      "(SELECT count(*) FROM tasks t WHERE t.project_id = p.id) "
                                      "FROM projects p WHERE p.name = ?"));
    s.bind(1, name);
    RH_TRY_ASSIGN(bool row, s.step());
    if (!row)
      return make_error(ErrorCode::not_found, "no project named \"" + name + "\"");
    return Project{s.text(0), s.text(1), s.text(2), s.real(3), s.int64(4)};
  }

  Result<Project> ensure(const std::string& name, const std::string& description) override {
    RH_TRY(validate_name("project", name));
    RH_TRY(validate_text("project description", description));
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(ensure_project_in_tx(db, m_s.env, name, description));
      return {};
    }));
    return get(name);
  }

 private:
  Shared& m_s;
};

class SqliteTasks final : public TaskStore {
 public:
  explicit SqliteTasks(Shared& s) : m_s(s) {}

  Result<Task> create(const NewTask& in) override {
    RH_TRY(validate_new_task(in));
    std::string id = m_s.env.new_id();
    auto tags = normalize_tags(in.tags);
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      double now = m_s.env.now();
      RH_TRY_ASSIGN(std::string project_id, ensure_project_in_tx(db, m_s.env, in.project, ""));
      if (!in.parent.empty()) {
        RH_TRY_ASSIGN(std::string parent_status, task_status(db, in.parent));
        (void)parent_status;
      }
      RH_TRY_ASSIGN(Stmt * s,
                    db.cached("INSERT INTO tasks(id, project_id, name, type, status, comment, "
                              "parent, tags, created, last_update, script, environment) "
                              "VALUES(?,?,?,?,'created',?,?,?,?,?,?,?)"));
      RH_TRY(s->bind(1, id)
                 .bind(2, project_id)
                 .bind(3, in.name)
                 .bind(4, to_string(in.type))
                 .bind(5, in.comment)
                 .bind(6, in.parent)
                 .bind(7, Json(tags).dump())
                 .bind(8, now)
                 .bind(9, now)
                 .bind(10, to_json(in.script).dump())
                 .bind(11, to_json(in.environment).dump())
                 .exec());
      RH_TRY(write_tags(db, id, tags, now));
      RH_TRY(upsert_params(db, id, in.hyperparameters));
      for (const auto& c : in.configurations)
        RH_TRY(upsert_config(db, id, c));
      return {};
    }));
    return get(id);
  }

  Result<Task> get(const std::string& id) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare(std::string("SELECT ") + k_task_columns +
                                      " FROM tasks t JOIN projects p ON p.id = t.project_id "
                                      "WHERE t.id = ?"));
    s.bind(1, id);
    RH_TRY_ASSIGN(bool row, s.step());
    if (!row)
      return std::unexpected(task_not_found(id));
    RH_TRY_ASSIGN(Task t, row_to_task(s));
    RH_TRY_ASSIGN(Stmt hp, db->prepare("SELECT section, name, value, type, description FROM "
                                       "hyperparameters WHERE task_id = ? ORDER BY section, name"));
    hp.bind(1, id);
    RH_TRY(hp.each_row([&] {
      t.hyperparameters.push_back(
          Hyperparameter{hp.text(0), hp.text(1), hp.text(2), hp.text(3), hp.text(4)});
    }));
    RH_TRY_ASSIGN(Stmt cf, db->prepare("SELECT name, value, description FROM configurations "
                                       "WHERE task_id = ? ORDER BY name"));
    cf.bind(1, id);
    RH_TRY(cf.each_row([&] {
      t.configurations.push_back(Configuration{cf.text(0), cf.text(1), cf.text(2)});
    }));
    return t;
  }

  Result<std::string> resolve(const std::string& prefix) override {
    if (prefix.empty() || prefix.size() > 32 || !is_hex(prefix)) {
      return make_error(ErrorCode::invalid_argument,
                        "\"" + prefix + "\" is not a task ID or ID prefix (lowercase hex)");
    }
    if (prefix.size() < 4) {
      return make_error(ErrorCode::invalid_argument,
                        "task ID prefix \"" + prefix + "\" is too short; give at least 4 digits");
    }
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s,
                  db->prepare("SELECT id FROM tasks WHERE id >= ? AND id < ? ORDER BY id LIMIT 3"));
    s.bind(1, prefix).bind(2, prefix + "g");
    std::vector<std::string> hits;
    RH_TRY(s.each_row([&] { hits.push_back(s.text(0)); }));
    if (hits.empty())
      return make_error(ErrorCode::not_found, "no task ID starts with " + prefix);
    if (hits.size() > 1) {
      return make_error(ErrorCode::ambiguous,
                        "task ID prefix " + prefix + " is ambiguous: " + join(hits, ", ") +
                            (hits.size() > 2 ? ", ..." : "") + "; give more digits");
    }
    return hits[0];
  }

  static Status add_filter(const TaskFilter& f, std::string& where,
                           std::vector<std::string>& binds) {
    static const char* ops[] = {"=", "!=", "<", "<=", ">", ">=", "~"};
    if (std::find_if(std::begin(ops), std::end(ops), [&](const char* o) { return f.op == o; }) ==
        std::end(ops)) {
      return make_error(ErrorCode::invalid_argument,
                        "filter operator \"" + f.op + "\" is not one of = != < <= > >= ~");
    }
    bool numeric = parse_double(f.value).has_value();
    binds.push_back(f.group);
    binds.push_back(f.key);
    binds.push_back(f.value);
    if (f.kind == TaskFilter::Kind::metric) {
      if (!numeric || f.op == "~") {
        return make_error(ErrorCode::invalid_argument,
                          "filter " + to_string(f) + ": a metric is compared with a number");
      }
      // One lookup per candidate task: without the hint SQLite walks the
      // (title, series, last_value) index for every row of the outer scan.
      where +=
          " AND EXISTS (SELECT 1 FROM series_latest f INDEXED BY series_latest_task WHERE "
          "f.task_id = t.id AND f.title = ? AND f.series = ? AND f.last_value " +
          f.op + " CAST(? AS REAL))";
      return {};
    }
    std::string test;
    if (f.op == "~")
      test = "instr(h.value, ?) > 0";
    else if (numeric)  // numbers compare as numbers: 0.010 = 0.01, 9 < 10
      test = "h.value GLOB '*[0-9]*' AND CAST(h.value AS REAL) " + f.op + " CAST(? AS REAL)";
    else
      test = "h.value " + f.op + " ?";
    where +=
        " AND EXISTS (SELECT 1 FROM hyperparameters h WHERE h.task_id = t.id AND h.section = "
        "? AND h.name = ? AND " +
        test + ")";
    return {};
  }

  // Fills the extra columns asked for: primary-key lookups, a handful per row.
  static Status add_columns(Db& db, const TaskQuery& q, std::vector<Task>& tasks) {
    if (!q.with_params.empty()) {
      RH_TRY_ASSIGN(Stmt s, db.prepare("SELECT value, type, description FROM hyperparameters "
                                       "WHERE task_id = ? AND section = ? AND name = ?"));
      for (auto& t : tasks) {
        for (const auto& [section, name] : q.with_params) {
          s.reset();
          s.bind(1, t.id).bind(2, section).bind(3, name);
          RH_TRY_ASSIGN(bool row, s.step());
          if (row)
            t.hyperparameters.push_back(
                Hyperparameter{section, name, s.text(0), s.text(1), s.text(2)});
        }
      }
    }
    if (!q.with_metrics.empty()) {
      RH_TRY_ASSIGN(Stmt s, db.prepare("SELECT count, last_step, last_value, last_time, min_value, "
                                       "max_value FROM series_latest WHERE task_id = ? AND "
                                       "title = ? AND series = ?"));
      auto nan_or = [&](int col) {
        return s.is_null(col) ? std::numeric_limits<double>::quiet_NaN() : s.real(col);
      };
      for (auto& t : tasks) {
        for (const auto& [title, series] : q.with_metrics) {
          s.reset();
          s.bind(1, t.id).bind(2, title).bind(3, series);
          RH_TRY_ASSIGN(bool row, s.step());
          if (row) {
            t.metrics.push_back(SeriesSummary{title, series, s.int64(0), s.int64(1), nan_or(2),
                                              s.real(3), nan_or(4), nan_or(5)});
          }
        }
      }
    }
    return {};
  }

  Result<TaskPage> list(const TaskQuery& q) override {
    if (q.limit < 1 || q.limit > 1000) {
      return make_error(ErrorCode::invalid_argument, "limit must be between 1 and 1000");
    }
    RH_TRY_ASSIGN(PageCursor cursor, parse_cursor(q.cursor));
    // Filters shared by both phases of a metric sort.
    std::string where = " WHERE 1=1";
    std::vector<std::string> binds;
    if (q.project) {
      where += " AND t.project_id = (SELECT id FROM projects WHERE name = ?)";
      binds.push_back(*q.project);
    }
    if (!q.statuses.empty()) {
      where += " AND t.status IN (";
      for (size_t i = 0; i < q.statuses.size(); ++i) {
        where += i ? ",?" : "?";
        binds.emplace_back(to_string(q.statuses[i]));
      }
      where += ")";
    }
    for (const auto& tag : q.tags) {
      where += " AND EXISTS (SELECT 1 FROM task_tags g WHERE g.task_id = t.id AND g.tag = ?)";
      binds.push_back(tag);
    }
    if (q.name_contains) {
      where += " AND instr(t.name, ?) > 0";
      binds.push_back(*q.name_contains);
    }
    if (q.parent) {
      where += " AND t.parent = ?";
      binds.push_back(*q.parent);
    }
    for (const auto& f : q.filters) {
      RH_TRY(add_filter(f, where, binds));
    }
    const char* dir = q.descending ? "DESC" : "ASC";
    // The task's columns, then the sort key (k_key_column).
    auto select = [](const std::string& key) {
      return std::string("SELECT ") + k_task_columns + ", " + key +
             " FROM tasks t JOIN projects p ON p.id = t.project_id";
    };

    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    TaskPage page;
    // Each row's place in the order (phase, sort value), for the next cursor.
    std::vector<std::pair<int, std::string>> keys;
    const char* cmp = q.descending ? "<" : ">";
    // Runs one phase: the filters, then (after the cursor's row) the keyset
    // condition, ordered by (key, id). `numeric` says how the key binds.
    auto run = [&](const std::string& sql, const std::vector<std::string>& extra_front,
                   const std::vector<std::string>& extra_back, bool after, bool numeric,
                   int64_t limit, int phase) -> Status {
      RH_TRY_ASSIGN(Stmt st, db->prepare(sql));
      int i = 1;
      for (const auto& v : extra_front)
        st.bind(i++, v);
      for (const auto& v : binds)
        st.bind(i++, v);
      for (const auto& v : extra_back)
        st.bind(i++, v);
      if (after) {
        if (numeric)
          st.bind(i++, parse_double(cursor.value).value_or(0.0));
        else
          st.bind(i++, cursor.value);
        st.bind(i++, cursor.id);
      }
      st.bind(i, limit);
      RH_TRY(st.each_row([&]() -> Status {
        RH_TRY_ASSIGN(Task t, row_to_task(st));
        keys.emplace_back(phase,
                          numeric ? format_key(st.real(k_key_column)) : st.text(k_key_column));
        page.tasks.push_back(std::move(t));
        return {};
      }));
      return {};
    };

    if (q.order_by.starts_with("metric:")) {
      std::string key = q.order_by.substr(7);
      auto slash = key.find('/');
      if (slash == std::string::npos) {
        return make_error(ErrorCode::invalid_argument,
                          "order_by metric must be \"metric:<title>/<series>\"");
      }
      std::vector<std::string> metric{key.substr(0, slash), key.substr(slash + 1)};
      // Phase 1: tasks with the metric, in index order of its last value.
      if (cursor.phase <= 1) {
        std::string sql1 =
            select("sl.last_value") +
            " JOIN series_latest sl ON sl.task_id = t.id AND sl.title = ? AND "
            "sl.series = ? AND sl.last_value IS NOT NULL" +
            where +
            (cursor.phase == 1 ? std::string(" AND (sl.last_value, sl.task_id) ") + cmp + " (?, ?)"
                               : "") +
            " ORDER BY sl.last_value " + dir + ", sl.task_id " + dir + " LIMIT ?";
        RH_TRY(run(sql1, metric, {}, cursor.phase == 1, true, q.limit + 1, 1));
      }
      if (static_cast<int>(page.tasks.size()) <= q.limit) {
        // Phase 2: the tasks without it, newest first.
        std::string sql2 = select("t.created") + where +
                           " AND NOT EXISTS (SELECT 1 FROM series_latest sl WHERE sl.task_id = "
                           "t.id AND sl.title = ? AND sl.series = ? AND sl.last_value IS NOT "
                           "NULL)" +
                           (cursor.phase == 2 ? " AND (t.created, t.id) < (?, ?)" : "") +
                           " ORDER BY t.created DESC, t.id DESC LIMIT ?";
        int64_t want = q.limit + 1 - static_cast<int64_t>(page.tasks.size());
        RH_TRY(run(sql2, {}, metric, cursor.phase == 2, true, want, 2));
      }
    } else {
      static const char* columns[][2] = {
          {"created", "t.created"}, {"name", "t.name"},           {"status", "t.status"},
          {"started", "t.started"}, {"completed", "t.completed"}, {"last_update", "t.last_update"}};
      const char* col = nullptr;
      for (auto& c : columns) {
        if (q.order_by == c[0])
          col = c[1];
      }
      if (!col) {
        return make_error(ErrorCode::invalid_argument,
                          "cannot order by \"" + q.order_by +
                              "\" (use created, name, status, started, completed, last_update or "
                              "metric:<title>/<series>)");
      }
      bool numeric = q.order_by != "name" && q.order_by != "status";
      if (cursor.phase > 1)
        return make_error(ErrorCode::invalid_argument, "cursor \"" + q.cursor + "\" is not valid");
      std::string sql =
          select(col) + where +
          (cursor.phase == 1 ? std::string(" AND (") + col + ", t.id) " + cmp + " (?, ?)" : "") +
          " ORDER BY " + col + " " + dir + ", t.id " + dir + " LIMIT ?";
      RH_TRY(run(sql, {}, {}, cursor.phase == 1, numeric, q.limit + 1, 1));
    }
    if (static_cast<int>(page.tasks.size()) > q.limit) {
      page.tasks.resize(static_cast<size_t>(q.limit));
      const auto& [phase, value] = keys[static_cast<size_t>(q.limit) - 1];
      page.next_cursor = encode_cursor({phase, page.tasks.back().id, value});
    }
    RH_TRY(add_columns(*db, q, page.tasks));
    return page;
  }

  Result<TaskKeys> keys(const std::optional<std::string>& project) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    // The newest tasks stand for the rest: a bounded scan however many tasks exist.
    std::string newest = project ? "SELECT t.id FROM tasks t WHERE t.project_id = (SELECT id FROM "
                                   "projects WHERE name = ?1) ORDER BY t.created DESC LIMIT 2000"
                                 : "SELECT t.id FROM tasks t ORDER BY t.created DESC LIMIT 2000";
    TaskKeys out;
    auto collect = [&](const std::string& sql,
                       std::vector<std::pair<std::string, std::string>>& into) -> Status {
      RH_TRY_ASSIGN(Stmt s, db->prepare(sql));
      if (project)
        s.bind(1, *project);
      return s.each_row([&] { into.emplace_back(s.text(0), s.text(1)); });
    };
    RH_TRY(collect("SELECT DISTINCT section, name FROM hyperparameters WHERE task_id IN (" +
                       newest + ") ORDER BY section, name LIMIT 5000",
                   out.params));
    RH_TRY(collect("SELECT DISTINCT title, series FROM series_latest WHERE task_id IN (" + newest +
                       ") ORDER BY title, series LIMIT 5000",
                   out.metrics));
    return out;
  }

  Result<Task> update(const std::string& id, const TaskPatch& p) override {
    if (p.name)
      RH_TRY(validate_name("task name", *p.name, 1024));
    if (p.comment)
      RH_TRY(validate_text("comment", *p.comment));
    if (p.script)
      RH_TRY(validate_text("script.diff", p.script->diff));
    if (p.runtime) {
      for (const auto& [k, v] : *p.runtime) {
        RH_TRY(validate_name("runtime key", k));
        RH_TRY(validate_text("runtime." + k, v));
      }
    }
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      double now = m_s.env.now();
      RH_TRY(task_status(db, id));
      if (p.script || p.environment)
        RH_TRY(require_editable(db, id, "code or environment"));
      auto set = [&](const char* sql, const std::string& v) -> Status {
        RH_TRY_ASSIGN(Stmt s, db.prepare(sql));
        return s.bind(1, v).bind(2, now).bind(3, id).exec();
      };
      if (p.name)
        RH_TRY(set("UPDATE tasks SET name = ?, last_update = ? WHERE id = ?", *p.name));
      if (p.comment) {
        RH_TRY(set("UPDATE tasks SET comment = ?, last_update = ? WHERE id = ?", *p.comment));
      }
      if (p.script) {
        RH_TRY(set("UPDATE tasks SET script = ?, last_update = ? WHERE id = ?",
                   to_json(*p.script).dump()));
      }
      if (p.environment) {
        RH_TRY(set("UPDATE tasks SET environment = ?, last_update = ? WHERE id = ?",
                   to_json(*p.environment).dump()));
      }
      if (p.runtime) {
        // json_patch merges key by key inside the transaction.
        RH_TRY(
            set("UPDATE tasks SET runtime = json_patch(runtime, ?), last_update = ? WHERE id = ?",
                string_map_to_json(*p.runtime).dump()));
      }
      return {};
    }));
    return get(id);
  }

  Result<Task> set_status(const std::string& id, TaskStatus to,
                          const std::string& message) override {
    RH_TRY(validate_text("status message", message));
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(std::string cur, task_status(db, id));
      RH_TRY_ASSIGN(TaskStatus from, parse_task_status(cur));
      if (!is_legal_transition(from, to)) {
        return make_error(ErrorCode::conflict, "task " + id + " cannot go from " + cur + " to " +
                                                   std::string(to_string(to)));
      }
      if (to == TaskStatus::queued) {
        return make_error(ErrorCode::conflict,
                          "task " + id +
                              ": a task enters a queue by being enqueued (POST "
                              "/api/v1/tasks/{id}/enqueue), not by a status change");
      }
      if (from == TaskStatus::queued) {  // leaving its queue: its entry goes too
        RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM queue_entries WHERE task_id = ?"));
        RH_TRY(d.bind(1, id).exec());
      }
      return set_status_in_tx(db, id, to, message, m_s.env.now());
    }));
    return get(id);
  }

  Result<Task> change_tags(const std::string& id, const std::vector<std::string>& add,
                           const std::vector<std::string>& remove) override {
    for (const auto& t : add)
      RH_TRY(validate_tag(t));
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, id));
      RH_TRY_ASSIGN(Stmt s, db.prepare("SELECT tag FROM task_tags WHERE task_id = ?"));
      s.bind(1, id);
      std::vector<std::string> tags;
      RH_TRY(s.each_row([&] { tags.push_back(s.text(0)); }));
      for (const auto& t : add)
        tags.push_back(t);
      std::erase_if(tags, [&](const std::string& t) {
        return std::find(remove.begin(), remove.end(), t) != remove.end();
      });
      return write_tags(db, id, normalize_tags(tags), m_s.env.now());
    }));
    return get(id);
  }

  Status set_hyperparameters(const std::string& id, const std::vector<Hyperparameter>& params,
                             bool replace_sections) override {
    for (const auto& h : params)
      RH_TRY(validate_hyperparameter(h));
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(require_editable(db, id, "hyperparameters"));
      if (replace_sections) {
        for (const auto& h : params) {
          RH_TRY_ASSIGN(Stmt * s,
                        db.cached("DELETE FROM hyperparameters WHERE task_id = ? AND section = ?"));
          RH_TRY(s->bind(1, id).bind(2, h.section).exec());
        }
      }
      RH_TRY(upsert_params(db, id, params));
      RH_TRY_ASSIGN(Stmt * t, db.cached("UPDATE tasks SET last_update = ? WHERE id = ?"));
      return t->bind(1, m_s.env.now()).bind(2, id).exec();
    });
  }

  Status set_configuration(const std::string& id, const Configuration& c) override {
    RH_TRY(validate_name("configuration name", c.name));
    RH_TRY(validate_text("configuration " + c.name, c.value));
    RH_TRY(validate_text("description of configuration " + c.name, c.description));
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(require_editable(db, id, "configurations"));
      RH_TRY(upsert_config(db, id, c));
      RH_TRY_ASSIGN(Stmt * t, db.cached("UPDATE tasks SET last_update = ? WHERE id = ?"));
      return t->bind(1, m_s.env.now()).bind(2, id).exec();
    });
  }

  Status remove(const std::string& id) override {
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, id));
      RH_TRY(note_orphans_in_tx(db, id, nullptr, m_s.env.now()));
      RH_TRY_ASSIGN(Stmt s, db.prepare("DELETE FROM tasks WHERE id = ?"));
      return s.bind(1, id).exec();
    });
  }

 private:
  Shared& m_s;
};

}  // namespace

Result<std::string> ensure_project_in_tx(Db& db, Env& env, const std::string& name,
                                         const std::string& description) {
  RH_TRY_ASSIGN(Stmt * s, db.cached("SELECT id FROM projects WHERE name = ?"));
  s->bind(1, name);
  RH_TRY_ASSIGN(bool row, s->step());
  if (row)
    return s->text(0);
  std::string id = env.new_id();
  RH_TRY_ASSIGN(Stmt * ins, db.cached("INSERT INTO projects(id, name, description, created) "
                                      "VALUES(?,?,?,?)"));
  RH_TRY(ins->bind(1, id).bind(2, name).bind(3, description).bind(4, env.now()).exec());
  return id;
}

std::unique_ptr<ProjectStore> make_project_part(Shared& s) {
  return std::make_unique<SqliteProjects>(s);
}
std::unique_ptr<TaskStore> make_task_part(Shared& s) {
  return std::make_unique<SqliteTasks>(s);
}

}  // namespace rh::sqlite
