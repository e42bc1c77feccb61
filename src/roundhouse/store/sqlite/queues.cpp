// SQLite part for queues, their waiting tasks and the workers serving them.
// Every change of a task's status here happens in the same write as the
// change of its queue entry, so a task is never queued without an entry nor
// taken twice (the single writer serialises takes).
#include <cctype>
#include <nlohmann/json.hpp>

#include "roundhouse/model/json.h"
#include "roundhouse/model/slots.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/sqlite/parts.h"
#include "roundhouse/util/strings.h"

namespace rh::sqlite {

Status merge_runtime_in_tx(Db& db, const std::string& task_id,
                           const std::map<std::string, std::string>& facts) {
  RH_TRY_ASSIGN(Stmt * s,
                db.cached("UPDATE tasks SET runtime = json_patch(runtime, ?) WHERE id = ?"));
  return s->bind(1, string_map_to_json(facts).dump()).bind(2, task_id).exec();
}

Status set_status_in_tx(Db& db, const std::string& id, TaskStatus to, const std::string& message,
                        double now) {
  RH_TRY_ASSIGN(Stmt * s,
                db.cached("UPDATE tasks SET status = ?, status_message = ?, last_update = ?, "
                          "started = CASE WHEN ? AND started = 0 THEN ? ELSE started END, "
                          "completed = CASE WHEN ? THEN ? ELSE completed END WHERE id = ?"));
  return s->bind(1, to_string(to))
      .bind(2, message)
      .bind(3, now)
      .bind(4, int64_t{to == TaskStatus::running})
      .bind(5, now)
      .bind(6, int64_t{is_final(to)})
      .bind(7, now)
      .bind(8, id)
      .exec();
}

namespace {

// Queue and worker names travel in URL paths: letters, digits and . _ - (and : @ for
// workers, whose default name is host:pid), 1 to 64 of them.
Status validate_token(const char* what, const std::string& name, std::string_view extra) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
                extra.find(c) != std::string_view::npos);
  }
  if (!ok) {
    return make_error(ErrorCode::invalid_argument,
                      std::string(what) + " \"" + name + "\" must be 1-64 letters, digits, . _ -" +
                          (extra.empty() ? "" : " " + std::string(extra)));
  }
  return {};
}

Result<std::string> queue_id_in(Db& db, const std::string& name) {
  RH_TRY_ASSIGN(Stmt * s, db.cached("SELECT id FROM queues WHERE name = ?"));
  s->bind(1, name);
  RH_TRY_ASSIGN(bool row, s->step());
  std::string id = row ? s->text(0) : "";
  s->reset();
  if (!row)
    return make_error(ErrorCode::not_found, "no queue named \"" + name + "\"");
  return id;
}

class SqliteQueues final : public QueueStore {
 public:
  SqliteQueues(Shared& s, TaskStore& tasks) : m_s(s), m_tasks(tasks) {}

  Result<Queue> create(const std::string& name, bool requeue_on_lost) override {
    RH_TRY(validate_token("queue name", name, ""));
    std::string id = m_s.env.new_id();
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(Stmt s, db.prepare("INSERT INTO queues(id, name, created, requeue_on_lost) "
                                       "VALUES (?, ?, ?, ?) ON CONFLICT(name) DO NOTHING"));
      RH_TRY(s.bind(1, id)
                 .bind(2, name)
                 .bind(3, m_s.env.now())
                 .bind(4, int64_t{requeue_on_lost})
                 .exec());
      if (db.changes() == 0)
        return make_error(ErrorCode::already_exists, "queue \"" + name + "\" already exists");
      return {};
    }));
    return get(name);
  }

  Result<std::vector<Queue>> list() override { return select("", ""); }

  Result<Queue> get(const std::string& name) override {
    RH_TRY_ASSIGN(auto qs, select(" WHERE q.name = ?", name));
    if (qs.empty())
      return make_error(ErrorCode::not_found, "no queue named \"" + name + "\"");
    return qs[0];
  }

  Status remove(const std::string& name) override {
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(std::string qid, queue_id_in(db, name));
      RH_TRY_ASSIGN(Stmt c, db.prepare("SELECT count(*) FROM queue_entries WHERE queue_id = ?"));
      c.bind(1, qid);
      RH_TRY(c.step());
      if (int64_t n = c.int64(0); n > 0) {
        return make_error(ErrorCode::conflict, "queue \"" + name + "\" has " + std::to_string(n) +
                                                   " waiting task(s); dequeue them first");
      }
      RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM queues WHERE id = ?"));
      return d.bind(1, qid).exec();
    });
  }

  Result<Task> enqueue(const std::string& task_id, const std::string& queue,
                       int64_t priority) override {
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(std::string qid, queue_id_in(db, queue));
      RH_TRY_ASSIGN(std::string cur, task_status(db, task_id));
      if (cur != "created" && cur != "paused") {
        return make_error(ErrorCode::conflict, "task " + task_id + " is " + cur +
                                                   "; only a draft (created) or paused task can "
                                                   "be enqueued (clone it to run it again)");
      }
      double now = m_s.env.now();
      RH_TRY_ASSIGN(Stmt ins, db.prepare("INSERT INTO queue_entries(task_id, queue_id, priority, "
                                         "enqueued, seq) VALUES (?, ?, ?, ?, (SELECT "
                                         "coalesce(max(seq), 0) + 1 FROM queue_entries))"));
      RH_TRY(ins.bind(1, task_id).bind(2, qid).bind(3, priority).bind(4, now).exec());
      RH_TRY(set_status_in_tx(db, task_id, TaskStatus::queued, "", now));
      return merge_runtime_in_tx(
          db, task_id,
          {{"queue", queue}, {"priority", std::to_string(priority)}, {"enqueued", fmt_time(now)}});
    }));
    return m_tasks.get(task_id);
  }

  Result<Task> dequeue(const std::string& task_id) override {
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(std::string cur, task_status(db, task_id));
      if (cur != "queued")
        return make_error(ErrorCode::conflict, "task " + task_id + " is " + cur + ", not queued");
      RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM queue_entries WHERE task_id = ?"));
      RH_TRY(d.bind(1, task_id).exec());
      return set_status_in_tx(db, task_id, TaskStatus::created, "dequeued", m_s.env.now());
    }));
    return m_tasks.get(task_id);
  }

  Result<std::vector<QueueEntry>> entries(const std::string& queue, int limit) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(std::string qid, queue_id_in(*db, queue));
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT e.task_id, t.name, e.priority, e.enqueued FROM "
                                      "queue_entries e JOIN tasks t ON t.id = e.task_id WHERE "
                                      "e.queue_id = ? ORDER BY e.priority DESC, e.enqueued, e.seq "
                                      "LIMIT ?"));
    s.bind(1, qid).bind(2, int64_t{limit});
    std::vector<QueueEntry> out;
    RH_TRY(s.each_row([&] {
      out.push_back(QueueEntry{s.text(0), s.text(1), s.int64(2), s.real(3)});
    }));
    return out;
  }

  Result<std::optional<Task>> take(const std::vector<std::string>& queues,
                                   const std::string& worker) override {
    if (queues.empty())
      return make_error(ErrorCode::invalid_argument, "take needs at least one queue");
    RH_TRY(validate_token("worker name", worker, ":@"));
    std::string taken;
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      taken.clear();
      // The worker's slots (model/slots.h): a task asking more stays for
      // another worker; the next one this worker can run is taken instead.
      int64_t slots = 1;
      RH_TRY_ASSIGN(Stmt * g, db.cached("SELECT gpus FROM workers WHERE name = ?"));
      g->bind(1, worker);
      RH_TRY_ASSIGN(bool known, g->step());
      if (known)
        slots = offered_slots(g->text(0));
      g->reset();
      for (const auto& q : queues) {
        RH_TRY_ASSIGN(std::string qid, queue_id_in(db, q));
        RH_TRY_ASSIGN(Stmt * s,
                      db.cached("SELECT e.task_id FROM queue_entries e JOIN tasks t ON t.id = "
                                "e.task_id WHERE e.queue_id = ? AND CAST(COALESCE(json_extract("
                                "t.runtime, '$.slots'), '0') AS INTEGER) <= ? "
                                "ORDER BY e.priority DESC, e.enqueued, e.seq LIMIT 1"));
        s->bind(1, qid).bind(2, slots);
        RH_TRY_ASSIGN(bool row, s->step());
        if (row)
          taken = s->text(0);
        s->reset();
        if (!taken.empty())
          break;
      }
      if (taken.empty())
        return {};
      double now = m_s.env.now();
      RH_TRY_ASSIGN(Stmt * d, db.cached("DELETE FROM queue_entries WHERE task_id = ?"));
      RH_TRY(d->bind(1, taken).exec());
      RH_TRY(set_status_in_tx(db, taken, TaskStatus::running, "", now));
      RH_TRY(merge_runtime_in_tx(db, taken, {{"worker", worker}}));
      RH_TRY_ASSIGN(Stmt * w, db.cached("UPDATE workers SET task_id = ? WHERE name = ?"));
      return w->bind(1, taken).bind(2, worker).exec();
    }));
    if (taken.empty())
      return std::optional<Task>{};
    RH_TRY_ASSIGN(Task t, m_tasks.get(taken));
    return std::optional<Task>{std::move(t)};
  }

  Status heartbeat(const Worker& w) override {
    RH_TRY(validate_token("worker name", w.name, ":@"));
    for (const auto& q : w.queues)
      RH_TRY(validate_token("queue name", q, ""));
    RH_TRY(validate_text("worker host", w.host));
    RH_TRY(validate_text("worker gpus", w.gpus));
    return m_s.writer->run([&](Db& db) -> Status {
      double now = m_s.env.now();
      RH_TRY_ASSIGN(Stmt * s,
                    db.cached("INSERT INTO workers(name, host, queues, gpus, task_id, registered, "
                              "last_heartbeat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON "
                              "CONFLICT(name) DO UPDATE SET host = ?2, queues = ?3, gpus = ?4, "
                              "task_id = ?5, last_heartbeat = ?6"));
      return s->bind(1, w.name)
          .bind(2, w.host)
          .bind(3, Json(w.queues).dump())
          .bind(4, w.gpus)
          .bind(5, w.task_id)
          .bind(6, now)
          .exec();
    });
  }

  Result<std::vector<Worker>> workers() override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT name, host, queues, gpus, task_id, registered, "
                                      "last_heartbeat FROM workers ORDER BY name"));
    std::vector<Worker> out;
    RH_TRY(s.each_row([&]() -> Status {
      Worker w{s.text(0), s.text(1), {}, s.text(3), s.text(4), s.real(5), s.real(6)};
      RH_TRY_ASSIGN(Json q, parse_json(s.text(2), "workers.queues"));
      RH_TRY(read_string_list(Json{{"queues", q}}, "queues", "worker", w.queues));
      out.push_back(std::move(w));
      return {};
    }));
    return out;
  }

  Status unregister(const std::string& worker) override {
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(Stmt s, db.prepare("DELETE FROM workers WHERE name = ?"));
      return s.bind(1, worker).exec();
    });
  }

  Result<std::vector<LostTask>> reap_workers(double cutoff) override {
    std::vector<LostTask> lost;
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      lost.clear();
      RH_TRY_ASSIGN(Stmt s, db.prepare("SELECT name, task_id, last_heartbeat FROM workers WHERE "
                                       "last_heartbeat < ?"));
      s.bind(1, cutoff);
      std::vector<std::tuple<std::string, std::string, double>> gone;
      RH_TRY(s.each_row([&] { gone.emplace_back(s.text(0), s.text(1), s.real(2)); }));
      double now = m_s.env.now();
      // Also tasks running under a worker no longer registered (it stopped, or
      // vanished while its take was being answered) and silent since cutoff.
      RH_TRY_ASSIGN(Stmt orphans,
                    db.prepare("SELECT id, json_extract(runtime, '$.worker'), last_update FROM "
                               "tasks WHERE status = 'running' AND json_extract(runtime, "
                               "'$.worker') IS NOT NULL AND last_update < ? AND "
                               "json_extract(runtime, '$.worker') NOT IN (SELECT name FROM "
                               "workers)"));
      orphans.bind(1, cutoff);
      RH_TRY(orphans.each_row(
          [&] { gone.emplace_back(orphans.text(1), orphans.text(0), orphans.real(2)); }));
      for (const auto& [name, task_id, last] : gone) {
        RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM workers WHERE name = ?"));
        RH_TRY(d.bind(1, name).exec());
        if (task_id.empty())
          continue;
        // Only a task still running on that worker: it may have finished meanwhile.
        RH_TRY_ASSIGN(Stmt t,
                      db.prepare("SELECT t.status, json_extract(t.runtime, '$.worker'), "
                                 "json_extract(t.runtime, '$.queue'), "
                                 "json_extract(t.runtime, '$.priority'), q.id, "
                                 "q.requeue_on_lost, json_extract(t.runtime, '$.kind') FROM "
                                 "tasks t LEFT JOIN queues q ON "
                                 "q.name = json_extract(t.runtime, '$.queue') WHERE t.id = ?"));
        t.bind(1, task_id);
        RH_TRY_ASSIGN(bool row, t.step());
        if (!row || t.text(0) != "running" || t.text(1) != name)
          continue;
        std::string reason = "agent " + name + " stopped sending heartbeats (the last came " +
                             std::to_string(static_cast<int64_t>(now - last)) + " s before)";
        if (!t.is_null(6) && t.text(6) == "trial") {
          RH_TRY(set_status_in_tx(db, task_id, TaskStatus::paused,
                                  reason + "; its experiment resumes it from its latest checkpoint",
                                  now));
          lost.push_back(LostTask{task_id, name, TaskStatus::paused});
        } else if (!t.is_null(4) && t.int64(5) != 0) {
          RH_TRY_ASSIGN(Stmt ins, db.prepare("INSERT INTO queue_entries(task_id, queue_id, "
                                             "priority, enqueued, seq) VALUES (?, ?, ?, ?, "
                                             "(SELECT coalesce(max(seq), 0) + 1 FROM "
                                             "queue_entries))"));
          RH_TRY(ins.bind(1, task_id)
                     .bind(2, t.text(4))
                     .bind(3, parse_int(t.text(3)).value_or(0))
                     .bind(4, now)
                     .exec());
          RH_TRY(set_status_in_tx(db, task_id, TaskStatus::queued, reason + "; requeued", now));
          lost.push_back(LostTask{task_id, name, TaskStatus::queued});
        } else {
          RH_TRY(set_status_in_tx(db, task_id, TaskStatus::failed, reason, now));
          lost.push_back(LostTask{task_id, name, TaskStatus::failed});
        }
      }
      return {};
    }));
    return lost;
  }

 private:
  Result<std::vector<Queue>> select(const std::string& where, const std::string& arg) {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT q.id, q.name, q.created, q.requeue_on_lost, (SELECT "
                                      "count(*) FROM queue_entries e WHERE e.queue_id = q.id) "
                                      "FROM queues q" +
                                      where + " ORDER BY q.name"));
    if (!where.empty())
      s.bind(1, arg);
    std::vector<Queue> out;
    RH_TRY(s.each_row([&] {
      out.push_back(Queue{s.text(0), s.text(1), s.real(2), s.int64(3) != 0, s.int64(4)});
    }));
    return out;
  }

  static std::string fmt_time(double t) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", t);
    return buf;
  }

  Shared& m_s;
  TaskStore& m_tasks;
};

}  // namespace

std::unique_ptr<QueueStore> make_queue_part(Shared& s, TaskStore& tasks) {
  return std::make_unique<SqliteQueues>(s, tasks);
}

}  // namespace rh::sqlite
