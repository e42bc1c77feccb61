#include "roundhouse/api/blob_sweeper.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace rh::api {

BlobSweeper::BlobSweeper(MetadataStore& store, BlobStore& blobs, std::shared_mutex& refs,
                         double grace_s, double period_s, std::function<double()> now)
    : m_store(store),
      m_blobs(blobs),
      m_refs(refs),
      m_grace_s(grace_s),
      m_period_s(period_s),
      m_now(std::move(now)) {
  if (m_grace_s >= 0)
    m_thread = std::thread([this] { loop(); });
}

BlobSweeper::~BlobSweeper() {
  stop();
}

void BlobSweeper::stop() {
  {
    std::lock_guard lk(m_mu);
    m_stop = true;
  }
  m_cv.notify_all();
  if (m_thread.joinable())
    m_thread.join();
}

void BlobSweeper::poke() {
  {
    std::lock_guard lk(m_mu);
    m_poked = true;
  }
  m_cv.notify_all();
}

Result<int64_t> BlobSweeper::sweep() {
  int64_t removed = 0;
  for (;;) {
    std::unique_lock lk(m_refs);
    RH_TRY_ASSIGN(auto digests, m_store.blob_orphans().removable(m_now() - m_grace_s, 1000));
    if (digests.empty())
      return removed;
    RH_TRY_ASSIGN(auto keep, legacy_files());
    std::vector<std::string> gone;
    for (const auto& d : digests) {
      if (keep.count(d)) {
        gone.push_back(d);  // no candidate: an old checkpoint lists it
        continue;
      }
      if (auto st = m_blobs.remove(d); !st) {
        std::fprintf(stderr, "rh server: cannot remove unreferenced blob %s: %s\n", d.c_str(),
                     st.error().message.c_str());
        continue;  // stays a candidate; tried again next round
      }
      gone.push_back(d);
    }
    RH_TRY(m_store.blob_orphans().forget(gone));
    for (const auto& d : gone)
      removed += keep.count(d) ? 0 : 1;
    if (digests.size() < 1000 || gone.size() < digests.size())
      return removed;
  }
}

Result<std::set<std::string>> BlobSweeper::legacy_files() {
  std::set<std::string> out;
  RH_TRY_ASSIGN(auto manifests, m_store.blob_orphans().memberless_manifests());
  for (const auto& m : manifests) {
    out.insert(m);
    StringSink sink;
    if (!m_blobs.get(m, sink))
      continue;
    auto j = nlohmann::json::parse(sink.data(), nullptr, false);
    if (!j.is_object() || !j.contains("files") || !j["files"].is_array())
      continue;
    for (const auto& f : j["files"])
      if (f.is_object() && f.contains("digest") && f["digest"].is_string())
        out.insert(f["digest"].get<std::string>());
  }
  return out;
}

void BlobSweeper::loop() {
  std::unique_lock lk(m_mu);
  for (;;) {
    m_cv.wait_for(lk, std::chrono::duration<double>(m_period_s), [&] { return m_stop || m_poked; });
    if (m_stop)
      return;
    m_poked = false;
    lk.unlock();
    if (auto r = sweep(); !r)
      std::fprintf(stderr, "rh server: blob sweep: %s\n", r.error().message.c_str());
    lk.lock();
  }
}

}  // namespace rh::api
