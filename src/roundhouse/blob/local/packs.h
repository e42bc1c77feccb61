// Packs: many small objects of a local blob store in one file each.
//
// An upload of 50,000 small files would otherwise create 50,000 files on the
// server and make them durable with a sync of the whole file system; the
// inodes, not the bytes, are most of that time. Objects that arrive many at
// once (an upload batch, a finalize in the embedded mode) are written into
// one pack instead, as git and restic do, and found through an index.
//
// Layout, under <root>/packs/:
//   <32 hex>.pack   "RHB1", then per object its 71-byte digest, its size as
//                   u64 little-endian and its bytes: the blob batch format of
//                   POST /api/v1/blobs/batch, so a pack can be re-read alone.
//   index.db        SQLite: which pack holds a digest, at which offset.
// Order: the pack is written, synced and linked under its name, then its
// objects go into the index in one transaction. An object exists once its
// index row is committed. A pack left unindexed by a crash between the two
// is indexed when the store next opens its packs, so nothing acknowledged or
// written is lost.
// Objects are removed from the index; a pack whose last object is removed
// is deleted. (Space of partly removed packs is not reclaimed yet: nothing
// removes blobs from a store in normal use.)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "roundhouse/blob/blob_store.h"

namespace rh {

namespace sqlite {
class Db;
}

class Packs {
 public:
  // Opens the packs of the store at `root` (creating the folder and index
  // when `create`); nullptr, not an error, when there are none and not
  // `create`. Indexes packs a crash left unindexed.
  static Result<std::unique_ptr<Packs>> open(const std::string& root, bool create);
  ~Packs();
  Packs(const Packs&) = delete;
  Packs& operator=(const Packs&) = delete;

  struct Where {
    int64_t pack = 0;
    uint64_t offset = 0;  // of the object's bytes in the pack file
    uint64_t size = 0;
  };
  Result<std::optional<Where>> find(std::string_view digest);
  // For each i with wanted[i] set: clears it when the index holds digests[i].
  Status find_many(const std::vector<std::string>& digests, std::vector<char>& wanted);
  // Writes the objects into a new pack and indexes them; durable on return.
  // The caller has checked each object's bytes against its digest and left
  // out those the store holds already. Nothing is written for none.
  Status add(const std::vector<std::pair<std::string, std::string_view>>& objects);
  // Streams [offset, offset + length) of an object into sink.
  Status read(const Where& w, ByteSink& sink, uint64_t offset, uint64_t length);
  Status list(std::vector<BlobInfo>& out);
  // Removes the object from the index; deletes its pack once empty. Removing
  // an object the index lacks is not an error.
  Status remove(std::string_view digest);

 private:
  Packs(std::string dir, std::string tmp, std::unique_ptr<sqlite::Db> db);
  Status index_pack(const std::string& name, const std::vector<std::pair<std::string, Where>>& at);
  Status index_orphans();
  Status write_transaction(const std::function<Status()>& fn);
  Result<std::string> pack_name(int64_t pack);
  Result<int> pack_fd(int64_t pack);
  std::string m_dir, m_tmp;  // packs/, and tmp/ where a pack is written before it is named
  std::mutex m_mu;           // the connection and the maps below
  std::unique_ptr<sqlite::Db> m_db;
  std::unordered_map<int64_t, std::string> m_names;  // pack id → file name
  std::unordered_map<int64_t, int> m_fds;            // open packs
};

}  // namespace rh
