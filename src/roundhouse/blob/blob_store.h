// BlobStore: immutable objects named by the SHA-256 of their content
// ("sha256:<hex>", hash/digest.h). Backends: the local folder
// (blob/local/local_blob_store.h) and the REST client of a server
// (client/remote_blob_store.h).
//
// Contract shared by every backend (checked by blob_conformance_test.cpp):
// - put streams the source, computes its digest and stores it under that
//   name; when an expected digest is given and differs, nothing is stored and
//   the error is `corrupt`. Putting an object that exists succeeds (idempotent).
// - an object is visible only once complete: a reader never sees part of one.
// - get streams the object (optionally a byte range) into a sink; an unknown
//   digest is `not_found`.
// All methods are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {

// Bytes read once, front to back. read returns 0 at the end.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual Result<size_t> read(char* buf, size_t n) = 0;
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status write(const char* data, size_t n) = 0;
};

class StringSource final : public ByteSource {
 public:
  explicit StringSource(std::string_view s) : m_data(s) {}
  Result<size_t> read(char* buf, size_t n) override;

 private:
  std::string_view m_data;
};

class FileSource final : public ByteSource {
 public:
  // Opens path for reading; check open_error() before use.
  explicit FileSource(const std::string& path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  const std::optional<Error>& open_error() const { return m_error; }
  Result<size_t> read(char* buf, size_t n) override;

 private:
  int m_fd = -1;
  std::string m_path;
  std::optional<Error> m_error;
};

class StringSink final : public ByteSink {
 public:
  Status write(const char* data, size_t n) override {
    m_data.append(data, n);
    return {};
  }
  std::string& data() { return m_data; }

 private:
  std::string m_data;
};

// Calls back for each piece (e.g. into a socket or curl).
class CallbackSink final : public ByteSink {
 public:
  explicit CallbackSink(std::function<Status(const char*, size_t)> fn) : m_fn(std::move(fn)) {}
  Status write(const char* data, size_t n) override { return m_fn(data, n); }

 private:
  std::function<Status(const char*, size_t)> m_fn;
};

// Streams [offset, offset + length) of an open file into sink, a MiB at a
// time (`name` is what an error calls the file). The end of the file ends
// the stream early, or is an error ("cut short") when `exact`.
Status read_range(int fd, uint64_t offset, uint64_t length, ByteSink& sink, const std::string& name,
                  bool exact);

struct BlobInfo {
  std::string digest;
  uint64_t size = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Stores src; see the contract above. expected_digest may be empty.
  virtual Result<BlobInfo> put(ByteSource& src, std::string_view expected_digest) = 0;
  // Streams [offset, offset+length) of the object into sink; length = npos means to the end.
  virtual Status get(std::string_view digest, ByteSink& sink, uint64_t offset = 0,
                     uint64_t length = UINT64_MAX) = 0;
  // Size of the object, or not_found.
  virtual Result<uint64_t> stat(std::string_view digest) = 0;
  // Every object held. A client of a server refuses (invalid_argument): the
  // listing is the server's own store's.
  virtual Result<std::vector<BlobInfo>> list() = 0;
  // Removing a missing object is not an error. A client of a server refuses
  // (invalid_argument) and changes nothing: only the server, which knows
  // what refers to an object, removes it.
  virtual Status remove(std::string_view digest) = 0;

  // Conveniences over put/get.
  Result<BlobInfo> put_bytes(std::string_view data);
  // Backends that must know the digest before sending (HTTP) hash the file first.
  virtual Result<BlobInfo> put_file(const std::string& path, std::string_view expected_digest);
  Result<BlobInfo> put_file(const std::string& path) { return put_file(path, {}); }
  // Progress of long transfers (bytes done, total), for the CLI's progress bar.
  virtual void set_progress(std::function<void(uint64_t, uint64_t)>) {}
  // Stores many files, each under its known digest (checked). Remote stores
  // send small ones many to a request; a local store syncs once at the end.
  virtual Status put_many(const std::vector<std::pair<std::string, std::string>>& digest_and_path);
  // Stores many small objects whose bytes the caller has checked against
  // their digests (a received upload batch), together; durable on return.
  // A local store writes them into one pack; the default puts each.
  virtual Status put_checked(const std::vector<std::pair<std::string, std::string_view>>& objects);
  // Reads many (small) objects, calling `each` with every one's bytes;
  // remote stores fetch them many to a request.
  virtual Status get_many(const std::vector<std::string>& digests,
                          const std::function<Status(const std::string&, std::string_view)>& each);
  // The digests of `digests` this store does not hold (one stat each here;
  // remote stores ask in one request).
  virtual Result<std::vector<std::string>> missing(const std::vector<std::string>& digests);
  Result<std::string> get_bytes(std::string_view digest);
  // Stores a staged file whose digest the caller computed as it was written
  // (the server hashes an upload as it arrives). A local store moves the
  // file in without reading it again; the default stores it with put_file.
  virtual Result<BlobInfo> put_staged(const std::string& path, const std::string& digest) {
    return put_file(path, digest);
  }
  // A plain file holding exactly the object's bytes, for sending it with
  // sendfile; empty when the store keeps it otherwise (packed, remote).
  virtual std::string file_of(std::string_view digest) { return {}; }
};

}  // namespace rh
