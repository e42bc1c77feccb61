// The sweeper on a real SQLite store and blob folder: a collected
// checkpoint's blobs go, unless something else still names them — another
// artifact's members, a pipeline's alias, or the manifest of a checkpoint recorded before
// artifacts listed their members.
#include "roundhouse/api/blob_sweeper.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/env/env.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/testing/temp_dir.h"

namespace rh::api {
namespace {

TEST(BlobSweeper, RemovesWhatNothingNamesAndKeepsWhatOldCheckpointsList) {
  testing::TempDir dir;
  FakeEnv env;
  auto store = std::move(open_sqlite_store(dir.path() + "/rh.db", env).value());
  auto blobs = std::move(LocalBlobStore::open(dir.path() + "/blobs").value());
  NewTask nt;
  nt.project = "p";
  nt.name = "t";
  std::string task = store->tasks().create(nt).value().id;
  auto put = [&](const std::string& s) { return blobs->put_bytes(s).value().digest; };
  std::string shared = put("shared weights"), own = put("own weights");
  std::string pushed = put("a pipeline out");
  // A pipeline pushed `pushed` under its md5 name: the alias refers to it.
  ASSERT_TRUE(store->blob_aliases().put({{"0123456789abcdef0123456789abcdef", pushed}}));
  // An old checkpoint: no members recorded, its manifest names `shared`.
  Artifact old_ckpt;
  old_ckpt.name = "checkpoint/old";
  old_ckpt.type = "checkpoint";
  old_ckpt.digest = put(nlohmann::json{{"files", {{{"path", "w"}, {"digest", shared}}}}}.dump());
  ASSERT_TRUE(store->artifacts().put(task, old_ckpt));
  // A new one with members, then removed.
  Artifact ckpt;
  ckpt.name = "checkpoint/new";
  ckpt.type = "checkpoint";
  ckpt.digest = put("manifest of new");
  ckpt.members = {shared, own, pushed};
  ASSERT_TRUE(store->artifacts().put(task, ckpt));
  ASSERT_TRUE(store->artifacts().remove(task, "checkpoint/new"));
  env.advance(10);
  std::shared_mutex refs;
  BlobSweeper sweeper(*store, *blobs, refs, /*grace_s=*/-1, 60, [&] { return env.now(); });
  BlobSweeper now(*store, *blobs, refs, 5, 60, [&] { return env.now(); });
  auto removed = now.sweep();
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, 2);  // `own` and the removed manifest
  EXPECT_EQ(blobs->stat(own).error().code, ErrorCode::not_found);
  EXPECT_EQ(blobs->stat(ckpt.digest).error().code, ErrorCode::not_found);
  EXPECT_TRUE(blobs->stat(shared));
  EXPECT_TRUE(blobs->stat(pushed));
  EXPECT_TRUE(blobs->stat(old_ckpt.digest));
  EXPECT_EQ(*now.sweep(), 0);  // nothing left to do
  now.stop();
  sweeper.stop();
}

}  // namespace
}  // namespace rh::api
