#include "roundhouse/blob/local/packs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "roundhouse/blob/blob_batch.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/store/sqlite/db.h"
#include "roundhouse/util/crash_point.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh {

namespace {

constexpr size_t k_open_packs = 64;  // pack descriptors kept open for reads

// The index keys a digest by its bytes, not its text.
Result<std::string> key_of(std::string_view digest) {
  RH_TRY_ASSIGN(Digest d, Digest::parse(digest));
  return std::string(reinterpret_cast<const char*>(d.bytes().data()), d.bytes().size());
}

std::string digest_of(std::string_view key) {
  return Digest::from_bytes(reinterpret_cast<const unsigned char*>(key.data())).text();
}

std::string new_pack_name() {
  std::random_device rd;
  unsigned char b[16];
  for (auto& c : b)
    c = static_cast<unsigned char>(rd());
  return to_hex(b, sizeof b) + ".pack";
}

Error os_error(const std::string& what, const std::string& path) {
  return Error{ErrorCode::io, what + " " + path + ": " + std::strerror(errno)};
}

}  // namespace

Packs::Packs(std::string dir, std::string tmp, std::unique_ptr<sqlite::Db> db)
    : m_dir(std::move(dir)), m_tmp(std::move(tmp)), m_db(std::move(db)) {}

Packs::~Packs() {
  for (auto& [id, fd] : m_fds)
    ::close(fd);
}

Result<std::unique_ptr<Packs>> Packs::open(const std::string& root, bool create) {
  std::string dir = root + "/packs";
  std::string path = dir + "/index.db";
  if (!create && ::access(path.c_str(), F_OK) != 0)
    return std::unique_ptr<Packs>();
  RH_TRY(make_dirs(dir));
  RH_TRY_ASSIGN(auto db, sqlite::Db::open(path, true));
  RH_TRY(
      db->exec("CREATE TABLE IF NOT EXISTS packs(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
               " live INTEGER NOT NULL);"
               "CREATE TABLE IF NOT EXISTS packed(digest BLOB PRIMARY KEY, pack INTEGER NOT NULL,"
               " offset INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;"
               "CREATE TABLE IF NOT EXISTS dropped(name TEXT PRIMARY KEY) WITHOUT ROWID;"));
  std::unique_ptr<Packs> p(new Packs(dir, root + "/tmp", std::move(db)));
  RH_TRY_ASSIGN(auto names, p->m_db->prepare("SELECT id, name FROM packs"));
  RH_TRY(names.each_row([&] { p->m_names[names.int64(0)] = names.text(1); }));
  RH_TRY(p->index_orphans());
  return p;
}

// Packs whose index transaction a crash cut off: their objects were written
// and synced, so they are indexed now rather than lost. A file that is not a
// whole pack is set aside as <name>.bad, never deleted. A pack the index
// dropped (its last object removed) whose file a crash left is deleted.
Status Packs::index_orphans() {
  std::unordered_map<std::string, bool> known;  // name → dropped
  for (const auto& [id, name] : m_names)
    known[name] = false;
  {
    RH_TRY_ASSIGN(auto q, m_db->prepare("SELECT name FROM dropped"));
    RH_TRY(q.each_row([&] { known[q.text(0)] = true; }));
  }
  std::vector<std::string> orphans;
  DIR* d = ::opendir(m_dir.c_str());
  if (!d)
    return std::unexpected(os_error("cannot list", m_dir));
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() != 37 || !name.ends_with(".pack"))
      continue;
    auto it = known.find(name);
    if (it == known.end())
      orphans.push_back(name);
    else if (it->second)
      ::unlinkat(::dirfd(d), name.c_str(), 0);
  }
  ::closedir(d);
  for (const auto& name : orphans) {
    RH_TRY_ASSIGN(std::string bytes, read_file(m_dir + "/" + name));
    std::vector<std::pair<std::string, Where>> at;
    auto st = read_blob_batch(bytes, [&](const std::string& digest, std::string_view b) -> Status {
      at.emplace_back(digest, Where{0, static_cast<uint64_t>(b.data() - bytes.data()), b.size()});
      return {};
    });
    if (!st) {
      std::string from = m_dir + "/" + name, to = from + ".bad";
      if (::rename(from.c_str(), to.c_str()) != 0)
        return std::unexpected(os_error("cannot set aside", from));
      continue;
    }
    RH_TRY(index_pack(name, at));
  }
  return {};
}

// One transaction: the pack's row and its objects' rows. Objects another
// pack holds already keep their place (INSERT OR IGNORE), so indexing the
// same pack twice (an orphan found by two processes) changes nothing.
Status Packs::index_pack(const std::string& name,
                         const std::vector<std::pair<std::string, Where>>& at) {
  return write_transaction([&]() -> Status {
    RH_TRY_ASSIGN(auto* ins_pack,
                  m_db->cached("INSERT OR IGNORE INTO packs(name, live) VALUES(?, 0)"));
    RH_TRY(ins_pack->bind(1, name).exec());
    RH_TRY_ASSIGN(auto* get_id, m_db->cached("SELECT id FROM packs WHERE name = ?"));
    get_id->bind(1, name);
    RH_TRY_ASSIGN(bool row, get_id->step());
    if (!row)
      return make_error(ErrorCode::internal, "pack " + name + " has no row after its insert");
    int64_t id = get_id->int64(0);
    get_id->reset();
    RH_TRY_ASSIGN(auto* ins,
                  m_db->cached("INSERT OR IGNORE INTO packed(digest, pack, offset, size) "
                               "VALUES(?, ?, ?, ?)"));
    int64_t live = 0;
    for (const auto& [digest, w] : at) {
      RH_TRY_ASSIGN(std::string key, key_of(digest));
      RH_TRY(ins->bind_blob(1, key)
                 .bind(2, id)
                 .bind(3, static_cast<int64_t>(w.offset))
                 .bind(4, static_cast<int64_t>(w.size))
                 .exec());
      live += m_db->changes();
    }
    RH_TRY_ASSIGN(auto* upd, m_db->cached("UPDATE packs SET live = live + ? WHERE id = ?"));
    RH_TRY(upd->bind(1, live).bind(2, id).exec());
    m_names[id] = name;
    return {};
  });
}

// BEGIN IMMEDIATE, fn, COMMIT; rolled back when fn or the commit fails, so
// the connection never stays inside a transaction.
Status Packs::write_transaction(const std::function<Status()>& fn) {
  RH_TRY(m_db->exec("BEGIN IMMEDIATE"));
  auto st = fn();
  if (st)
    st = m_db->exec("COMMIT");
  if (!st) {
    m_db->reset_cached();
    (void)m_db->exec("ROLLBACK");
  }
  return st;
}

Status Packs::add(const std::vector<std::pair<std::string, std::string_view>>& objects) {
  if (objects.empty())
    return {};
  std::string name = new_pack_name();
  RH_TRY_ASSIGN(auto file, AtomicFile::create(m_dir + "/" + name, m_tmp));
  // Written in pieces of about 1 MiB: a write each object would be a system
  // call each 4 KiB for the small files this is for.
  std::string buf = new_blob_batch();
  uint64_t at = 0;
  std::vector<std::pair<std::string, Where>> where;
  where.reserve(objects.size());
  for (const auto& [digest, bytes] : objects) {
    RH_TRY(validate_digest(digest));
    std::string h = blob_header(digest, bytes.size());
    buf += h;
    where.emplace_back(digest, Where{0, at + buf.size(), bytes.size()});
    if (buf.size() + bytes.size() > (1 << 20)) {
      RH_TRY(file.write(buf.data(), buf.size()));
      at += buf.size();
      buf.clear();
      RH_TRY(file.write(bytes.data(), bytes.size()));
      at += bytes.size();
    } else {
      buf += bytes;
    }
  }
  RH_TRY(file.write(buf.data(), buf.size()));
  ::chmod(file.temp_path().c_str(), 0444);
  RH_TRY(file.commit(/*keep_existing=*/false));  // synced and linked under its name
  crash_point("pack:written");                   // the pack is there, not yet indexed
  std::lock_guard lk(m_mu);
  return index_pack(name, where);
}

Result<std::optional<Packs::Where>> Packs::find(std::string_view digest) {
  RH_TRY_ASSIGN(std::string key, key_of(digest));
  std::lock_guard lk(m_mu);
  RH_TRY_ASSIGN(auto* q, m_db->cached("SELECT pack, offset, size FROM packed WHERE digest = ?"));
  q->bind_blob(1, key);
  RH_TRY_ASSIGN(bool row, q->step());
  std::optional<Where> w;
  if (row)
    w = Where{q->int64(0), static_cast<uint64_t>(q->int64(1)), static_cast<uint64_t>(q->int64(2))};
  q->reset();
  return w;
}

Status Packs::find_many(const std::vector<std::string>& digests, std::vector<char>& wanted) {
  std::lock_guard lk(m_mu);
  // One read transaction: a file lock taken once, not twice a digest.
  RH_TRY(m_db->exec("BEGIN"));
  auto body = [&]() -> Status {
    RH_TRY_ASSIGN(auto* q, m_db->cached("SELECT 1 FROM packed WHERE digest = ?"));
    for (size_t i = 0; i < digests.size(); ++i) {
      if (!wanted[i])
        continue;
      RH_TRY_ASSIGN(std::string key, key_of(digests[i]));
      q->bind_blob(1, key);
      auto row = q->step();
      q->reset();
      if (!row)
        return std::unexpected(row.error());
      if (*row)
        wanted[i] = 0;
    }
    return {};
  };
  auto st = body();
  m_db->reset_cached();
  (void)m_db->exec(st ? "COMMIT" : "ROLLBACK");
  return st;
}

Result<std::string> Packs::pack_name(int64_t pack) {
  if (auto it = m_names.find(pack); it != m_names.end())
    return it->second;
  // Indexed by another process since this one loaded the names.
  RH_TRY_ASSIGN(auto* q, m_db->cached("SELECT name FROM packs WHERE id = ?"));
  q->bind(1, pack);
  RH_TRY_ASSIGN(bool row, q->step());
  std::string name = row ? q->text(0) : "";
  q->reset();
  if (!row)
    return make_error(ErrorCode::not_found,
                      "pack " + std::to_string(pack) + " in " + m_dir + " was removed meanwhile");
  m_names[pack] = name;
  return name;
}

Result<int> Packs::pack_fd(int64_t pack) {
  if (auto it = m_fds.find(pack); it != m_fds.end())
    return it->second;
  RH_TRY_ASSIGN(std::string name, pack_name(pack));
  std::string path = m_dir + "/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::unexpected(os_error("cannot open", path));
  if (m_fds.size() >= k_open_packs) {
    ::close(m_fds.begin()->second);
    m_fds.erase(m_fds.begin());
  }
  m_fds[pack] = fd;
  return fd;
}

Status Packs::read(const Where& w, ByteSink& sink, uint64_t offset, uint64_t length) {
  if (offset >= w.size)
    return {};
  uint64_t left = std::min(length, w.size - offset);
  int fd;
  {
    std::lock_guard lk(m_mu);
    RH_TRY_ASSIGN(fd, pack_fd(w.pack));
    fd = ::dup(fd);  // a pack dropped from the open set meanwhile stays readable here
  }
  if (fd < 0)
    return std::unexpected(os_error("cannot read pack in", m_dir));
  Status result = read_range(fd, w.offset + offset, left, sink,
                             "pack " + std::to_string(w.pack) + " in " + m_dir, /*exact=*/true);
  ::close(fd);
  return result;
}

Status Packs::list(std::vector<BlobInfo>& out) {
  std::lock_guard lk(m_mu);
  RH_TRY_ASSIGN(auto q, m_db->prepare("SELECT digest, size FROM packed"));
  return q.each_row([&] {
    out.push_back(BlobInfo{digest_of(q.blob(0)), static_cast<uint64_t>(q.int64(1))});
  });
}

Status Packs::remove(std::string_view digest) {
  RH_TRY_ASSIGN(std::string key, key_of(digest));
  std::lock_guard lk(m_mu);
  std::optional<int64_t> emptied;
  std::string emptied_name;
  RH_TRY(write_transaction([&]() -> Status {
    RH_TRY_ASSIGN(auto* q, m_db->cached("SELECT pack FROM packed WHERE digest = ?"));
    q->bind_blob(1, key);
    RH_TRY_ASSIGN(bool row, q->step());
    int64_t pack = row ? q->int64(0) : 0;
    q->reset();
    if (!row)
      return {};
    RH_TRY_ASSIGN(auto* del, m_db->cached("DELETE FROM packed WHERE digest = ?"));
    RH_TRY(del->bind_blob(1, key).exec());
    RH_TRY_ASSIGN(auto* dec, m_db->cached("UPDATE packs SET live = live - 1 WHERE id = ?"));
    RH_TRY(dec->bind(1, pack).exec());
    RH_TRY_ASSIGN(auto* left, m_db->cached("SELECT live FROM packs WHERE id = ?"));
    left->bind(1, pack);
    RH_TRY_ASSIGN(bool has, left->step());
    int64_t live = has ? left->int64(0) : 0;
    left->reset();
    if (live <= 0) {
      RH_TRY_ASSIGN(emptied_name, pack_name(pack));
      RH_TRY_ASSIGN(auto* drop, m_db->cached("DELETE FROM packs WHERE id = ?"));
      RH_TRY(drop->bind(1, pack).exec());
      // Remembered, so a file a crash leaves is not taken for an orphan.
      RH_TRY_ASSIGN(auto* mark, m_db->cached("INSERT OR IGNORE INTO dropped(name) VALUES(?)"));
      RH_TRY(mark->bind(1, emptied_name).exec());
      emptied = pack;
    }
    return {};
  }));
  if (emptied) {  // its last object went: the file goes after the index says so
    if (auto it = m_fds.find(*emptied); it != m_fds.end()) {
      ::close(it->second);
      m_fds.erase(it);
    }
    std::string path = m_dir + "/" + emptied_name;
    m_names.erase(*emptied);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return std::unexpected(os_error("cannot remove", path));
  }
  return {};
}

}  // namespace rh
