// LocalBlobStore: BlobStore on a local folder.
//
// Layout: <root>/<hex[0:2]>/<hex[2:]> holds the object with digest
// sha256:<hex> (a loose object); <root>/tmp/ holds objects being written. A
// put streams into a temp file while hashing, then fsync + link into place +
// fsync directory. Objects are written read-only (0444) so hard links handed
// out by the cache cannot be modified through them. Small objects stored
// many at once (put_checked, put_many) go into packs instead, one file for
// many (<root>/packs/, see packs.h); reads look for a loose object first.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "roundhouse/blob/blob_store.h"

namespace rh {

class Packs;

class LocalBlobStore final : public BlobStore {
 public:
  // Creates the folder when missing.
  static Result<std::unique_ptr<LocalBlobStore>> open(const std::string& root);

  Result<BlobInfo> put(ByteSource& src, std::string_view expected_digest) override;
  Status get(std::string_view digest, ByteSink& sink, uint64_t offset, uint64_t length) override;
  Result<uint64_t> stat(std::string_view digest) override;
  Result<std::vector<BlobInfo>> list() override;
  Status remove(std::string_view digest) override;

  // Removes what crashed writers left in tmp/: files not written to for
  // `idle_seconds` (a write in progress keeps touching its file). Returns
  // how many went. The server calls it when it starts.
  Result<int64_t> sweep_tmp(int64_t idle_seconds);

  // Where the object lives when it is loose (for sendfile/hard links);
  // validates the digest. A packed object has no file of its own.
  Result<std::string> path_of(std::string_view digest) const;

  // A put without its fsyncs; sync() then makes many of them durable at once
  // (syncfs). For adding many files, where an fsync each would dominate.
  Result<BlobInfo> put_unsynced(ByteSource& src, std::string_view expected_digest);
  Status sync();
  // Checked on every core, each through its folder's descriptor.
  Result<std::vector<std::string>> missing(const std::vector<std::string>& digests) override;
  // Small files are read, checked and packed 16 MiB at a time; large ones
  // are copied as by put().
  Status put_many(const std::vector<std::pair<std::string, std::string>>& digest_and_path) override;
  // Into one pack, leaving out the objects stored already.
  Status put_checked(const std::vector<std::pair<std::string, std::string_view>>& objects) override;
  // A file staged in this store's tmp/ folder (the server streams uploads
  // there) is hashed where it lies and linked into place: no second copy.
  // Other files are copied as by put().
  Result<BlobInfo> put_file(const std::string& path, std::string_view expected_digest) override;
  // The same for a staged file whose digest the caller computed as it was
  // written (the server hashes an upload as it arrives): not read again.
  Result<BlobInfo> put_staged(const std::string& path, const std::string& digest) override;
  // A loose object's file; empty for a packed one.
  std::string file_of(std::string_view digest) override;

  // Bytes whose digest the caller computed, without an fsync (sync() later):
  // nothing written when the object exists with this size; otherwise an
  // unnamed file (O_TMPFILE) linked into place once complete, so a crash
  // never leaves a partial object under a digest's name. A same-named object
  // of the wrong size (damaged) is replaced. The fast path for many small
  // objects (adding files, receiving a batch, fetching a batch).
  Status put_bytes_unsynced(const std::string& digest, std::string_view bytes);

  // The descriptor of the folder holding `digest`'s object (opened once and
  // kept), for *at() calls that spare the kernel a walk of the whole path
  // per object; object_name() is the object's name in it. -1 (errno set)
  // when the folder is absent and not `create`d. The digest must be valid.
  int dir_fd(const std::string& digest, bool create = false);
  static const char* object_name(const std::string& digest) { return digest.c_str() + 9; }

  ~LocalBlobStore() override;

 private:
  // A file in this store's tmp/ folder (where the server stages uploads).
  bool staged(const std::string& path) const {
    return path.starts_with(m_root + "/tmp/") && path.find("/../") == std::string::npos;
  }
  explicit LocalBlobStore(std::string root);
  Result<BlobInfo> put_impl(ByteSource& src, std::string_view expected_digest, bool sync);
  // The packs, opened on first use; nullptr while there are none and not `create`.
  Result<Packs*> packs(bool create);
  std::string m_root;
  std::mutex m_packs_mu;
  std::unique_ptr<Packs> m_packs;
  std::array<std::atomic<int>, 256> m_dir_fds;
  // sync() as a group commit: callers whose writes were done before a
  // syncfs began are answered by it (the server syncs every upload batch,
  // several at once).
  std::mutex m_sync_mu;
  std::condition_variable m_sync_cv;
  uint64_t m_sync_asked = 0, m_sync_done = 0;
  bool m_syncing = false;
};

}  // namespace rh
