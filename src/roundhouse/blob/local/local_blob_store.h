// LocalBlobStore: BlobStore on a local folder.
//
// Layout: <root>/<hex[0:2]>/<hex[2:]> holds the object with digest
// sha256:<hex>; <root>/tmp/ holds objects being written. A put streams into
// a temp file while hashing, then fsync + link into place + fsync directory.
// Objects are written read-only (0444) so hard links handed out by the cache
// cannot be modified through them.
#pragma once

#include <memory>
#include <string>

#include "roundhouse/blob/blob_store.h"

namespace rh {

class LocalBlobStore final : public BlobStore {
 public:
  // Creates the folder when missing.
  static Result<std::unique_ptr<LocalBlobStore>> open(const std::string& root);

  Result<BlobInfo> put(ByteSource& src, std::string_view expected_digest) override;
  Status get(std::string_view digest, ByteSink& sink, uint64_t offset, uint64_t length) override;
  Result<uint64_t> stat(std::string_view digest) override;
  Result<std::vector<BlobInfo>> list() override;
  Status remove(std::string_view digest) override;

  // Where the object lives (for sendfile/hard links); validates the digest.
  Result<std::string> path_of(std::string_view digest) const;

  // A put without its fsyncs; sync() then makes many of them durable at once
  // (syncfs). For adding many files, where an fsync each would dominate.
  Result<BlobInfo> put_unsynced(ByteSource& src, std::string_view expected_digest);
  Status sync();
  Status put_many(const std::vector<std::pair<std::string, std::string>>& digest_and_path) override;
  // A file staged in this store's tmp/ folder (the server streams uploads
  // there) is hashed where it lies and linked into place: no second copy.
  // Other files are copied as by put().
  Result<BlobInfo> put_file(const std::string& path, std::string_view expected_digest) override;

 private:
  explicit LocalBlobStore(std::string root) : m_root(std::move(root)) {}
  Result<BlobInfo> put_impl(ByteSource& src, std::string_view expected_digest, bool sync);
  std::string m_root;
};

}  // namespace rh
