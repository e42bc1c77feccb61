// The Recorder against a store whose answers get lost: every point and line
// arrives exactly once, in order.
#include "roundhouse/run/recorder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/testing/temp_dir.h"

namespace rh {
namespace {

// Applies every other write but reports it failed, like a server whose reply
// was cut off after it committed.
class LossyStore final : public MetadataStore {
 public:
  explicit LossyStore(MetadataStore& real) : m_real(real), m_scalars(*this), m_console(*this) {}
  ProjectStore& projects() override { return m_real.projects(); }
  TaskStore& tasks() override { return m_real.tasks(); }
  ScalarStore& scalars() override { return m_scalars; }
  ConsoleStore& console() override { return m_console; }
  ArtifactStore& artifacts() override { return m_real.artifacts(); }
  PlotStore& plots() override { return m_real.plots(); }
  QueueStore& queues() override { return m_real.queues(); }
  DatasetStore& datasets() override { return m_real.datasets(); }
  BlobOrphans& blob_orphans() override { return m_real.blob_orphans(); }
  BlobAliases& blob_aliases() override { return m_real.blob_aliases(); }
  void close() override {}
  int calls = 0;

 private:
  bool lose() { return ++calls % 2 == 1; }
  struct Scalars final : ScalarStore {
    explicit Scalars(LossyStore& owner) : o(owner) {}
    Status append(const std::string& id, std::vector<ScalarSeries> b,
                  const std::string& key) override {
      RH_TRY(o.m_real.scalars().append(id, std::move(b), key));
      if (o.lose())
        return make_error(ErrorCode::unavailable, "reply lost");
      return {};
    }
    Result<std::vector<SeriesSummary>> summaries(const std::string& id) override {
      return o.m_real.scalars().summaries(id);
    }
    Result<ScalarSeries> read(const std::string& id, const std::string& t, const std::string& s,
                              const ScalarReadOptions& opt) override {
      return o.m_real.scalars().read(id, t, s, opt);
    }
    LossyStore& o;
  };
  struct Console final : ConsoleStore {
    explicit Console(LossyStore& owner) : o(owner) {}
    Result<int64_t> append(const std::string& id, std::vector<ConsoleLine> l,
                           const std::string& key) override {
      RH_TRY_ASSIGN(int64_t last, o.m_real.console().append(id, std::move(l), key));
      if (o.lose())
        return make_error(ErrorCode::unavailable, "reply lost");
      return last;
    }
    Result<std::vector<ConsoleLine>> read(const std::string& id, int64_t after,
                                          int limit) override {
      return o.m_real.console().read(id, after, limit);
    }
    LossyStore& o;
  };
  MetadataStore& m_real;
  Scalars m_scalars;
  Console m_console;
};

TEST(Recorder, LostRepliesNeitherLoseNorDuplicate) {
  testing::TempDir dir;
  RealEnv env;
  auto real = open_sqlite_store(dir.path() + "/rh.db", env);
  ASSERT_TRUE(real);
  auto task = (*real)->tasks().create(NewTask{"p", "t"});
  ASSERT_TRUE(task);
  LossyStore lossy(**real);
  {
    Recorder rec(lossy, env, task->id, /*flush_interval_s=*/0.01);
    for (int i = 0; i < 300; ++i) {
      rec.scalar("loss", "train", i, i * 0.5, 1e9 + i);
      rec.console(ConsoleStream::stdout_stream, "line " + std::to_string(i) + "\n");
      if (i % 50 == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
    rec.console(ConsoleStream::stderr_stream, "tail without newline");
    ASSERT_TRUE(rec.finish());
  }
  EXPECT_GT(lossy.calls, 2) << "the recorder flushed in several batches";
  auto s = (*real)->scalars().read(task->id, "loss", "train", {});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->steps.size(), 300u);
  for (int i = 0; i < 300; ++i)
    EXPECT_EQ(s->steps[i], i);
  auto lines = (*real)->console().read(task->id, 0, 1000);
  ASSERT_EQ(lines->size(), 301u);
  for (int i = 0; i < 300; ++i)
    EXPECT_EQ((*lines)[i].text, "line " + std::to_string(i));
  EXPECT_EQ(lines->back().text, "tail without newline");
  EXPECT_EQ(lines->back().stream, ConsoleStream::stderr_stream);
}

TEST(Recorder, ProgressBarsKeepTheirLastState) {
  testing::TempDir dir;
  RealEnv env;
  auto store = open_sqlite_store(dir.path() + "/rh.db", env);
  auto task = (*store)->tasks().create(NewTask{"p", "t"});
  Recorder rec(**store, env, task->id);
  rec.console(ConsoleStream::stdout_stream, "10%\r50%\r100%\r\nnext \xff\n");
  ASSERT_TRUE(rec.finish());
  auto lines = (*store)->console().read(task->id, 0, 10);
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].text, "100%");
  EXPECT_EQ((*lines)[1].text, "next \xEF\xBF\xBD");
}

TEST(MetricLine, ParsesAndRejects) {
  auto m = parse_metric_line(R"({"title":"loss","value":"NaN","iteration":3})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->series, "loss");
  EXPECT_EQ(*m->iteration, 3);
  EXPECT_TRUE(std::isnan(m->value));
  EXPECT_FALSE(parse_metric_line(R"({"value":1})"));
  EXPECT_FALSE(parse_metric_line(R"({"title":"x","value":"high"})"));
  EXPECT_FALSE(parse_metric_line("not json"));
}

}  // namespace
}  // namespace rh
