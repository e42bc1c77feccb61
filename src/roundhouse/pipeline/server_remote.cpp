#include "roundhouse/pipeline/server_remote.h"

#include <algorithm>
#include <map>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/hash/md5.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/store/metadata_store.h"
#include "roundhouse/util/parallel.h"

namespace rh::pipeline {

namespace {

class ServerRemote final : public ObjectRemote {
 public:
  ServerRemote(std::string url, MetadataStore& store, BlobStore& blobs)
      : m_url(std::move(url)), m_store(store), m_blobs(blobs) {}
  std::string describe() const override { return m_url; }

  Result<std::vector<std::string>> missing(const std::vector<std::string>& md5s) override {
    RH_TRY_ASSIGN(auto known, m_store.blob_aliases().lookup(md5s));
    std::map<std::string, std::string> found(known.begin(), known.end());
    std::vector<std::string> out;
    for (const auto& m : md5s)
      if (!found.count(m))
        out.push_back(m);
    return out;
  }

  Result<uint64_t> push(const std::vector<std::string>& md5s, const std::string& cache_root,
                        const TransferProgress& progress) override {
    // Each object's SHA-256 (one read), then only the blobs the server lacks.
    std::vector<FileDigests> digests(md5s.size());
    RH_TRY(parallel_for(md5s.size(), [&](size_t i) -> Status {
      RH_TRY_ASSIGN(digests[i], md5_sha256_file(object_path(cache_root, md5s[i])));
      return {};
    }));
    std::vector<std::string> shas;
    for (const auto& d : digests)
      shas.push_back(d.sha256);
    RH_TRY_ASSIGN(auto lacking, m_blobs.missing(shas));
    std::map<std::string, bool> send;
    for (const auto& sha : lacking)
      send[sha] = true;
    std::vector<char> upload(md5s.size(), 0);
    uint64_t bytes = 0;
    for (size_t i = 0; i < md5s.size(); ++i)
      if (send.erase(digests[i].sha256)) {  // the same content under two names goes once
        upload[i] = 1;
        bytes += digests[i].size;
      }
    // In slices, so the progress moves and a cut-short push keeps its aliases.
    const size_t slice = 256;
    uint64_t sent = 0;
    for (size_t at = 0; at < md5s.size(); at += slice) {
      size_t end = std::min(md5s.size(), at + slice);
      std::vector<std::pair<std::string, std::string>> part, names;
      for (size_t i = at; i < end; ++i) {
        if (upload[i]) {
          part.emplace_back(digests[i].sha256, object_path(cache_root, md5s[i]));
          sent += digests[i].size;
        }
        names.emplace_back(md5s[i], digests[i].sha256);
      }
      if (!part.empty())
        RH_TRY(m_blobs.put_many(part));
      RH_TRY(m_store.blob_aliases().put(names));
      if (progress)
        progress(end, md5s.size(), sent);
    }
    return bytes;
  }

  Result<uint64_t> fetch(const std::vector<std::string>& md5s, const std::string& cache_root,
                         const TransferProgress& progress) override {
    RH_TRY_ASSIGN(auto known, m_store.blob_aliases().lookup(md5s));
    std::map<std::string, std::string> digest(known.begin(), known.end());
    for (const auto& m : md5s)
      if (!digest.count(m))
        return make_error(ErrorCode::not_found, "the server " + m_url + " lacks " + m);
    return for_each_object(md5s, progress, 8, [&](const std::string& md5) {
      return receive_object(cache_root, md5,
                            [&](ByteSink& sink) { return m_blobs.get(digest.at(md5), sink); });
    });
  }

 private:
  std::string m_url;
  MetadataStore& m_store;
  BlobStore& m_blobs;
};

}  // namespace

std::unique_ptr<ObjectRemote> server_remote(const std::string& url, MetadataStore& store,
                                            BlobStore& blobs) {
  return std::make_unique<ServerRemote>(url, store, blobs);
}

}  // namespace rh::pipeline
