// Packs of a local blob store (packs.h): what is on disk after a batch, and
// what a crash or a removal leaves for the next opening of the store.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "roundhouse/blob/blob_batch.h"
#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh {
namespace {

std::vector<std::string> names_in(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return out;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.ends_with(suffix))
      out.push_back(n);
  }
  ::closedir(d);
  return out;
}

std::vector<std::string> contents(int n, const std::string& tag) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(tag + " " + std::to_string(i) + std::string(static_cast<size_t>(i) % 300, 'y'));
  return out;
}

std::vector<std::pair<std::string, std::string_view>> checked(const std::vector<std::string>& v) {
  std::vector<std::pair<std::string, std::string_view>> out;
  for (const auto& d : v)
    out.emplace_back(sha256_digest(d), d);
  return out;
}

TEST(Packs, ABatchIsOnePackFileAndNoLooseObjects) {
  testing::TempDir dir;
  std::string root = dir.path() + "/blobs";
  auto store = std::move(*LocalBlobStore::open(root));
  auto data = contents(500, "batch");
  ASSERT_TRUE(store->put_checked(checked(data)));
  EXPECT_EQ(names_in(root + "/packs", ".pack").size(), 1u);
  EXPECT_FALSE(path_exists(*store->path_of(sha256_digest(data[0]))));
  // A second batch, half of it stored already: a pack with the new half only.
  auto more = contents(250, "batch");
  auto fresh = contents(250, "fresh");
  more.insert(more.end(), fresh.begin(), fresh.end());
  ASSERT_TRUE(store->put_checked(checked(more)));
  auto packs = names_in(root + "/packs", ".pack");
  ASSERT_EQ(packs.size(), 2u);
  struct stat a, b;
  ASSERT_EQ(::stat((root + "/packs/" + packs[0]).c_str(), &a), 0);
  ASSERT_EQ(::stat((root + "/packs/" + packs[1]).c_str(), &b), 0);
  EXPECT_LT(std::min(a.st_size, b.st_size), std::max(a.st_size, b.st_size) / 2);
  // Another opening of the store finds them all through the index.
  store.reset();
  auto again = std::move(*LocalBlobStore::open(root));
  for (const auto& d : data)
    ASSERT_EQ(*again->get_bytes(sha256_digest(d)), d);
  for (const auto& d : fresh)
    ASSERT_EQ(*again->get_bytes(sha256_digest(d)), d);
  EXPECT_EQ(again->list()->size(), 750u);
}

TEST(Packs, APackTheIndexNeverSawIsIndexedWhenTheStoreOpens) {
  testing::TempDir dir;
  std::string root = dir.path() + "/blobs";
  auto store = std::move(*LocalBlobStore::open(root));
  ASSERT_TRUE(store->put_checked(checked(contents(3, "first"))));  // the index exists
  store.reset();
  // What a crash between a pack's link and its index transaction leaves.
  auto data = contents(40, "orphan");
  std::string pack = new_blob_batch();
  for (const auto& d : data)
    append_blob(pack, sha256_digest(d), d);
  ASSERT_TRUE(write_file_atomic(root + "/packs/0123456789abcdef0123456789abcdef.pack", pack));
  // And a file that is not a whole pack: set aside, not read, not deleted.
  std::string cut = pack.substr(0, pack.size() / 2);
  ASSERT_TRUE(write_file_atomic(root + "/packs/fedcba9876543210fedcba9876543210.pack", cut));
  auto again = std::move(*LocalBlobStore::open(root));
  for (const auto& d : data)
    ASSERT_EQ(*again->get_bytes(sha256_digest(d)), d);
  EXPECT_EQ(again->list()->size(), 43u);
  EXPECT_TRUE(path_exists(root + "/packs/fedcba9876543210fedcba9876543210.pack.bad"));
}

TEST(Packs, TwoStoresOnOneFolderSeeEachOthersPacks) {
  testing::TempDir dir;
  std::string root = dir.path() + "/blobs";
  auto a = std::move(*LocalBlobStore::open(root));
  auto b = std::move(*LocalBlobStore::open(root));
  auto first = contents(10, "first");
  ASSERT_TRUE(a->put_checked(checked(first)));
  EXPECT_EQ(*b->get_bytes(sha256_digest(first[2])), first[2]);  // b opens the index now
  auto later = contents(10, "later");
  ASSERT_TRUE(b->put_checked(checked(later)));  // a pack a has not heard of
  EXPECT_EQ(*a->get_bytes(sha256_digest(later[4])), later[4]);
  EXPECT_TRUE(a->missing({sha256_digest(later[9])})->empty());
  // a empties b's pack: the file goes, found by its name in the index.
  for (const auto& d : later)
    ASSERT_TRUE(a->remove(sha256_digest(d)));
  EXPECT_EQ(names_in(root + "/packs", ".pack").size(), 1u);
  EXPECT_EQ(b->stat(sha256_digest(later[0])).error().code, ErrorCode::not_found);
  EXPECT_EQ(*b->get_bytes(sha256_digest(first[0])), first[0]);
}

TEST(Packs, APackGoesWithItsLastObjectAndStaysGone) {
  testing::TempDir dir;
  std::string root = dir.path() + "/blobs";
  auto store = std::move(*LocalBlobStore::open(root));
  auto keep = contents(5, "keep");
  auto go = contents(5, "go");
  ASSERT_TRUE(store->put_checked(checked(keep)));
  std::string keep_pack = names_in(root + "/packs", ".pack").at(0);
  ASSERT_TRUE(store->put_checked(checked(go)));
  auto both = names_in(root + "/packs", ".pack");
  ASSERT_EQ(both.size(), 2u);
  std::string go_pack = root + "/packs/" + (both[0] == keep_pack ? both[1] : both[0]);
  std::string go_bytes = *read_file(go_pack);
  for (const auto& d : go)
    ASSERT_TRUE(store->remove(sha256_digest(d)));
  ASSERT_TRUE(store->remove(sha256_digest(go[0])));  // removed already: not an error
  EXPECT_EQ(names_in(root + "/packs", ".pack").size(), 1u);
  ASSERT_TRUE(store->remove(sha256_digest(keep[0])));  // one of a pack: the rest stay readable
  for (size_t i = 1; i < keep.size(); ++i)
    EXPECT_EQ(*store->get_bytes(sha256_digest(keep[i])), keep[i]);
  store.reset();
  // The emptied pack's file as a crash right after the index dropped it
  // would leave it: deleted when the store opens, its objects not revived.
  ASSERT_TRUE(write_file_atomic(go_pack, go_bytes));
  auto again = std::move(*LocalBlobStore::open(root));
  EXPECT_FALSE(again->stat(sha256_digest(keep[0])));  // (the index opens on first use)
  EXPECT_FALSE(path_exists(go_pack));
  EXPECT_EQ(again->list()->size(), keep.size() - 1);
  EXPECT_EQ(again->stat(sha256_digest(go[1])).error().code, ErrorCode::not_found);
}

TEST(Packs, PutManyPacksSmallFilesCopiesLargeOnesAndChecksEach) {
  testing::TempDir dir;
  std::string root = dir.path() + "/blobs";
  auto store = std::move(*LocalBlobStore::open(root));
  std::vector<std::pair<std::string, std::string>> items;
  auto small = contents(30, "file");
  for (size_t i = 0; i < small.size(); ++i) {
    std::string path = dir.path() + "/f" + std::to_string(i);
    ASSERT_TRUE(write_file_atomic(path, small[i]));
    items.emplace_back(sha256_digest(small[i]), path);
  }
  std::string large((5 << 20) + 3, 'L');
  ASSERT_TRUE(write_file_atomic(dir.path() + "/large", large));
  items.emplace_back(sha256_digest(large), dir.path() + "/large");
  ASSERT_TRUE(store->put_many(items));
  EXPECT_EQ(names_in(root + "/packs", ".pack").size(), 1u);
  EXPECT_TRUE(path_exists(*store->path_of(sha256_digest(large))));  // loose: linkable, sendable
  for (const auto& [digest, path] : items)
    EXPECT_TRUE(store->missing({digest})->empty()) << path;
  EXPECT_EQ(store->list()->size(), items.size());
  // A file that no longer matches its digest is refused, naming it.
  std::string changed = dir.path() + "/changed";
  ASSERT_TRUE(write_file_atomic(changed, "new content"));
  auto st = store->put_many({{sha256_digest("old content"), changed}});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::corrupt);
  EXPECT_NE(st.error().message.find(changed), std::string::npos) << st.error().message;
  EXPECT_EQ(store->stat(sha256_digest("old content")).error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace rh
