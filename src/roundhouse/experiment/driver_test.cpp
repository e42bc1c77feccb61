// The experiment driver against a real SQLite store, with the agents played
// here: take a queued trial, report the searcher metric at its target, end
// it as an agent would (paused at a rung, completed at the end or when
// stopped). Checks that a search runs to the end with the trials the pure
// searcher creates, and that a server dying between applying the actions
// and saving its state creates nothing twice and loses nothing.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/env/env.h"
#include "roundhouse/experiment/driver.h"
#include "roundhouse/experiment/records.h"
#include "roundhouse/search/searcher.h"
#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/testing/temp_dir.h"

namespace rh::experiment {
namespace {

const char* k_config = R"(
name: driven
entrypoint: python3 train.py
hyperparameters:
  lr: {type: double, minval: 0.01, maxval: 0.5}
searcher:
  name: adaptive_asha
  metric: loss
  max_length: {batches: 16}
  max_trials: 8
  max_rungs: 3
  divisor: 2
  max_concurrent_trials: 3
reproducibility:
  experiment_seed: 7
)";

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = open_sqlite_store(m_dir.path() + "/rh.db", m_env);
    ASSERT_TRUE(s) << s.error().message;
    m_store = std::move(*s);
    auto b = LocalBlobStore::open(m_dir.path() + "/blobs");
    ASSERT_TRUE(b);
    m_blobs = std::move(*b);
    ASSERT_TRUE(m_store->queues().create("q", false));
  }

  std::string create(const std::string& config) {
    NewExperiment e;
    e.config_text = config;
    e.queue = "q";
    auto t = create_experiment(*m_store, *m_blobs, e);
    EXPECT_TRUE(t) << t.error().message;
    return t ? t->id : "";
  }

  void step(const std::string& id) {
    auto r = step_experiment(*m_store, id, [](const std::string&, bool) {});
    ASSERT_TRUE(r) << r.error().message;
  }

  // One agent's turn: takes a queued trial, trains it to its target (the
  // metric falls with lr and length), ends it as the agent would.
  bool play_one() {
    auto taken = m_store->queues().take({"q"}, "w");
    EXPECT_TRUE(taken);
    if (!taken || !*taken)
      return false;
    const Task& t = **taken;
    int64_t until = runtime_int(t, "until");
    double lr = std::stod(flatten_hparams(parse_json(t.runtime.at("hparams")).value())[0].value);
    ScalarSeries s{k_searcher_title, "loss", {until}, {1.0 / (1 + lr * double(until))}, {0}};
    EXPECT_TRUE(m_store->scalars().append(t.id, {s}));
    ++m_runs[runtime_int(t, "trial")];
    TaskStatus end = until >= 16 ? TaskStatus::completed : TaskStatus::paused;
    EXPECT_TRUE(m_store->tasks().set_status(t.id, end, ""));
    return true;
  }

  std::vector<Task> trials(const std::string& id) { return trial_tasks(*m_store, id).value(); }

  testing::TempDir m_dir;
  FakeEnv m_env;
  std::unique_ptr<MetadataStore> m_store;
  std::unique_ptr<LocalBlobStore> m_blobs;
  std::map<int64_t, int> m_runs;  // trial -> times it ran
};

TEST_F(DriverTest, AshaSearchRunsToTheEndWithTheSearchersTrials) {
  std::string id = create(k_config);
  for (int i = 0; i < 200; ++i) {
    step(id);
    if (m_store->tasks().get(id)->status == TaskStatus::completed)
      break;
    play_one();
  }
  EXPECT_EQ(m_store->tasks().get(id)->status, TaskStatus::completed);
  auto ts = trials(id);
  ASSERT_EQ(ts.size(), 8u);
  for (const auto& t : ts)
    EXPECT_TRUE(is_final(t.status)) << t.id << " " << to_string(t.status);
  // The same values the searcher alone draws with that seed, in order.
  auto cfg = parse_config(k_config, "c").value();
  auto search = search::Search::start(cfg.searcher, cfg.hyperparameters, 7).value();
  auto first = search.initial_trials();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(ts[0].runtime.at("hparams"), first[0].hparams.dump());
  // Some trial was paused at a rung and resumed (ran more than once).
  int resumed = 0;
  for (const auto& [n, runs] : m_runs)
    resumed += runs > 1;
  EXPECT_GT(resumed, 0);
  auto exp = m_store->tasks().get(id).value();
  EXPECT_FALSE(exp.runtime.at("best_trial").empty());
}

TEST_F(DriverTest, DyingBetweenActionsAndSaveCreatesNothingTwice) {
  std::string id = create(k_config);
  for (int i = 0; i < 200; ++i) {
    std::string before = m_store->tasks().get(id)->runtime["search_state"];
    step(id);
    if (m_store->tasks().get(id)->status == TaskStatus::completed)
      break;
    size_t n_after = trials(id).size();
    // Every other step, the state save is undone, as if the server had died
    // just before it; the next step replays the same events.
    if (i % 2 == 0) {
      TaskPatch p;
      p.runtime = std::map<std::string, std::string>{{"search_state", before}};
      ASSERT_TRUE(m_store->tasks().update(id, p));
      step(id);
      EXPECT_EQ(trials(id).size(), n_after) << "the replay created trials again";
    }
    play_one();
  }
  EXPECT_EQ(m_store->tasks().get(id)->status, TaskStatus::completed);
  auto ts = trials(id);
  EXPECT_EQ(ts.size(), 8u);
  std::set<int64_t> numbers;
  for (const auto& t : ts)
    numbers.insert(runtime_int(t, "trial"));
  EXPECT_EQ(numbers.size(), 8u) << "a trial number appears twice";
}

TEST_F(DriverTest, PauseTakesQueuedTrialsOutAndActivateQueuesThemAgain) {
  std::string id = create(k_config);
  step(id);
  auto notify = [](const std::string&, bool) {};
  ASSERT_TRUE(pause_experiment(*m_store, id, notify));
  for (const auto& t : trials(id))
    EXPECT_EQ(t.status, TaskStatus::created) << "a paused experiment's trial stays queued";
  step(id);
  EXPECT_FALSE(*m_store->queues().take({"q"}, "w")) << "nothing runs while paused";
  auto again = pause_experiment(*m_store, id, notify);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  ASSERT_TRUE(activate_experiment(*m_store, id, notify));
  for (const auto& t : trials(id))
    EXPECT_EQ(t.status, TaskStatus::queued);
  ASSERT_TRUE(kill_experiment(*m_store, id, notify));
  for (const auto& t : trials(id))
    EXPECT_EQ(t.status, TaskStatus::aborted);
  EXPECT_EQ(m_store->tasks().get(id)->status, TaskStatus::aborted);
}

TEST_F(DriverTest, BadConfigAndUnknownQueueCreateNothing) {
  NewExperiment e;
  e.config_text = "searcher: {name: nope, metric: m}\nentrypoint: x\n";
  e.config_file = "exp.yaml";
  e.queue = "q";
  auto bad = create_experiment(*m_store, *m_blobs, e);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("exp.yaml"), std::string::npos) << bad.error().message;
  e.config_text = k_config;
  e.queue = "missing";
  auto noq = create_experiment(*m_store, *m_blobs, e);
  ASSERT_FALSE(noq);
  EXPECT_NE(noq.error().message.find("rh queues create missing"), std::string::npos);
  e.queue = "q";
  e.context = "sha256:" + std::string(64, 'a');
  auto noctx = create_experiment(*m_store, *m_blobs, e);
  ASSERT_FALSE(noctx);
  EXPECT_NE(noctx.error().message.find("not stored"), std::string::npos);
  EXPECT_TRUE(experiment_tasks(*m_store, "").value().empty());
}

}  // namespace
}  // namespace rh::experiment
