#include "roundhouse/experiment/context.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::experiment {
namespace {

void write(const std::string& path, const std::string& bytes, mode_t mode = 0644) {
  ASSERT_TRUE(make_dirs(path.substr(0, path.rfind('/'))));
  std::ofstream(path, std::ios::binary) << bytes;
  ::chmod(path.c_str(), mode);
}

std::string slurp(const std::string& path) {
  auto r = read_file(path);
  return r ? *r : "<unreadable>";
}

// A context as users have them: an empty __init__.py, binary data, spaces
// and UTF-8 in names, an executable script, a link, outputs to leave out.
void make_tree(const std::string& d) {
  write(d + "/train.py", "import pkg\n");
  write(d + "/pkg/__init__.py", "");
  write(d + "/pkg/__pycache__/m.cpython-311.pyc", "bytecode");
  write(d + "/run me.sh", "#!/bin/sh\necho hi\n", 0755);
  write(d + "/d\xc3\xa4ten/w\xc3\xbcrfel.bin", std::string("\0\x01\xff\x00zz", 6));
  write(d + "/outputs/model.pt", std::string(4096, 'm'));
  write(d + "/logs/run.log", "log");
  write(d + "/keep.log", "kept");
  write(d + "/.git/config", "[core]");
  write(d + "/.rhignore", "outputs/\n*.log\n!keep.log\n");
  ASSERT_EQ(::symlink("pkg/__init__.py", (d + "/init-link").c_str()), 0);
}

TEST(ContextTest, PacksWhatTheRulesKeepAndUnpacksItByteForByte) {
  testing::TempDir t;
  std::string src = t.path() + "/ctx", out = t.path() + "/ctx.tar.zst", back = t.path() + "/back";
  make_tree(src);
  auto packed = pack_context(src, out);
  ASSERT_TRUE(packed) << packed.error().message;
  std::vector<std::string> paths;
  for (const auto& f : packed->files)
    paths.push_back(f.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{".rhignore", "d\xc3\xa4ten/w\xc3\xbcrfel.bin", "init-link",
                                      "keep.log", "pkg/__init__.py", "run me.sh", "train.py"}));
  ASSERT_TRUE(unpack_context(out, back));
  for (const auto& p : paths) {
    if (p != "init-link") {
      EXPECT_EQ(slurp(back + "/" + p), slurp(src + "/" + p)) << p;
    }
  }
  struct stat st;
  ASSERT_EQ(::stat((back + "/run me.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR) << "the executable bit is kept";
  ASSERT_EQ(::lstat((back + "/init-link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(::stat((back + "/pkg/__init__.py").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);
  EXPECT_FALSE(path_exists(back + "/outputs"));
  EXPECT_FALSE(path_exists(back + "/pkg/__pycache__"));
  EXPECT_FALSE(path_exists(back + "/.git"));
}

TEST(ContextTest, TheSameFilesGiveTheSameBytesWhateverTheirTimes) {
  testing::TempDir t;
  std::string src = t.path() + "/ctx";
  make_tree(src);
  ASSERT_TRUE(pack_context(src, t.path() + "/a"));
  ::sleep(1);
  write(src + "/train.py", "import pkg\n");  // same content, new time
  ASSERT_TRUE(pack_context(src, t.path() + "/b"));
  EXPECT_EQ(slurp(t.path() + "/a"), slurp(t.path() + "/b"));
  write(src + "/train.py", "import pkg  # changed\n");
  ASSERT_TRUE(pack_context(src, t.path() + "/c"));
  EXPECT_NE(slurp(t.path() + "/a"), slurp(t.path() + "/c"));
}

TEST(ContextTest, OverTheLimitTheErrorNamesTheLargestFilesAndNothingIsWritten) {
  testing::TempDir t;
  std::string src = t.path() + "/ctx";
  make_tree(src);
  write(src + "/data/big.npy", std::string(300000, 'x'));
  write(src + "/data/medium.npy", std::string(200000, 'x'));
  auto r = pack_context(src, t.path() + "/out", 100000);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("data/big.npy"), std::string::npos) << r.error().message;
  EXPECT_LT(r.error().message.find("data/big.npy"), r.error().message.find("data/medium.npy"));
  EXPECT_NE(r.error().message.find(".rhignore"), std::string::npos);
  EXPECT_FALSE(path_exists(t.path() + "/out"));
}

TEST(ContextTest, ALinkLeavingTheContextIsRefusedWhenPacked) {
  testing::TempDir t;
  std::string src = t.path() + "/ctx";
  write(src + "/train.py", "x");
  ASSERT_EQ(::symlink("../../etc/passwd", (src + "/passwd").c_str()), 0);
  auto r = pack_context(src, t.path() + "/out");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("passwd"), std::string::npos) << r.error().message;
}

// Archives a hostile sender could make: each refused by name, nothing left.
void crafted(const std::string& path, const std::string& name, int type,
             const std::string& target = {}) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_zstd(a);
  archive_write_open_filename(a, path.c_str());
  auto add = [&](const std::string& n, int ty, const std::string& tg) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, n.c_str());
    archive_entry_set_filetype(e, ty);
    archive_entry_set_perm(e, 0644);
    if (ty == AE_IFLNK)
      archive_entry_set_symlink(e, tg.c_str());
    archive_entry_set_size(e, ty == AE_IFREG ? 1 : 0);
    archive_write_header(a, e);
    if (ty == AE_IFREG)
      archive_write_data(a, "x", 1);
    archive_entry_free(e);
  };
  add("ok.txt", AE_IFREG, "");
  if (type == AE_IFLNK && name == "via/evil") {  // a file written through a link
    add("via", AE_IFLNK, ".");
    add("via/evil", AE_IFREG, "");
  } else {
    add(name, type, target);
  }
  archive_write_close(a);
  archive_write_free(a);
}

TEST(ContextTest, HostileArchivesAreRefusedAndLeaveNothing) {
  testing::TempDir t;
  struct Case {
    std::string name;
    int type;
    std::string target;
  };
  for (const auto& c : std::vector<Case>{{"../escaped.txt", AE_IFREG, ""},
                                         {"/tmp/absolute.txt", AE_IFREG, ""},
                                         {"a/../../escaped.txt", AE_IFREG, ""},
                                         {"link", AE_IFLNK, "../.."},
                                         {"link", AE_IFLNK, "/etc"},
                                         {"self/up", AE_IFLNK, "x/../.."},
                                         {"via/evil", AE_IFLNK, ""},
                                         {"fifo", AE_IFIFO, ""}}) {
    std::string arc = t.path() + "/a.tar.zst", dest = t.path() + "/dest";
    crafted(arc, c.name, c.type, c.target);
    auto st = unpack_context(arc, dest);
    EXPECT_FALSE(st) << c.name;
    if (!st) {
      EXPECT_NE(st.error().message.find("refused"), std::string::npos) << st.error().message;
    }
    EXPECT_FALSE(path_exists(dest)) << c.name << ": a refused archive left files";
    EXPECT_FALSE(path_exists(t.path() + "/escaped.txt"));
    ASSERT_TRUE(remove_all(arc));
  }
}

}  // namespace
}  // namespace rh::experiment
