// SQLite part for dataset versions and their files.
#include <fnmatch.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/json.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/sqlite/parts.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/strings.h"

namespace rh {

std::string_view to_string(DatasetState s) {
  return s == DatasetState::final_ ? "final" : "draft";
}

}  // namespace rh

namespace rh::sqlite {

namespace {

constexpr const char* k_columns =
    "id, project, name, version, state, tags, manifest, task_id, summary, created, finalized";

DatasetSummary summary_from(const Json& j) {
  DatasetSummary s;
  auto get = [&](const char* k) { return j.is_object() ? j.value(k, int64_t{0}) : int64_t{0}; };
  s.files = get("files");
  s.bytes = get("bytes");
  s.added = get("added");
  s.modified = get("modified");
  s.removed = get("removed");
  s.added_bytes = get("added_bytes");
  s.modified_bytes = get("modified_bytes");
  s.removed_bytes = get("removed_bytes");
  return s;
}

Result<DatasetVersion> row_to_version(Db& db, Stmt& s) {
  DatasetVersion v;
  v.id = s.text(0);
  v.project = s.text(1);
  v.name = s.text(2);
  v.version = s.text(3);
  v.state = s.text(4) == "final" ? DatasetState::final_ : DatasetState::draft;
  RH_TRY_ASSIGN(Json tags, parse_json(s.text(5), "dataset tags"));
  RH_TRY(read_string_list(Json{{"tags", tags}}, "tags", "dataset", v.tags));
  v.manifest = s.text(6);
  v.task_id = s.text(7);
  RH_TRY_ASSIGN(Json summary, parse_json(s.text(8), "dataset summary"));
  v.summary = summary_from(summary);
  v.created = s.real(9);
  v.finalized = s.real(10);
  RH_TRY_ASSIGN(Stmt p, db.prepare("SELECT parent_id FROM dataset_parents WHERE version_id = ? "
                                   "ORDER BY position"));
  p.bind(1, v.id);
  RH_TRY(p.each_row([&] { v.parents.push_back(p.text(0)); }));
  return v;
}

Error not_found(const std::string& id) {
  return Error{ErrorCode::not_found, "no dataset version with ID " + id};
}

// The state of a version inside a write, or not_found.
Result<std::string> state_of(Db& db, const std::string& id) {
  RH_TRY_ASSIGN(Stmt * s, db.cached("SELECT state FROM dataset_versions WHERE id = ?"));
  s->bind(1, id);
  RH_TRY_ASSIGN(bool row, s->step());
  std::string st = row ? s->text(0) : "";
  s->reset();
  if (!row)
    return std::unexpected(not_found(id));
  return st;
}

Status require_draft(Db& db, const std::string& id) {
  RH_TRY_ASSIGN(std::string st, state_of(db, id));
  if (st != "draft") {
    return make_error(ErrorCode::conflict, "dataset version " + id +
                                               " is final and cannot change (create a new version "
                                               "with it as parent)");
  }
  return {};
}

// The next patch version after the highest "a.b.c" of the dataset.
std::string next_version(const std::vector<std::string>& existing) {
  std::array<int64_t, 3> best{-1, 0, 0};
  for (const auto& v : existing) {
    auto parts = split(v, '.');
    if (parts.size() != 3)
      continue;
    std::array<int64_t, 3> n{};
    bool ok = true;
    for (int i = 0; i < 3; ++i) {
      auto x = parse_int(parts[static_cast<size_t>(i)]);
      ok = ok && x && *x >= 0;
      n[static_cast<size_t>(i)] = x.value_or(0);
    }
    if (ok && n > best)
      best = n;
  }
  if (best[0] < 0)
    return "1.0.0";
  return std::to_string(best[0]) + "." + std::to_string(best[1]) + "." +
         std::to_string(best[2] + 1);
}

Status validate_version_text(const std::string& v) {
  bool ok = !v.empty() && v.size() <= 64;
  for (char c : v)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
                c == '+');
  if (!ok) {
    return make_error(ErrorCode::invalid_argument,
                      "version \"" + v + "\" must be 1-64 letters, digits, . - _ +");
  }
  return {};
}

class SqliteDatasets final : public DatasetStore {
 public:
  explicit SqliteDatasets(Shared& s) : m_s(s) {}

  Result<DatasetVersion> create(const NewDatasetVersion& in) override {
    RH_TRY(validate_name("dataset project", in.project));
    RH_TRY(validate_name("dataset name", in.name));
    if (!in.version.empty()) {
      RH_TRY(validate_version_text(in.version));
    }
    for (const auto& t : in.tags)
      RH_TRY(validate_tag(t));
    std::string id = m_s.env.new_id();
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      std::string version = in.version;
      if (version.empty()) {
        RH_TRY_ASSIGN(Stmt v, db.prepare("SELECT version FROM dataset_versions WHERE project = ? "
                                         "AND name = ?"));
        v.bind(1, in.project).bind(2, in.name);
        std::vector<std::string> all;
        RH_TRY(v.each_row([&] { all.push_back(v.text(0)); }));
        version = next_version(all);
      }
      std::set<std::string> seen;
      for (const auto& p : in.parents) {
        if (!seen.insert(p).second)
          return make_error(ErrorCode::invalid_argument, "parent " + p + " is given twice");
        RH_TRY_ASSIGN(std::string st, state_of(db, p));
        if (st != "final") {
          return make_error(ErrorCode::conflict,
                            "parent " + p + " is a draft; finalize it before building on it");
        }
      }
      std::vector<std::string> tags = in.tags;
      std::sort(tags.begin(), tags.end());
      tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
      RH_TRY_ASSIGN(Stmt ins,
                    db.prepare("INSERT INTO dataset_versions(id, project, name, version, parents, "
                               "state, tags, task_id, created) VALUES (?, ?, ?, ?, ?, 'draft', ?, "
                               "?, ?) ON CONFLICT(project, name, version) DO NOTHING"));
      RH_TRY(ins.bind(1, id)
                 .bind(2, in.project)
                 .bind(3, in.name)
                 .bind(4, version)
                 .bind(5, Json(in.parents).dump())
                 .bind(6, Json(tags).dump())
                 .bind(7, in.task_id)
                 .bind(8, m_s.env.now())
                 .exec());
      if (db.changes() == 0) {
        return make_error(ErrorCode::already_exists, "dataset " + in.project + "/" + in.name +
                                                         " already has version " + version);
      }
      int pos = 0;
      for (const auto& p : in.parents) {
        RH_TRY_ASSIGN(Stmt pr, db.prepare("INSERT INTO dataset_parents(version_id, parent_id, "
                                          "position) VALUES (?, ?, ?)"));
        RH_TRY(pr.bind(1, id).bind(2, p).bind(3, int64_t{pos++}).exec());
        // The draft starts as its parents' union; later parents win.
        RH_TRY_ASSIGN(Stmt cp, db.prepare("INSERT OR REPLACE INTO dataset_files(version_id, path, "
                                          "digest, size, mode) SELECT ?, path, digest, size, mode "
                                          "FROM dataset_files WHERE version_id = ?"));
        RH_TRY(cp.bind(1, id).bind(2, p).exec());
      }
      return {};
    }));
    return get(id);
  }

  Result<DatasetVersion> get(const std::string& id) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare(std::string("SELECT ") + k_columns +
                                      " FROM dataset_versions WHERE id = ?"));
    s.bind(1, id);
    RH_TRY_ASSIGN(bool row, s.step());
    if (!row)
      return std::unexpected(not_found(id));
    return row_to_version(*db, s);
  }

  Result<std::string> resolve(const std::string& prefix) override {
    if (prefix.size() < 4 || !is_hex(prefix)) {
      return make_error(ErrorCode::invalid_argument,
                        "dataset version ID \"" + prefix + "\" must be at least 4 hex digits");
    }
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT id FROM dataset_versions WHERE id >= ? AND id < ? "
                                      "ORDER BY id LIMIT 2"));
    s.bind(1, prefix).bind(2, prefix + "~");
    std::vector<std::string> ids;
    RH_TRY(s.each_row([&] { ids.push_back(s.text(0)); }));
    if (ids.empty())
      return std::unexpected(not_found(prefix));
    if (ids.size() > 1) {
      return make_error(ErrorCode::ambiguous,
                        "dataset version ID prefix " + prefix + " matches several versions");
    }
    return ids[0];
  }

  Result<std::vector<DatasetVersion>> list(const DatasetQuery& q) override {
    std::string sql = std::string("SELECT ") + k_columns + " FROM dataset_versions WHERE 1=1";
    std::vector<std::string> binds;
    if (q.project) {
      sql += " AND project = ?";
      binds.push_back(*q.project);
    }
    if (q.name) {
      sql += " AND name = ?";
      binds.push_back(*q.name);
    }
    if (q.version) {
      sql += " AND version = ?";
      binds.push_back(*q.version);
    }
    if (q.final_only)
      sql += " AND state = 'final'";
    for (const auto& t : q.tags) {
      sql += " AND EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)";
      binds.push_back(t);
    }
    sql += " ORDER BY created DESC, id DESC LIMIT ?";
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare(sql));
    int i = 1;
    for (const auto& b : binds)
      s.bind(i++, b);
    s.bind(i, int64_t{std::clamp(q.limit, 1, 10000)});
    std::vector<DatasetVersion> out;
    RH_TRY(s.each_row([&]() -> Status {
      RH_TRY_ASSIGN(DatasetVersion v, row_to_version(*db, s));
      out.push_back(std::move(v));
      return {};
    }));
    return out;
  }

  // Adds or replaces rows (already validated) inside a write.
  static Status insert_files(Db& db, const std::string& id, const std::vector<DatasetFile>& files) {
    RH_TRY_ASSIGN(Stmt * s, db.cached("INSERT OR REPLACE INTO dataset_files(version_id, path, "
                                      "digest, size, mode) VALUES (?, ?, ?, ?, ?)"));
    for (const auto& f : files) {
      RH_TRY(s->bind(1, id)
                 .bind(2, f.path)
                 .bind(3, f.digest)
                 .bind(4, static_cast<int64_t>(f.size))
                 .bind(5, int64_t{f.mode})
                 .exec());
    }
    return {};
  }

  // Removes exactly these paths inside a write; adds how many went to `removed`.
  static Status delete_paths(Db& db, const std::string& id, const std::vector<std::string>& paths,
                             int64_t& removed) {
    RH_TRY_ASSIGN(Stmt * d,
                  db.cached("DELETE FROM dataset_files WHERE version_id = ? AND path = ?"));
    for (const auto& p : paths) {
      RH_TRY(d->bind(1, id).bind(2, p).exec());
      removed += db.changes();
    }
    return {};
  }

  static Status validate_files(const std::vector<DatasetFile>& files) {
    for (const auto& f : files) {
      RH_TRY(validate_relative_path("dataset path", f.path));
      RH_TRY(validate_digest(f.digest));
    }
    return {};
  }

  Status put_files(const std::string& id, const std::vector<DatasetFile>& files) override {
    RH_TRY(validate_files(files));
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(require_draft(db, id));
      return insert_files(db, id, files);
    });
  }

  Result<int64_t> change_files(const std::string& id,
                               const std::function<Result<bool>(FileChanges&)>& next) override {
    int64_t removed = 0;
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {  // one write: all the slices or none
      RH_TRY(require_draft(db, id));
      FileChanges c;
      while (true) {
        RH_TRY_ASSIGN(bool more, next(c));
        if (!more)
          return {};
        RH_TRY(validate_files(c.put));
        RH_TRY(insert_files(db, id, c.put));
        RH_TRY(delete_paths(db, id, c.gone, removed));
      }
    }));
    return removed;
  }

  Result<int64_t> remove_paths(const std::string& id,
                               const std::vector<std::string>& paths) override {
    int64_t removed = 0;
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      removed = 0;
      RH_TRY(require_draft(db, id));
      return delete_paths(db, id, paths, removed);
    }));
    return removed;
  }

  Result<int64_t> remove_files(const std::string& id, const std::string& pattern) override {
    if (pattern.empty())
      return make_error(ErrorCode::invalid_argument, "give a path or a pattern to remove");
    int64_t removed = 0;
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      removed = 0;
      RH_TRY(require_draft(db, id));
      RH_TRY_ASSIGN(Stmt s, db.prepare("SELECT path FROM dataset_files WHERE version_id = ?"));
      s.bind(1, id);
      std::string dir = pattern.ends_with("/") ? pattern : pattern + "/";
      std::vector<std::string> gone;
      RH_TRY(s.each_row([&] {
        std::string p = s.text(0);
        if (p == pattern || p.starts_with(dir) || ::fnmatch(pattern.c_str(), p.c_str(), 0) == 0)
          gone.push_back(p);
      }));
      RH_TRY_ASSIGN(Stmt * d,
                    db.cached("DELETE FROM dataset_files WHERE version_id = ? AND path = ?"));
      for (const auto& p : gone) {
        RH_TRY(d->bind(1, id).bind(2, p).exec());
      }
      removed = static_cast<int64_t>(gone.size());
      return {};
    }));
    return removed;
  }

  Result<std::vector<DatasetFile>> files(const std::string& id, const std::string& after,
                                         int limit) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt st, db->prepare("SELECT 1 FROM dataset_versions WHERE id = ?"));
    st.bind(1, id);
    RH_TRY_ASSIGN(bool exists, st.step());
    if (!exists)
      return std::unexpected(not_found(id));
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT path, digest, size, mode FROM dataset_files WHERE "
                                      "version_id = ? AND path > ? ORDER BY path LIMIT ?"));
    s.bind(1, id).bind(2, after).bind(3, int64_t{std::max(1, limit)});
    std::vector<DatasetFile> out;
    RH_TRY(s.each_row([&] {
      out.push_back(DatasetFile{s.text(0), s.text(1), static_cast<uint64_t>(s.int64(2)),
                                static_cast<uint32_t>(s.int64(3))});
    }));
    return out;
  }

  Result<DatasetSummary> summarize(const std::string& id) override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY(state_of(*db, id));
    return summary_in(*db, id);
  }

  Result<DatasetVersion> finalize(const std::string& id, const std::string& manifest) override {
    RH_TRY(validate_digest(manifest));
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(std::string st, state_of(db, id));
      if (st != "draft") {
        return make_error(ErrorCode::conflict, "dataset version " + id + " is already final");
      }
      RH_TRY_ASSIGN(DatasetSummary sum, summary_in(db, id));
      RH_TRY_ASSIGN(Stmt u,
                    db.prepare("UPDATE dataset_versions SET state = 'final', manifest = ?, "
                               "summary = ?, finalized = ? WHERE id = ? AND state = 'draft'"));
      return u.bind(1, manifest)
          .bind(2, to_json(sum).dump())
          .bind(3, m_s.env.now())
          .bind(4, id)
          .exec();
    }));
    return get(id);
  }

  Result<DatasetVersion> change_tags(const std::string& id, const std::vector<std::string>& add,
                                     const std::vector<std::string>& remove) override {
    for (const auto& t : add)
      RH_TRY(validate_tag(t));
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(Stmt s, db.prepare("SELECT tags FROM dataset_versions WHERE id = ?"));
      s.bind(1, id);
      RH_TRY_ASSIGN(bool row, s.step());
      if (!row)
        return std::unexpected(not_found(id));
      RH_TRY_ASSIGN(Json j, parse_json(s.text(0), "dataset tags"));
      std::set<std::string> tags;
      for (const auto& t : j)
        if (t.is_string())
          tags.insert(t.get<std::string>());
      tags.insert(add.begin(), add.end());
      for (const auto& t : remove)
        tags.erase(t);
      RH_TRY_ASSIGN(Stmt u, db.prepare("UPDATE dataset_versions SET tags = ? WHERE id = ?"));
      return u.bind(1, Json(std::vector<std::string>(tags.begin(), tags.end())).dump())
          .bind(2, id)
          .exec();
    }));
    return get(id);
  }

  Status remove(const std::string& id) override {
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(state_of(db, id));
      RH_TRY_ASSIGN(Stmt c, db.prepare("SELECT version_id FROM dataset_parents WHERE parent_id = ? "
                                       "LIMIT 1"));
      c.bind(1, id);
      RH_TRY_ASSIGN(bool child, c.step());
      if (child) {
        return make_error(ErrorCode::conflict, "dataset version " + id + " is a parent of " +
                                                   c.text(0) + "; delete that one first");
      }
      RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM dataset_versions WHERE id = ?"));
      return d.bind(1, id).exec();
    });
  }

 private:
  static Result<DatasetSummary> summary_in(Db& db, const std::string& id) {
    std::map<std::string, std::pair<std::string, int64_t>> base;  // union of the parents
    RH_TRY_ASSIGN(Stmt p, db.prepare("SELECT parent_id FROM dataset_parents WHERE version_id = ? "
                                     "ORDER BY position"));
    p.bind(1, id);
    std::vector<std::string> parents;
    RH_TRY(p.each_row([&] { parents.push_back(p.text(0)); }));
    for (const auto& pid : parents) {
      RH_TRY_ASSIGN(Stmt f, db.prepare("SELECT path, digest, size FROM dataset_files WHERE "
                                       "version_id = ?"));
      f.bind(1, pid);
      RH_TRY(f.each_row([&] { base[f.text(0)] = {f.text(1), f.int64(2)}; }));
    }
    DatasetSummary s;
    RH_TRY_ASSIGN(Stmt f, db.prepare("SELECT path, digest, size FROM dataset_files WHERE "
                                     "version_id = ?"));
    f.bind(1, id);
    RH_TRY(f.each_row([&] {
      ++s.files;
      s.bytes += f.int64(2);
      auto it = base.find(f.text(0));
      if (it == base.end()) {
        ++s.added;
        s.added_bytes += f.int64(2);
      } else {
        if (it->second.first != f.text(1)) {
          ++s.modified;
          s.modified_bytes += f.int64(2);
        }
        base.erase(it);
      }
    }));
    for (const auto& [path, v] : base) {
      ++s.removed;
      s.removed_bytes += v.second;
    }
    return s;
  }

  Shared& m_s;
};

}  // namespace

std::unique_ptr<DatasetStore> make_dataset_part(Shared& s) {
  return std::make_unique<SqliteDatasets>(s);
}

}  // namespace rh::sqlite
