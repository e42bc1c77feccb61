#include "roundhouse/pipeline/remote.h"

#include <sys/stat.h>

#include <atomic>
#include <mutex>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/hash/md5.h"
#include "roundhouse/pipeline/dvc_cache.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/parallel.h"

namespace rh::pipeline {

namespace {

class AtomicSink final : public ByteSink {
 public:
  explicit AtomicSink(AtomicFile& f) : m_f(f) {}
  Status write(const char* data, size_t n) override {
    m_bytes += n;
    return m_f.write(data, n);
  }
  uint64_t bytes() const { return m_bytes; }

 private:
  AtomicFile& m_f;
  uint64_t m_bytes = 0;
};

// Streams a file's bytes into sink.
Status stream_file(const std::string& from, ByteSink& sink) {
  FileSource src(from);
  if (src.open_error())
    return std::unexpected(*src.open_error());
  char buf[1 << 16];
  for (;;) {
    RH_TRY_ASSIGN(size_t n, src.read(buf, sizeof buf));
    if (n == 0)
      return {};
    RH_TRY(sink.write(buf, n));
  }
}

// Copies a file into `target` atomically (a temporary file beside it).
Status copy_in(const std::string& from, const std::string& target) {
  RH_TRY(make_dirs(dirname_of(target)));
  RH_TRY_ASSIGN(AtomicFile out, AtomicFile::create(target));
  AtomicSink sink(out);
  RH_TRY(stream_file(from, sink));
  return out.commit_to(target, /*keep_existing=*/true, /*sync=*/false);
}

uint64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? uint64_t(st.st_size) : 0;
}

class FolderRemote final : public ObjectRemote {
 public:
  explicit FolderRemote(std::string folder) : m_folder(std::move(folder)) {}
  std::string describe() const override { return m_folder; }

  Result<std::vector<std::string>> missing(const std::vector<std::string>& md5s) override {
    std::vector<char> gone(md5s.size(), 0);
    RH_TRY(parallel_for(md5s.size(), [&](size_t i) -> Status {
      gone[i] = !path_exists(object_path(m_folder, md5s[i]));
      return {};
    }));
    std::vector<std::string> out;
    for (size_t i = 0; i < md5s.size(); ++i)
      if (gone[i])
        out.push_back(md5s[i]);
    return out;
  }

  Result<uint64_t> push(const std::vector<std::string>& md5s, const std::string& cache_root,
                        const TransferProgress& progress) override {
    if (!path_exists(m_folder))
      RH_TRY(make_dirs(m_folder));
    RH_TRY_ASSIGN(
        uint64_t bytes,
        for_each_object(md5s, progress, 0, [&](const std::string& md5) -> Result<uint64_t> {
          std::string from = object_path(cache_root, md5);
          RH_TRY(copy_in(from, object_path(m_folder, md5)));
          return size_of(from);
        }));
    if (!md5s.empty())
      RH_TRY(sync_file_system(m_folder));
    return bytes;
  }

  Result<uint64_t> fetch(const std::vector<std::string>& md5s, const std::string& cache_root,
                         const TransferProgress& progress) override {
    return for_each_object(md5s, progress, 0, [&](const std::string& md5) -> Result<uint64_t> {
      std::string from = object_path(m_folder, md5);
      return receive_object(cache_root, md5,
                            [&](ByteSink& sink) { return stream_file(from, sink); });
    });
  }

 private:
  std::string m_folder;
};

}  // namespace

Result<uint64_t> for_each_object(const std::vector<std::string>& md5s,
                                 const TransferProgress& progress, unsigned workers,
                                 const std::function<Result<uint64_t>(const std::string&)>& one) {
  std::atomic<uint64_t> bytes{0}, done{0};
  std::mutex mu;
  RH_TRY(parallel_for(
      md5s.size(),
      [&](size_t i) -> Status {
        RH_TRY_ASSIGN(uint64_t n, one(md5s[i]));
        bytes += n;
        uint64_t d = ++done;
        if (progress) {
          std::lock_guard lk(mu);
          progress(d, md5s.size(), bytes);
        }
        return {};
      },
      {}, workers));
  return bytes.load();
}

std::unique_ptr<ObjectRemote> folder_remote(const std::string& folder) {
  return std::make_unique<FolderRemote>(folder);
}

Result<uint64_t> receive_object(const std::string& cache_root, const std::string& md5,
                                const std::function<Status(ByteSink&)>& fill) {
  std::string target = object_path(cache_root, md5);
  RH_TRY(make_dirs(dirname_of(target)));
  RH_TRY_ASSIGN(AtomicFile out, AtomicFile::create(target));
  AtomicSink sink(out);
  RH_TRY(fill(sink));
  RH_TRY_ASSIGN(FileDigests d, md5_sha256_file(out.temp_path()));
  std::string want = md5.ends_with(".dir") ? md5.substr(0, md5.size() - 4) : md5;
  if (d.md5 != want)
    return make_error(ErrorCode::corrupt, "object " + md5 + " arrived with md5 " + d.md5 +
                                              ": damaged on the remote or on the way; not stored");
  RH_TRY(out.commit_to(target, /*keep_existing=*/true, /*sync=*/false));
  ::chmod(target.c_str(), 0444);
  return sink.bytes();
}

}  // namespace rh::pipeline
