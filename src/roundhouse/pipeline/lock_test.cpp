// dvc.lock read and written back byte for byte (the text is what DVC 3.67.1
// wrote for a two-stage pipeline), and DVC 2's entries read as legacy.
#include "roundhouse/pipeline/lock.h"

#include <gtest/gtest.h>

#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {
namespace {

const char* k_dvc_lock = R"(schema: '2.0'
stages:
  prepare:
    cmd: mkdir -p out && cp data/raw.csv out/a.csv && echo x > out/b.txt
    deps:
    - path: data
      hash: md5
      md5: c1b48d87814c59469c943ed2c644e054.dir
      size: 4
      nfiles: 1
    - path: data/raw.csv
      hash: md5
      md5: 2306b4377429730ee03a806cff76e92b
      size: 4
    params:
      params.yaml:
        prepare.seed: 7
        prepare.split: 0.2
    outs:
    - path: out
      hash: md5
      md5: cbbe080c52cb71eed47d7248eec5c829.dir
      size: 6
      nfiles: 2
  train:
    cmd:
    - echo "train 1e-05" > model.bin
    - 'echo {"acc": 0.9} > metrics.json && printf "step,loss\n1,2\n" > loss.csv'
    deps:
    - path: out
      hash: md5
      md5: cbbe080c52cb71eed47d7248eec5c829.dir
      size: 6
      nfiles: 2
    params:
      params.yaml:
        train:
          lr: 1e-05
          epochs: 10
          layers:
          - 64
          - 32
          name: big net
          flag: true
          none:
    outs:
    - path: loss.csv
      hash: md5
      md5: 013bcdea8f2d8646b4c6bdc1872552af
      size: 14
    - path: metrics.json
      hash: md5
      md5: 096314858dd5f7202eb6661dc1ef4d8b
      size: 11
    - path: model.bin
      hash: md5
      md5: 966db8f9809b77da24a06a8d024c7f8c
      size: 12
)";

TEST(Lock, ReadsAndWritesDvcsLockByteForByte) {
  testing::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.path() + "/dvc.lock", k_dvc_lock));
  auto lock = read_lock(dir.path() + "/dvc.lock");
  ASSERT_TRUE(lock) << lock.error().message;
  ASSERT_EQ(lock->stages.size(), 2u);
  EXPECT_EQ(lock->find("prepare")->outs[0].nfiles, 2u);
  EXPECT_FALSE(lock->find("train")->deps[0].legacy);
  EXPECT_EQ(lock_text(*lock), k_dvc_lock);
  EXPECT_EQ(lock_path_for("sub/dvc.yaml"), "sub/dvc.lock");
  EXPECT_EQ(lock_path_for("rh.yaml"), "rh.lock");
}

TEST(Lock, Dvc2EntriesAreLegacyAndBadFilesAreNamed) {
  testing::TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.path() + "/dvc.lock",
                                "schema: '2.0'\nstages:\n  a:\n    cmd: x\n    deps:\n    - path: "
                                "f\n      md5: 0123\n      size: 1\n"));
  auto lock = read_lock(dir.path() + "/dvc.lock");
  ASSERT_TRUE(lock);
  EXPECT_TRUE(lock->find("a")->deps[0].legacy);
  EXPECT_EQ(lock_text(*lock).find("hash:"), std::string::npos);  // written back as it was
  ASSERT_TRUE(write_file_atomic(dir.path() + "/bad.lock", "schema: '3.0'\nstages: {}\n"));
  EXPECT_EQ(read_lock(dir.path() + "/bad.lock").error().message,
            dir.path() + "/bad.lock:1: schema 3.0 is not read (2.0 is)");
  EXPECT_TRUE(read_lock(dir.path() + "/absent.lock")->stages.empty());
}

}  // namespace
}  // namespace rh::pipeline
