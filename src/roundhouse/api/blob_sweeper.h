// BlobSweeper: the server's thread that removes blobs nothing refers to any
// more (BlobOrphans: candidates noted when an artifact, a checkpoint or a
// task goes, removable once unreferenced and older than the grace). It runs
// every `period` seconds and when poked, under the exclusive side of `refs`;
// the routes that record a reference to a stored blob (artifacts, models,
// plots, dataset files) hold its shared side while they check the blob is
// there and write the row, so a blob is never removed between the two.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/store/metadata_store.h"

namespace rh::api {

class BlobSweeper {
 public:
  // grace_s < 0: no thread, nothing removed. now: the store's clock.
  BlobSweeper(MetadataStore& store, BlobStore& blobs, std::shared_mutex& refs, double grace_s,
              double period_s, std::function<double()> now);
  ~BlobSweeper();  // stop()
  BlobSweeper(const BlobSweeper&) = delete;
  BlobSweeper& operator=(const BlobSweeper&) = delete;
  void stop();
  void poke();
  // One round now, on the caller's thread: the number of blobs removed.
  Result<int64_t> sweep();

 private:
  void loop();
  // What checkpoints recorded before artifact members list (their manifests
  // and files): never removed.
  Result<std::set<std::string>> legacy_files();
  MetadataStore& m_store;
  BlobStore& m_blobs;
  std::shared_mutex& m_refs;
  double m_grace_s, m_period_s;
  std::function<double()> m_now;
  std::mutex m_mu;
  std::condition_variable m_cv;
  bool m_stop = false, m_poked = false;
  std::thread m_thread;
};

}  // namespace rh::api
