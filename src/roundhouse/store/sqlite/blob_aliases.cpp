// SQLite part for blob aliases (md5 names -> SHA-256 digests), table
// blob_aliases of migration 8. The digest column is indexed: a removal
// candidate costs one lookup here too (blob_orphans.cpp).
#include "roundhouse/hash/digest.h"
#include "roundhouse/store/sqlite/parts.h"

namespace rh::sqlite {

namespace {

class SqliteBlobAliases final : public BlobAliases {
 public:
  explicit SqliteBlobAliases(Shared& s) : m_s(s) {}

  Status put(const std::vector<std::pair<std::string, std::string>>& md5_to_digest) override {
    for (const auto& [md5, digest] : md5_to_digest) {
      if (!valid_md5_name(md5))
        return make_error(ErrorCode::invalid_argument,
                          "alias '" + md5 + "': not an md5 name (32 hex digits, maybe .dir)");
      RH_TRY(validate_digest(digest));
    }
    if (md5_to_digest.empty())
      return {};
    return m_s.writer->run([&](Db& db) -> Status {
      RH_TRY_ASSIGN(Stmt s, db.prepare("INSERT INTO blob_aliases(md5, digest) VALUES(?, ?) "
                                       "ON CONFLICT(md5) DO NOTHING"));
      for (const auto& [md5, digest] : md5_to_digest) {
        RH_TRY(s.bind(1, md5).bind(2, digest).exec());
        s.reset();
      }
      return {};
    });
  }

  Result<std::vector<std::pair<std::string, std::string>>> lookup(
      const std::vector<std::string>& md5s) override {
    std::vector<std::pair<std::string, std::string>> out;
    RH_TRY_ASSIGN(auto db, m_s.readers.acquire());
    RH_TRY_ASSIGN(Stmt s, db->prepare("SELECT digest FROM blob_aliases WHERE md5 = ?"));
    for (const auto& md5 : md5s) {
      s.bind(1, md5);
      RH_TRY_ASSIGN(bool found, s.step());
      if (found)
        out.emplace_back(md5, s.text(0));
      s.reset();
    }
    return out;
  }

 private:
  Shared& m_s;
};

}  // namespace

std::unique_ptr<BlobAliases> make_blob_aliases_part(Shared& s) {
  return std::make_unique<SqliteBlobAliases>(s);
}

}  // namespace rh::sqlite
