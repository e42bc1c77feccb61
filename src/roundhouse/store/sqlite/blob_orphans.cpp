// SQLite part for blob references: which blobs lost a reference (the
// candidates in blob_orphans) and which of them nothing refers to any more.
// The tables that hold a digest each have an index on it (migration 7), so
// a candidate costs one lookup per table.
#include "roundhouse/store/sqlite/parts.h"

namespace rh::sqlite {

Status note_orphans_in_tx(Db& db, const std::string& task_id, const std::string* artifact,
                          double now) {
  std::string sql =
      "INSERT INTO blob_orphans(digest, since) SELECT d, ?3 FROM ("
      "SELECT digest AS d FROM artifacts WHERE task_id = ?1 AND (?2 IS NULL OR name = ?2) "
      "UNION SELECT digest FROM artifact_members WHERE task_id = ?1 AND (?2 IS NULL OR name = ?2)";
  if (!artifact)
    sql +=
        " UNION SELECT digest FROM models WHERE task_id = ?1 AND digest != '' "
        "UNION SELECT digest FROM plots WHERE task_id = ?1 AND digest != ''";
  sql += ") WHERE true ON CONFLICT(digest) DO UPDATE SET since = excluded.since";
  RH_TRY_ASSIGN(Stmt s, db.prepare(sql));
  s.bind(1, task_id);
  if (artifact)
    s.bind(2, *artifact);
  else
    s.bind_null(2);
  return s.bind(3, now).exec();
}

namespace {

class SqliteBlobOrphans final : public BlobOrphans {
 public:
  explicit SqliteBlobOrphans(Shared& s) : m_s(s) {}

  Result<std::vector<std::string>> removable(double before, int limit) override {
    std::vector<std::string> out, live;
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      out.clear();
      live.clear();
      RH_TRY_ASSIGN(Stmt s, db.prepare("SELECT o.digest, EXISTS(SELECT 1 FROM artifacts a WHERE "
                                       "a.digest = o.digest) OR EXISTS(SELECT 1 FROM "
                                       "artifact_members m WHERE m.digest = o.digest) OR "
                                       "EXISTS(SELECT 1 FROM models WHERE digest = o.digest) OR "
                                       "EXISTS(SELECT 1 FROM plots WHERE digest = o.digest) OR "
                                       "EXISTS(SELECT 1 FROM dataset_files WHERE digest = "
                                       "o.digest) OR EXISTS(SELECT 1 FROM blob_aliases WHERE "
                                       "digest = o.digest) FROM blob_orphans o WHERE o.since < ? "
                                       "ORDER BY o.since LIMIT ?"));
      s.bind(1, before).bind(2, int64_t(limit));
      RH_TRY(s.each_row([&] { (s.int64(1) ? live : out).push_back(s.text(0)); }));
      // A referenced candidate is no candidate: a later loss notes it again.
      RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM blob_orphans WHERE digest = ?"));
      for (const auto& digest : live) {
        RH_TRY(d.bind(1, digest).exec());
        d.reset();
      }
      return {};
    }));
    return out;
  }

  Status forget(const std::vector<std::string>& digests) override {
    if (digests.empty())
      return {};
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(Stmt d, db.prepare("DELETE FROM blob_orphans WHERE digest = ?"));
      for (const auto& digest : digests) {
        RH_TRY(d.bind(1, digest).exec());
        d.reset();
      }
      return {};
    });
  }

  Status refresh(const std::vector<std::string>& digests) override {
    if (digests.empty())
      return {};
    // Reads first: most uploads meet no candidate, and then write nothing.
    std::vector<std::string> hit;
    {
      RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
      RH_TRY_ASSIGN(Stmt any, db->prepare("SELECT EXISTS(SELECT 1 FROM blob_orphans)"));
      RH_TRY_ASSIGN(bool row, any.step());
      if (!row || !any.int64(0))
        return {};
      RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT 1 FROM blob_orphans WHERE digest = ?"));
      for (const auto& digest : digests) {
        s.bind(1, digest);
        RH_TRY_ASSIGN(bool found, s.step());
        if (found)
          hit.push_back(digest);
        s.reset();
      }
    }
    if (hit.empty())
      return {};
    double now = m_s.env.now();
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(Stmt u, db.prepare("UPDATE blob_orphans SET since = ? WHERE digest = ?"));
      for (const auto& digest : hit) {
        RH_TRY(u.bind(1, now).bind(2, digest).exec());
        u.reset();
      }
      return {};
    });
  }

  Result<std::vector<std::string>> memberless_manifests() override {
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT DISTINCT a.digest FROM artifacts a WHERE a.type = "
                                      "'checkpoint' AND NOT EXISTS (SELECT 1 FROM "
                                      "artifact_members m WHERE m.task_id = a.task_id AND m.name "
                                      "= a.name)"));
    std::vector<std::string> out;
    RH_TRY(s.each_row([&] { out.push_back(s.text(0)); }));
    return out;
  }

 private:
  Shared& m_s;
};

}  // namespace

std::unique_ptr<BlobOrphans> make_blob_orphans_part(Shared& s) {
  return std::make_unique<SqliteBlobOrphans>(s);
}

}  // namespace rh::sqlite
