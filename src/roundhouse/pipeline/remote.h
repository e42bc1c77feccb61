// A remote holding cached objects by their md5 names (dvc_cache.h), for
// push, pull and fetch. Backends: a local folder with DVC's remote layout
// (<folder>/files/md5/<2 hex>/<rest>, what `dvc push` to a local remote
// writes, so either tool pulls what the other pushed) and an `rh server`
// (server_remote.h: the objects are blobs by SHA-256 with their md5 names as
// aliases). Every object arrives in the local cache through
// receive_object(): written to a temporary file, its md5 checked against its
// name, then renamed (read-only); a transfer cut short leaves whole objects
// only, so running it again sends just the rest. Objects are not fsynced one
// by one: the receiving side's file system is synced once when a push or a
// fetch (sync.h) ends, before anything that names them is written.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {
class ByteSink;
}

namespace rh::pipeline {

// Objects done so far, of `total`, and their bytes.
using TransferProgress = std::function<void(uint64_t done, uint64_t total, uint64_t bytes)>;

class ObjectRemote {
 public:
  virtual ~ObjectRemote() = default;
  virtual std::string describe() const = 0;
  // The names among `md5s` the remote lacks.
  virtual Result<std::vector<std::string>> missing(const std::vector<std::string>& md5s) = 0;
  // Sends these objects of the local cache; returns the bytes sent.
  virtual Result<uint64_t> push(const std::vector<std::string>& md5s, const std::string& cache_root,
                                const TransferProgress& progress) = 0;
  // Brings these objects into the local cache (each checked); the bytes received.
  virtual Result<uint64_t> fetch(const std::vector<std::string>& md5s,
                                 const std::string& cache_root,
                                 const TransferProgress& progress) = 0;
};

std::unique_ptr<ObjectRemote> folder_remote(const std::string& folder);

// Runs `one` for each object on `workers` threads (0: parallel_for's
// default), summing the bytes it returns and reporting progress (from one
// thread at a time): what every backend's transfers share.
Result<uint64_t> for_each_object(const std::vector<std::string>& md5s,
                                 const TransferProgress& progress, unsigned workers,
                                 const std::function<Result<uint64_t>(const std::string&)>& one);

// Writes one object into the cache: `fill` writes its bytes into the sink;
// corrupt (nothing stored) when their md5 is not the name's.
Result<uint64_t> receive_object(const std::string& cache_root, const std::string& md5,
                                const std::function<Status(ByteSink&)>& fill);

}  // namespace rh::pipeline
