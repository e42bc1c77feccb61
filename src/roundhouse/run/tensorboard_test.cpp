// TensorBoard event files written by real writers (../shared/fixtures/tensorboard,
// whose README gives the expected values), whole and cut inside a record.
#include "roundhouse/run/tensorboard.h"

#include <gtest/gtest.h>

#include <map>

#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh {
namespace {

std::string fixture(const std::string& name) {
  return std::string(RH_FIXTURES_DIR) + "/tensorboard/" + name;
}

#define SKIP_WITHOUT_FIXTURES()                                                  \
  if (!path_exists(std::string(RH_FIXTURES_DIR) + "/tensorboard")) {             \
    GTEST_SKIP() << "fixtures folder " RH_FIXTURES_DIR "/tensorboard is absent"; \
  }

std::map<std::string, std::vector<TbScalar>> read_all(const std::string& path,
                                                      uint64_t* records = nullptr) {
  TbFileReader r(path);
  std::vector<TbScalar> out;
  auto st = r.poll(out);
  EXPECT_TRUE(st) << st.error().to_string();
  if (records)
    *records = r.records();
  std::map<std::string, std::vector<TbScalar>> by_tag;
  for (auto& s : out)
    by_tag[s.tag].push_back(s);
  return by_tag;
}

TEST(Crc32c, KnownVector) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
}

TEST(TensorBoard, Tf2TensorScalars) {
  SKIP_WITHOUT_FIXTURES();
  uint64_t records = 0;
  auto tags = read_all(fixture("tf2_scalar_0.5step.tfevents"), &records);
  EXPECT_EQ(records, 101u);
  ASSERT_EQ(tags.size(), 1u);
  const auto& v = tags["my_metric"];
  ASSERT_EQ(v.size(), 100u);
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i].step, int64_t(i));
    EXPECT_EQ(v[i].value, 0.5 * double(i));
  }
  EXPECT_DOUBLE_EQ(v.back().wall_time, 1585499054.156347);
}

TEST(TensorBoard, Tf1SevenValuesPerSummary) {
  SKIP_WITHOUT_FIXTURES();
  auto tags = read_all(fixture("tf1_lingvo_bleu_dev.tfevents"));
  ASSERT_EQ(tags.size(), 7u);
  for (const auto& [tag, v] : tags)
    EXPECT_EQ(v.size(), 360u) << tag;
  const auto& bleu = tags["bleu/dev"];
  EXPECT_EQ(bleu.front().step, 1500);
  EXPECT_EQ(bleu.front().value, 0.11201018840074539);
  EXPECT_EQ(bleu.back().step, 185200);
  EXPECT_EQ(bleu.back().value, 0.2852171063423157);
  double best = -1;
  int64_t best_step = 0;
  for (const auto& s : bleu) {
    if (s.value > best) {
      best = s.value;
      best_step = s.step;
    }
  }
  EXPECT_EQ(best_step, 102600);
  EXPECT_EQ(best, 0.2882329523563385);
  const auto& rt = tags["runtime/sentence/sec"];
  EXPECT_EQ(rt.back().value, 10.830163955688477);
  EXPECT_DOUBLE_EQ(rt.back().wall_time, 1534794764.3941014);
}

TEST(TensorBoard, PyTorchSimpleValues) {
  SKIP_WITHOUT_FIXTURES();
  auto tags = read_all(fixture("pytorch_strict_foo.tfevents"));
  const auto& v = tags["strict/foo"];
  ASSERT_EQ(v.size(), 100u);
  EXPECT_EQ(v.front().value, 1.4962565898895264);
  EXPECT_EQ(v.back().step, 495);
  EXPECT_EQ(v.back().value, 1.212090253829956);
  double sum = 0;
  for (const auto& s : v)
    sum += s.value;
  EXPECT_NEAR(sum / 100, 1.488420, 1e-6);
}

TEST(TensorBoard, DuplicateStepsKeptInFileOrder) {
  SKIP_WITHOUT_FIXTURES();
  auto tags = read_all(fixture("pytorch_dup_steps.tfevents"));
  const auto& foo = tags["dup_steps/foo"];
  ASSERT_EQ(foo.size(), 210u);
  ASSERT_EQ(tags["dup_steps/bar"].size(), 210u);
  std::vector<double> at90;
  for (const auto& s : foo) {
    if (s.step == 90)
      at90.push_back(s.value);
  }
  ASSERT_EQ(at90.size(), 2u);
  EXPECT_EQ(at90[0], 1.5536525249481201);
  EXPECT_EQ(at90[1], 1.5210340023040771);
  EXPECT_EQ(foo.back().step, 199);
  EXPECT_EQ(foo.back().value, 1.5478503704071045);
  EXPECT_EQ(tags["dup_steps/bar"].front().value, 1.7682218551635742);
}

TEST(TensorBoard, TensorboardXLossAndAccuracy) {
  SKIP_WITHOUT_FIXTURES();
  auto tags = read_all(fixture("tensorboardx_loss_accuracy_5steps.tfevents"));
  ASSERT_EQ(tags["loss"].size(), 5u);
  EXPECT_EQ(tags["loss"][2].value, 0.3333333432674408);
  EXPECT_EQ(tags["accuracy"][4].value, 0.8799999952316284);
  EXPECT_DOUBLE_EQ(tags["accuracy"][4].wall_time, 1753210469.10143);
}

// A file whose writer has not finished its last record: the cut record is
// waited for, then read once the rest arrives.
TEST(TensorBoard, RecordCutShortIsWaitedFor) {
  SKIP_WITHOUT_FIXTURES();
  struct Case {
    const char* file;
    uint64_t last_offset;
    uint64_t size;
    size_t scalars;
  };
  for (const Case& c : {Case{"tf2_scalar_0.5step.tfevents", 6671, 6738, 100},
                        Case{"tf1_lingvo_bleu_dev.tfevents", 80068, 80291, 2520},
                        Case{"pytorch_strict_foo.tfevents", 4863, 4912, 100},
                        Case{"pytorch_dup_steps.tfevents", 21548, 21600, 420},
                        Case{"tensorboardx_loss_accuracy_5steps.tfevents", 430, 476, 10}}) {
    auto whole = read_file(fixture(c.file));
    ASSERT_TRUE(whole);
    ASSERT_EQ(whole->size(), c.size);
    testing::TempDir dir;
    std::string path = dir.path() + "/events.out.tfevents";
    size_t per_last = c.scalars == 2520 ? 7 : (c.scalars == 420 || c.scalars == 10 ? 1 : 1);
    // Cut at the record boundary, inside the header, and inside the data.
    for (uint64_t cut : {c.last_offset, c.last_offset + 5, c.last_offset + 20, c.size - 1}) {
      ASSERT_TRUE(write_file_atomic(path, std::string_view(*whole).substr(0, cut)));
      TbFileReader reader(path);
      std::vector<TbScalar> out;
      ASSERT_TRUE(reader.poll(out)) << c.file << " cut at " << cut;
      EXPECT_EQ(out.size(), c.scalars - per_last) << c.file << " cut at " << cut;
      EXPECT_EQ(reader.offset(), c.last_offset) << c.file;
      ASSERT_TRUE(write_file_atomic(path, *whole));
      ASSERT_TRUE(reader.poll(out));
      EXPECT_EQ(out.size(), c.scalars) << c.file << " completed after cut at " << cut;
    }
  }
}

TEST(TensorBoard, CorruptRecordIsReportedNotMisread) {
  SKIP_WITHOUT_FIXTURES();
  auto whole = read_file(fixture("tensorboardx_loss_accuracy_5steps.tfevents"));
  std::string bad = *whole;
  bad[440] ^= 0x55;  // inside the last record's data
  testing::TempDir dir;
  std::string path = dir.path() + "/e.tfevents";
  ASSERT_TRUE(write_file_atomic(path, bad));
  TbFileReader reader(path);
  std::vector<TbScalar> out;
  auto st = reader.poll(out);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::corrupt);
  EXPECT_EQ(out.size(), 9u) << "records before the bad one are kept";
}

TEST(TensorBoard, TagSplitting) {
  EXPECT_EQ(split_tb_tag("loss/train"), (std::pair<std::string, std::string>{"loss", "train"}));
  EXPECT_EQ(split_tb_tag("runtime/sentence/sec"),
            (std::pair<std::string, std::string>{"runtime/sentence", "sec"}));
  EXPECT_EQ(split_tb_tag("loss"), (std::pair<std::string, std::string>{"loss", "loss"}));
}

}  // namespace
}  // namespace rh
