// SQLite part for plots, tables and debug images.
#include <nlohmann/json.hpp>

#include "roundhouse/hash/sha256.h"
#include "roundhouse/model/validate.h"
#include "roundhouse/store/sqlite/parts.h"
#include "roundhouse/util/json.h"

namespace rh::sqlite {

namespace {

class SqlitePlots final : public PlotStore {
 public:
  explicit SqlitePlots(Shared& s) : m_s(s) {}

  Result<Plot> add(const std::string& task_id, const Plot& in) override {
    RH_TRY(validate_name("plot title", in.title, 512));
    RH_TRY(validate_text("plot series", in.series));
    RH_TRY(validate_plot_kind(in.kind));
    RH_TRY_ASSIGN(Json data, parse_json(in.data, "plot data"));
    RH_TRY(expect_object(data, "plot data"));
    if (in.kind == "image" || !in.digest.empty()) {
      RH_TRY(validate_digest(in.digest));
    }
    Plot p = in;
    p.created = m_s.env.now();
    RH_TRY(m_s.writer->run([&](Db& db) -> Status {
      RH_TRY(task_status(db, task_id));
      RH_TRY_ASSIGN(Stmt * s,
                    db.cached("INSERT INTO plots(task_id, title, series, iteration, kind, "
                              "data, digest, created) VALUES(?,?,?,?,?,?,?,?)"));
      RH_TRY(s->bind(1, task_id)
                 .bind(2, p.title)
                 .bind(3, p.series)
                 .bind(4, p.iteration)
                 .bind(5, p.kind)
                 .bind(6, p.data)
                 .bind(7, p.digest)
                 .bind(8, p.created)
                 .exec());
      p.id = db.last_insert_rowid();
      return {};
    }));
    return p;
  }

  Result<std::vector<Plot>> list(const std::string& task_id, const std::string& kind, int64_t after,
                                 int limit) override {
    if (limit < 1 || limit > 10000) {
      return make_error(ErrorCode::invalid_argument, "limit must be between 1 and 10000");
    }
    if (!kind.empty()) {
      RH_TRY(validate_plot_kind(kind));
    }
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY(task_status(*db, task_id));
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT id, title, series, iteration, kind, data, digest, "
                                      "created FROM plots WHERE task_id = ? AND id > ? AND "
                                      "(? = '' OR kind = ?) ORDER BY id LIMIT ?"));
    s.bind(1, task_id).bind(2, after).bind(3, kind).bind(4, kind).bind(5, limit);
    std::vector<Plot> out;
    RH_TRY(s.each_row([&] {
      out.push_back(Plot{s.int64(0), s.text(1), s.text(2), s.int64(3), s.text(4), s.text(5),
                         s.text(6), s.real(7)});
    }));
    return out;
  }

 private:
  Shared& m_s;
};

}  // namespace

std::unique_ptr<PlotStore> make_plot_part(Shared& s) {
  return std::make_unique<SqlitePlots>(s);
}

}  // namespace rh::sqlite
