// The contract every BlobStore backend must keep (see blob_store.h). Each
// backend adds itself to the factory list at the bottom: the local store and
// the REST client against a real server in this process.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <thread>

#include "roundhouse/blob/blob_store.h"
#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/client/remote_store.h"
#include "roundhouse/env/env.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/testing/api_server.h"
#include "roundhouse/testing/temp_dir.h"

namespace rh {
namespace {

// A store under test. A client of a server cannot list or remove (the
// server owns that): `held` is the store where its objects land, the store
// itself or the server's own one, which the tests list and remove through.
struct OpenedBlobs {
  std::shared_ptr<void> keep;  // what `store` needs alive (a server)
  std::unique_ptr<BlobStore> store;
  BlobStore* held = nullptr;  // null: the store itself
  bool removes = true;        // false: remove() is refused and changes nothing
};

struct BlobBackend {
  std::string name;
  std::function<OpenedBlobs(const std::string& dir)> make;
};

// Hands out bytes in odd-sized pieces, to exercise streaming.
class DribbleSource final : public ByteSource {
 public:
  DribbleSource(std::string data, size_t piece) : m_data(std::move(data)), m_piece(piece) {}
  Result<size_t> read(char* buf, size_t n) override {
    size_t k = std::min({n, m_piece, m_data.size() - m_pos});
    std::memcpy(buf, m_data.data() + m_pos, k);
    m_pos += k;
    return k;
  }
  size_t consumed() const { return m_pos; }

 private:
  std::string m_data;
  size_t m_piece;
  size_t m_pos = 0;
};

class FailingSource final : public ByteSource {
 public:
  Result<size_t> read(char* buf, size_t n) override {
    if (m_calls++ == 0) {
      std::memset(buf, 'x', std::min<size_t>(n, 100));
      return std::min<size_t>(n, 100);
    }
    return make_error(ErrorCode::io, "connection reset");
  }

 private:
  int m_calls = 0;
};

class BlobConformance : public ::testing::TestWithParam<BlobBackend> {
 protected:
  void SetUp() override {
    m_opened = GetParam().make(m_dir.path());
    m_store = m_opened.store.get();
  }
  BlobStore& held() { return m_opened.held ? *m_opened.held : *m_store; }
  size_t held_count() {
    auto all = held().list();
    EXPECT_TRUE(all) << all.error().to_string();
    return all ? all->size() : 0;
  }
  // Removes through the store when it may, else where it keeps objects
  // (after checking the store refuses and keeps the object).
  void remove(const std::string& digest) {
    if (!m_opened.removes) {
      bool had = static_cast<bool>(m_store->stat(digest));
      auto r = m_store->remove(digest);
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
      EXPECT_EQ(static_cast<bool>(m_store->stat(digest)), had) << "a refused remove changed it";
    }
    ASSERT_TRUE(m_opened.removes ? m_store->remove(digest) : held().remove(digest));
  }
  testing::TempDir m_dir;
  OpenedBlobs m_opened;
  BlobStore* m_store = nullptr;
};

TEST_P(BlobConformance, PutThenGetRoundTrips) {
  auto info = m_store->put_bytes("hello blobs");
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_EQ(info->digest, sha256_digest("hello blobs"));
  EXPECT_EQ(info->size, 11u);
  auto back = m_store->get_bytes(info->digest);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, "hello blobs");
  auto size = m_store->stat(info->digest);
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, 11u);
}

TEST_P(BlobConformance, EmptyObject) {
  auto info = m_store->put_bytes("");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->digest,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto back = m_store->get_bytes(info->digest);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, "");
  EXPECT_EQ(*m_store->stat(info->digest), 0u);
}

TEST_P(BlobConformance, PutIsIdempotent) {
  auto a = m_store->put_bytes("same");
  auto b = m_store->put_bytes("same");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->digest, b->digest);
  EXPECT_EQ(held_count(), 1u);
}

TEST_P(BlobConformance, WrongExpectedDigestStoresNothing) {
  std::string wrong = sha256_digest("other");
  StringSource src("payload");
  auto r = m_store->put(src, wrong);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::corrupt);
  EXPECT_FALSE(m_store->stat(wrong));
  EXPECT_FALSE(m_store->stat(sha256_digest("payload")));
  EXPECT_EQ(held_count(), 0u);
}

TEST_P(BlobConformance, MalformedDigestIsInvalidArgument) {
  for (std::string bad : {"md5:abc", "sha256:XYZ", "sha256:../../etc/passwd", ""}) {
    auto r = m_store->stat(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << bad;
  }
}

TEST_P(BlobConformance, MissingObjectIsNotFound) {
  auto r = m_store->get_bytes(sha256_digest("never stored"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  remove(sha256_digest("never stored"));
}

TEST_P(BlobConformance, LargeObjectStreamsInPieces) {
  std::string data(5 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>((i * 2654435761u) >> 13);
  DribbleSource src(data, 77777);
  auto info = m_store->put(src, {});
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, data.size());
  EXPECT_EQ(info->digest, sha256_digest(data));
  size_t pieces = 0;
  size_t total = 0;
  CallbackSink sink([&](const char*, size_t n) -> Status {
    ++pieces;
    total += n;
    return {};
  });
  ASSERT_TRUE(m_store->get(info->digest, sink));
  EXPECT_EQ(total, data.size());
  EXPECT_GT(pieces, 1u) << "get must stream, not hand over one buffer";
}

TEST_P(BlobConformance, RangeRead) {
  auto info = m_store->put_bytes("0123456789");
  StringSink sink;
  ASSERT_TRUE(m_store->get(info->digest, sink, 3, 4));
  EXPECT_EQ(sink.data(), "3456");
  StringSink tail;
  ASSERT_TRUE(m_store->get(info->digest, tail, 8));
  EXPECT_EQ(tail.data(), "89");
}

TEST_P(BlobConformance, FailedSourceLeavesNothing) {
  FailingSource src;
  auto r = m_store->put(src, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_EQ(held_count(), 0u);
}

TEST_P(BlobConformance, RemoveDeletes) {
  auto info = m_store->put_bytes("bye");
  ASSERT_TRUE(info);
  remove(info->digest);
  auto gone = m_store->stat(info->digest);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::not_found);
}

TEST_P(BlobConformance, ManyCheckedObjectsAtOnce) {
  std::vector<std::string> data;
  for (int i = 0; i < 50; ++i)
    data.push_back("object " + std::to_string(i) + std::string(static_cast<size_t>(i) * 37, 'x'));
  std::vector<std::pair<std::string, std::string_view>> objects;
  for (const auto& d : data)
    objects.emplace_back(sha256_digest(d), d);
  objects.push_back(objects[3]);  // named twice: stored once
  ASSERT_TRUE(m_store->put_checked(objects));
  ASSERT_TRUE(m_store->put_checked(objects));  // stored already: nothing new
  for (const auto& d : data) {
    EXPECT_EQ(*m_store->get_bytes(sha256_digest(d)), d);
    EXPECT_EQ(*m_store->stat(sha256_digest(d)), d.size());
  }
  StringSink part;
  ASSERT_TRUE(m_store->get(sha256_digest(data[20]), part, 3, 5));
  EXPECT_EQ(part.data(), data[20].substr(3, 5));
  std::vector<std::string> asked = {sha256_digest(data[7]), sha256_digest("absent")};
  EXPECT_EQ(*m_store->missing(asked), std::vector<std::string>{asked[1]});
  EXPECT_EQ(held_count(), data.size());
  remove(sha256_digest(data[7]));
  EXPECT_EQ(m_store->stat(sha256_digest(data[7])).error().code, ErrorCode::not_found);
  EXPECT_EQ(*m_store->get_bytes(sha256_digest(data[8])), data[8]);
  EXPECT_EQ(held_count(), data.size() - 1);
}

TEST_P(BlobConformance, ConcurrentPutsOfSameObject) {
  std::string data(300000, 'q');
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (m_store->put_bytes(data))
        ++ok;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(*m_store->get_bytes(sha256_digest(data)), data);
  EXPECT_EQ(held_count(), 1u);
}

TEST(LocalBlobStoreBytes, StoresOnceAndReplacesADamagedObject) {
  testing::TempDir dir;
  auto store = std::move(*LocalBlobStore::open(dir.path() + "/blobs"));
  std::string data = "four kilobytes, or so";
  std::string d = sha256_digest(data);
  ASSERT_TRUE(store->put_bytes_unsynced(d, data));
  ASSERT_TRUE(store->put_bytes_unsynced(d, data));  // deduplicated
  EXPECT_EQ(*store->get_bytes(d), data);
  EXPECT_EQ(store->list()->size(), 1u);
  // A same-named object of the wrong size (cut short) is replaced.
  std::string path = *store->path_of(d);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_EQ(::truncate(path.c_str(), 3), 0);
  ASSERT_TRUE(store->put_bytes_unsynced(d, data));
  EXPECT_EQ(*store->get_bytes(d), data);
  EXPECT_FALSE(store->put_bytes_unsynced("sha256:nope", data));
}

TEST(LocalBlobStoreBytes, ConcurrentSyncsAllReturnAndMissingKeepsOrder) {
  testing::TempDir dir;
  auto store = std::move(*LocalBlobStore::open(dir.path() + "/blobs"));
  // Eight writers, each storing and syncing in turns: every sync returns
  // (group commit: some are answered by another caller's syncfs).
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 20; ++i) {
        std::string data = "writer " + std::to_string(w) + " object " + std::to_string(i);
        if (!store->put_bytes_unsynced(sha256_digest(data), data) || !store->sync())
          ++failures;
      }
    });
  }
  for (auto& t : writers)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->list()->size(), 160u);
  std::vector<std::string> asked = {sha256_digest("absent b"), sha256_digest("writer 3 object 7"),
                                    sha256_digest("absent a")};
  auto missing = store->missing(asked);
  ASSERT_TRUE(missing);
  EXPECT_EQ(*missing, (std::vector<std::string>{asked[0], asked[2]}));
  EXPECT_FALSE(store->missing({"sha256:not-a-digest"}));
}

OpenedBlobs open_local(const std::string& dir) {
  OpenedBlobs o;
  o.store = std::move(*LocalBlobStore::open(dir + "/blobs"));
  return o;
}

// The REST client against a real rh server (in this process, on a free port)
// whose objects land in a local store in dir.
OpenedBlobs open_client(const std::string& dir) {
  static RealEnv env;
  auto server = std::make_shared<testing::ApiServer>(dir, env);
  auto remote = open_remote(server->url(), "");
  if (!remote)
    throw std::runtime_error(remote.error().to_string());
  OpenedBlobs o;
  o.held = &server->blobs();
  o.keep = server;
  o.store = std::move(remote->blobs);
  o.removes = false;
  return o;
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobConformance,
                         ::testing::Values(BlobBackend{"local", open_local},
                                           BlobBackend{"rest_client", open_client}),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace rh
