// SQLite parts for what a task records while it runs: scalars, console, artifacts, models.
#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/json.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/scalar_chunk.h"
#include "roundhouse/store/sqlite/parts.h"

namespace rh::sqlite {

namespace {

double nan_if_null(Stmt& s, int col) {
  return s.is_null(col) ? std::numeric_limits<double>::quiet_NaN() : s.real(col);
}

// SQLite turns a NaN bind into NULL; do it explicitly so intent is visible.
void bind_maybe_nan(Stmt& s, int i, double v) {
  if (std::isnan(v)) {
    s.bind_null(i);
  } else {
    s.bind(i, v);
  }
}

class SqliteScalars final : public ScalarStore {
 public:
  explicit SqliteScalars(Shared& s) : m_s(s) {}

  Status append(const std::string& task_id, std::vector<ScalarSeries> batch,
                const std::string& request_key) override {
    RH_TRY(validate_request_key(request_key));
    // Validate and encode in the caller's thread; the writer only inserts.
    struct Prepared {
      const ScalarSeries* series;
      EncodedChunk chunk;
    };
    std::vector<Prepared> prepared;
    double now = m_s.env.now();
    for (auto& s : batch) {
      RH_TRY(validate_scalar_series(s));
      if (s.steps.empty())
        continue;
      if (s.times.empty())
        s.times.assign(s.steps.size(), now);
      for (auto& t : s.times) {
        if (t == 0)
          t = now;
      }
      prepared.push_back(Prepared{&s, encode_chunk(s.steps, s.values, s.times)});
    }
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, task_id));
      RH_TRY_ASSIGN(bool seen, request_key_seen(db, task_id, request_key, nullptr));
      if (seen)
        return {};
      RH_TRY(remember_request_key(db, m_s.env, task_id, request_key, 0));
      for (const auto& p : prepared) {
        RH_TRY_ASSIGN(Stmt * ser,
                      db.cached("INSERT INTO series(task_id, title, series) VALUES(?,?,?) "
                                "ON CONFLICT(task_id, title, series) DO UPDATE SET "
                                "title = excluded.title RETURNING id"));
        ser->bind(1, task_id).bind(2, p.series->title).bind(3, p.series->series);
        RH_TRY(ser->step());
        int64_t series_id = ser->int64(0);
        ser->reset();
        int64_t min_step = INT64_MAX, max_step = INT64_MIN;
        for (auto st : p.series->steps) {
          min_step = std::min(min_step, st);
          max_step = std::max(max_step, st);
        }
        RH_TRY_ASSIGN(Stmt * ins,
                      db.cached("INSERT INTO metric_chunk(series_id, min_step, max_step, n, "
                                "data, summary) VALUES(?,?,?,?,?,?)"));
        RH_TRY(ins->bind(1, series_id)
                   .bind(2, min_step)
                   .bind(3, max_step)
                   .bind(4, p.chunk.count)
                   .bind_blob(5, p.chunk.data)
                   .bind_blob(6, p.chunk.summary)
                   .exec());
        if (p.chunk.count < k_small_chunk_points) {
          std::lock_guard lock(m_s.small_mu);
          m_s.small_series.insert(series_id);
        }
        RH_TRY_ASSIGN(
            Stmt * lat,
            db.cached("INSERT INTO series_latest(series_id, task_id, title, series, count, "
                      "last_step, last_value, last_time, min_value, max_value) "
                      "VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT(series_id) DO UPDATE SET "
                      "count = count + excluded.count, last_step = excluded.last_step, "
                      "last_value = excluded.last_value, last_time = excluded.last_time, "
                      "min_value = CASE WHEN min_value IS NULL THEN excluded.min_value "
                      "WHEN excluded.min_value IS NULL THEN min_value "
                      "ELSE min(min_value, excluded.min_value) END, "
                      "max_value = CASE WHEN max_value IS NULL THEN excluded.max_value "
                      "WHEN excluded.max_value IS NULL THEN max_value "
                      "ELSE max(max_value, excluded.max_value) END"));
        lat->bind(1, series_id)
            .bind(2, task_id)
            .bind(3, p.series->title)
            .bind(4, p.series->series)
            .bind(5, p.chunk.count)
            .bind(6, p.chunk.last_step);
        bind_maybe_nan(*lat, 7, p.chunk.last_value);
        lat->bind(8, p.chunk.last_time);
        bind_maybe_nan(*lat, 9, p.chunk.min_value);
        bind_maybe_nan(*lat, 10, p.chunk.max_value);
        RH_TRY(lat->exec());
      }
      RH_TRY_ASSIGN(Stmt * t, db.cached("UPDATE tasks SET last_update = ? WHERE id = ?"));
      return t->bind(1, m_s.env.now()).bind(2, task_id).exec();
    });
  }

  Result<std::vector<SeriesSummary>> summaries(const std::string& task_id) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY(task_status(*db, task_id));
    RH_TRY_ASSIGN(Stmt s,
                  db->prepare("SELECT title, series, count, last_step, last_value, last_time, "
                              "min_value, max_value FROM series_latest WHERE task_id = ? "
                              "ORDER BY title, series"));
    s.bind(1, task_id);
    std::vector<SeriesSummary> out;
    RH_TRY(s.each_row([&] {
      out.push_back(SeriesSummary{s.text(0), s.text(1), s.int64(2), s.int64(3), nan_if_null(s, 4),
                                  s.real(5), nan_if_null(s, 6), nan_if_null(s, 7)});
    }));
    return out;
  }

  Result<ScalarSeries> read(const std::string& task_id, const std::string& title,
                            const std::string& series, const ScalarReadOptions& opt) override {
    if (opt.max_points < 0 || (opt.max_points > 0 && opt.max_points < 4)) {
      return make_error(ErrorCode::invalid_argument, "max_points must be 0 (all) or at least 4");
    }
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY(task_status(*db, task_id));
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT s.id, l.count FROM series s JOIN series_latest l ON "
                                      "l.series_id = s.id WHERE s.task_id = ? AND s.title = ? AND "
                                      "s.series = ?"));
    s.bind(1, task_id).bind(2, title).bind(3, series);
    RH_TRY_ASSIGN(bool found, s.step());
    if (!found) {
      return make_error(ErrorCode::not_found,
                        "task " + task_id + " has no scalar " + title + "/" + series);
    }
    int64_t series_id = s.int64(0);
    int64_t count = s.int64(1);
    ScalarSeries out;
    out.title = title;
    out.series = series;
    bool filtered = opt.min_step || opt.max_step;
    // Block summaries serve when blocks are finer than the buckets asked for;
    // otherwise (a series of a few hundred thousand points) decoding is cheap
    // and gives the full resolution.
    bool blocks_fine_enough =
        count / static_cast<int64_t>(k_block_points) >= static_cast<int64_t>(opt.max_points) / 2;
    if (opt.max_points > 0 && count > opt.max_points && !filtered && blocks_fine_enough) {
      // Summaries only: no chunk is decoded.
      RH_TRY_ASSIGN(
          Stmt c, db->prepare("SELECT summary FROM metric_chunk WHERE series_id = ? ORDER BY id"));
      c.bind(1, series_id);
      std::vector<BlockSummary> blocks;
      RH_TRY(c.each_row([&]() -> Status {
        RH_TRY_ASSIGN(auto b, decode_summary(c.blob(0)));
        blocks.insert(blocks.end(), b.begin(), b.end());
        return {};
      }));
      ScalarSeries d = downsample(blocks, opt.max_points);
      out.steps = std::move(d.steps);
      out.values = std::move(d.values);
      out.times = std::move(d.times);
      return out;
    }
    int64_t lo = opt.min_step.value_or(INT64_MIN);
    int64_t hi = opt.max_step.value_or(INT64_MAX);
    RH_TRY_ASSIGN(Stmt c,
                  db->prepare("SELECT data FROM metric_chunk WHERE series_id = ? AND max_step >= "
                              "? AND min_step <= ? ORDER BY id"));
    c.bind(1, series_id).bind(2, lo).bind(3, hi);
    ScalarSeries raw;
    RH_TRY(c.each_row([&]() -> Status {
      RH_TRY(decode_chunk(c.blob(0), raw));
      return {};
    }));
    if (filtered) {
      size_t k = 0;
      for (size_t i = 0; i < raw.steps.size(); ++i) {
        if (raw.steps[i] < lo || raw.steps[i] > hi)
          continue;
        raw.steps[k] = raw.steps[i];
        raw.values[k] = raw.values[i];
        raw.times[k] = raw.times[i];
        ++k;
      }
      raw.steps.resize(k);
      raw.values.resize(k);
      raw.times.resize(k);
    }
    if (opt.max_points > 0 && static_cast<int64_t>(raw.steps.size()) > opt.max_points) {
      raw = downsample(points_as_blocks(raw), opt.max_points);
    }
    out.steps = std::move(raw.steps);
    out.values = std::move(raw.values);
    out.times = std::move(raw.times);
    return out;
  }

 private:
  Shared& m_s;
};

class SqliteConsole final : public ConsoleStore {
 public:
  explicit SqliteConsole(Shared& s) : m_s(s) {}

  Result<int64_t> append(const std::string& task_id, std::vector<ConsoleLine> lines,
                         const std::string& request_key) override {
    RH_TRY(validate_request_key(request_key));
    for (size_t i = 0; i < lines.size(); ++i) {
      RH_TRY(validate_text("console line " + std::to_string(i), lines[i].text));
    }
    double now = m_s.env.now();
    int64_t last = 0;
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, task_id));
      RH_TRY_ASSIGN(bool seen, request_key_seen(db, task_id, request_key, &last));
      if (seen)
        return {};
      RH_TRY_ASSIGN(Stmt * m,
                    db.cached("SELECT COALESCE(MAX(seq), 0) FROM console WHERE task_id = ?"));
      m->bind(1, task_id);
      RH_TRY(m->step());
      last = m->int64(0);
      m->reset();
      for (const auto& l : lines) {
        RH_TRY_ASSIGN(Stmt * ins, db.cached("INSERT INTO console(task_id, seq, time, stream, text) "
                                            "VALUES(?,?,?,?,?)"));
        RH_TRY(ins->bind(1, task_id)
                   .bind(2, ++last)
                   .bind(3, l.time > 0 ? l.time : now)
                   .bind(4, static_cast<int64_t>(l.stream))
                   .bind(5, l.text)
                   .exec());
      }
      return remember_request_key(db, m_s.env, task_id, request_key, last);
    }));
    return last;
  }

  Result<std::vector<ConsoleLine>> read(const std::string& task_id, int64_t after,
                                        int limit) override {
    if (limit < 1 || limit > 100000) {
      return make_error(ErrorCode::invalid_argument, "limit must be between 1 and 100000");
    }
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY(task_status(*db, task_id));
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT seq, time, stream, text FROM console WHERE "
                                      "task_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
    s.bind(1, task_id).bind(2, after).bind(3, limit);
    std::vector<ConsoleLine> out;
    RH_TRY(s.each_row([&] {
      out.push_back(
          ConsoleLine{s.int64(0), s.real(1),
                      s.int64(2) == 2 ? ConsoleStream::stderr_stream : ConsoleStream::stdout_stream,
                      s.text(3)});
    }));
    return out;
  }

 private:
  Shared& m_s;
};

Result<std::map<std::string, std::string>> parse_metadata(const std::string& text) {
  RH_TRY_ASSIGN(Json j, parse_json(text, "metadata column"));
  std::map<std::string, std::string> m;
  RH_TRY(read_string_map(Json{{"m", j}}, "m", "metadata", m));
  return m;
}

class SqliteArtifacts final : public ArtifactStore {
 public:
  explicit SqliteArtifacts(Shared& s) : m_s(s) {}

  Result<Artifact> put(const std::string& task_id, const Artifact& a) override {
    RH_TRY(validate_artifact_name(a.name));
    RH_TRY(validate_digest(a.digest));
    RH_TRY(validate_text("artifact type", a.type));
    RH_TRY(validate_text("artifact content_type", a.content_type));
    for (const auto& m : a.members)
      RH_TRY(validate_digest(m));
    Artifact stored = a;
    stored.created = m_s.env.now();
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, task_id));
      // What a replaced artifact referred to may be unreferenced now.
      RH_TRY(note_orphans_in_tx(db, task_id, &stored.name, stored.created));
      RH_TRY_ASSIGN(Stmt clear,
                    db.prepare("DELETE FROM artifact_members WHERE task_id = ? AND name = ?"));
      RH_TRY(clear.bind(1, task_id).bind(2, stored.name).exec());
      RH_TRY_ASSIGN(Stmt s,
                    db.prepare("INSERT INTO artifacts(task_id, name, digest, size, type, "
                               "content_type, metadata, created) VALUES(?,?,?,?,?,?,?,?) "
                               "ON CONFLICT(task_id, name) DO UPDATE SET digest = excluded.digest, "
                               "size = excluded.size, type = excluded.type, content_type = "
                               "excluded.content_type, metadata = excluded.metadata, created = "
                               "excluded.created"));
      RH_TRY(s.bind(1, task_id)
                 .bind(2, stored.name)
                 .bind(3, stored.digest)
                 .bind(4, static_cast<int64_t>(stored.size))
                 .bind(5, stored.type)
                 .bind(6, stored.content_type)
                 .bind(7, string_map_to_json(stored.metadata).dump())
                 .bind(8, stored.created)
                 .exec());
      RH_TRY_ASSIGN(Stmt m, db.prepare("INSERT OR IGNORE INTO artifact_members(task_id, name, "
                                       "digest) VALUES(?,?,?)"));
      for (const auto& d : stored.members) {
        RH_TRY(m.bind(1, task_id).bind(2, stored.name).bind(3, d).exec());
        m.reset();
      }
      return {};
    }));
    return stored;
  }

  Status remove(const std::string& task_id, const std::string& name) override {
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, task_id));
      RH_TRY_ASSIGN(Stmt q, db.prepare("SELECT 1 FROM artifacts WHERE task_id = ? AND name = ?"));
      RH_TRY_ASSIGN(bool found, q.bind(1, task_id).bind(2, name).step());
      if (!found)
        return make_error(ErrorCode::not_found,
                          "task " + task_id + " has no artifact \"" + name + "\"");
      RH_TRY(note_orphans_in_tx(db, task_id, &name, m_s.env.now()));
      RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM artifacts WHERE task_id = ? AND name = ?"));
      return d.bind(1, task_id).bind(2, name).exec();
    });
  }

  Result<std::vector<Artifact>> list(const std::string& task_id) override {
    return query(task_id, nullptr);
  }

  Result<Artifact> get(const std::string& task_id, const std::string& name) override {
    RH_TRY_ASSIGN(auto v, query(task_id, &name));
    if (v.empty()) {
      return make_error(ErrorCode::not_found,
                        "task " + task_id + " has no artifact \"" + name + "\"");
    }
    return v[0];
  }

  Result<Model> add_model(const Model& in) override {
    RH_TRY(validate_name("model name", in.name, 1024));
    RH_TRY(validate_text("model framework", in.framework));
    if (!in.digest.empty())
      RH_TRY(validate_digest(in.digest));
    Model m = in;
    m.id = m_s.env.new_id();
    m.created = m_s.env.now();
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, m.task_id));
      RH_TRY_ASSIGN(Stmt s, db.prepare("INSERT INTO models(id, task_id, name, direction, digest, "
                                       "size, framework, metadata, created) "
                                       "VALUES(?,?,?,?,?,?,?,?,?)"));
      return s.bind(1, m.id)
          .bind(2, m.task_id)
          .bind(3, m.name)
          .bind(4, to_string(m.direction))
          .bind(5, m.digest)
          .bind(6, static_cast<int64_t>(m.size))
          .bind(7, m.framework)
          .bind(8, string_map_to_json(m.metadata).dump())
          .bind(9, m.created)
          .exec();
    }));
    return m;
  }

  Result<std::vector<Model>> models(const std::string& task_id) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY(task_status(*db, task_id));
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT id, task_id, name, direction, digest, size, "
                                      "framework, metadata, created FROM models WHERE task_id = ? "
                                      "ORDER BY created, id"));
    s.bind(1, task_id);
    std::vector<Model> out;
    RH_TRY(s.each_row([&]() -> Status {
      Model m;
      m.id = s.text(0);
      m.task_id = s.text(1);
      m.name = s.text(2);
      RH_TRY_ASSIGN(m.direction, parse_model_direction(s.text(3)));
      m.digest = s.text(4);
      m.size = static_cast<uint64_t>(s.int64(5));
      m.framework = s.text(6);
      RH_TRY_ASSIGN(m.metadata, parse_metadata(s.text(7)));
      m.created = s.real(8);
      out.push_back(std::move(m));
      return {};
    }));
    return out;
  }

 private:
  Result<std::vector<Artifact>> query(const std::string& task_id, const std::string* name) {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY(task_status(*db, task_id));
    std::string sql =
        "SELECT name, digest, size, type, content_type, metadata, created FROM artifacts WHERE "
        "task_id = ?";
    if (name)
      sql += " AND name = ?";
    sql += " ORDER BY name";
    RH_TRY_ASSIGN(Stmt s, db->prepare(sql));
    s.bind(1, task_id);
    if (name)
      s.bind(2, *name);
    std::vector<Artifact> out;
    RH_TRY(s.each_row([&]() -> Status {
      Artifact a;
      a.name = s.text(0);
      a.digest = s.text(1);
      a.size = static_cast<uint64_t>(s.int64(2));
      a.type = s.text(3);
      a.content_type = s.text(4);
      RH_TRY_ASSIGN(a.metadata, parse_metadata(s.text(5)));
      a.created = s.real(6);
      RH_TRY_ASSIGN(a.members, members(*db, task_id, a.name));
      out.push_back(std::move(a));
      return {};
    }));
    return out;
  }

  static Result<std::vector<std::string>> members(Db& db, const std::string& task_id,
                                                  const std::string& name) {
    RH_TRY_ASSIGN(Stmt * s, db.cached("SELECT digest FROM artifact_members WHERE task_id = ? AND "
                                      "name = ? ORDER BY digest"));
    s->bind(1, task_id).bind(2, name);
    std::vector<std::string> out;
    Status st = s->each_row([&] { out.push_back(s->text(0)); });
    s->reset();
    RH_TRY(st);
    return out;
  }

  Shared& m_s;
};

// Inside a write: merges each run of consecutive small chunks of one series
// into the run's first row (so the order by id still is the logging order).
Status compact_series_in_tx(Db& db, int64_t series_id) {
  RH_TRY_ASSIGN(Stmt list,
                db.prepare("SELECT id, n FROM metric_chunk WHERE series_id = ? ORDER BY id"));
  list.bind(1, series_id);
  std::vector<std::vector<int64_t>> runs(1);
  int64_t run_points = 0;
  while (true) {
    RH_TRY_ASSIGN(bool row, list.step());
    if (!row) {
      break;
    }
    int64_t id = list.int64(0), n = list.int64(1);
    bool small = n < k_small_chunk_points;
    if (!small || run_points + n > 16 * k_small_chunk_points) {
      if (!runs.back().empty()) {
        runs.emplace_back();
      }
      run_points = 0;
    }
    if (small) {
      runs.back().push_back(id);
      run_points += n;
    }
  }
  for (const auto& run : runs) {
    if (run.size() < 2) {
      continue;
    }
    ScalarSeries merged;
    for (int64_t id : run) {
      RH_TRY_ASSIGN(Stmt * get, db.cached("SELECT data FROM metric_chunk WHERE id = ?"));
      get->bind(1, id);
      RH_TRY(get->step());
      RH_TRY(decode_chunk(get->blob(0), merged));
      get->reset();
    }
    EncodedChunk c = encode_chunk(merged.steps, merged.values, merged.times);
    auto [lo, hi] = std::minmax_element(merged.steps.begin(), merged.steps.end());
    RH_TRY_ASSIGN(Stmt * upd,
                  db.cached("UPDATE metric_chunk SET min_step = ?, max_step = ?, n = ?, "
                            "data = ?, summary = ? WHERE id = ?"));
    RH_TRY(upd->bind(1, *lo)
               .bind(2, *hi)
               .bind(3, c.count)
               .bind_blob(4, c.data)
               .bind_blob(5, c.summary)
               .bind(6, run.front())
               .exec());
    for (size_t i = 1; i < run.size(); ++i) {
      RH_TRY_ASSIGN(Stmt * del, db.cached("DELETE FROM metric_chunk WHERE id = ?"));
      RH_TRY(del->bind(1, run[i]).exec());
    }
  }
  return {};
}

}  // namespace

Status compact_small_chunks(Shared& s) {
  std::set<int64_t> series;
  {
    std::lock_guard lock(s.small_mu);
    series.swap(s.small_series);
  }
  for (int64_t id : series) {
    RH_TRY(s.writer->run([&](Db& db) { return compact_series_in_tx(db, id); }));
  }
  return {};
}

std::unique_ptr<ScalarStore> make_scalar_part(Shared& s) {
  return std::make_unique<SqliteScalars>(s);
}
std::unique_ptr<ConsoleStore> make_console_part(Shared& s) {
  return std::make_unique<SqliteConsole>(s);
}
std::unique_ptr<ArtifactStore> make_artifact_part(Shared& s) {
  return std::make_unique<SqliteArtifacts>(s);
}

}  // namespace rh::sqlite
