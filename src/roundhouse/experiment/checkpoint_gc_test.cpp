// Checkpoint collection: the policy alone (pure), then against a real
// SQLite store: an ended trial gives up what the policy does not keep, a
// trial still going keeps everything, and the blobs of the removed
// checkpoints become removable only where nothing else refers to them.
#include "roundhouse/experiment/checkpoint_gc.h"

#include <gtest/gtest.h>

#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/env/env.h"
#include "roundhouse/experiment/driver.h"
#include "roundhouse/experiment/records.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/testing/temp_dir.h"

namespace rh::experiment {
namespace {

using Keys = std::set<std::pair<std::string, std::string>>;

CheckpointRef ref(const char* task, const char* id, int64_t steps, std::optional<double> m) {
  return CheckpointRef{task, id, steps, double(steps), m};
}

const std::vector<CheckpointRef> k_refs = {
    ref("A", "a5", 5, 0.5), ref("A", "a10", 10, 0.3),          ref("A", "a15", 15, 0.4),
    ref("B", "b5", 5, 0.2), ref("B", "b10", 10, std::nullopt),
};

TEST(CheckpointPolicy, DefaultsKeepEachTrialsBestAndLatest) {
  EXPECT_EQ(checkpoints_to_keep(k_refs, GcPolicy{}),
            (Keys{{"A", "a10"}, {"A", "a15"}, {"B", "b5"}, {"B", "b10"}}));
}

TEST(CheckpointPolicy, ExperimentBestOnlyAndLargerIsBetter) {
  EXPECT_EQ(checkpoints_to_keep(k_refs, GcPolicy{1, 0, 0, true}), (Keys{{"B", "b5"}}));
  EXPECT_EQ(checkpoints_to_keep(k_refs, GcPolicy{2, 0, 0, false}),
            (Keys{{"A", "a5"}, {"A", "a15"}}));
  EXPECT_EQ(checkpoints_to_keep(k_refs, GcPolicy{0, 0, 2, true}),
            (Keys{{"A", "a15"}, {"A", "a10"}, {"B", "b10"}, {"B", "b5"}}));
  EXPECT_TRUE(checkpoints_to_keep(k_refs, GcPolicy{0, 0, 0, true}).empty());
  // Without a validation at its steps a checkpoint is never "best".
  EXPECT_EQ(checkpoints_to_keep({ref("C", "c1", 1, std::nullopt)}, GcPolicy{3, 3, 0, true}),
            Keys{});
}

class CollectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_store = std::move(open_sqlite_store(m_dir.path() + "/rh.db", m_env).value());
    m_blobs = std::move(LocalBlobStore::open(m_dir.path() + "/blobs").value());
    ASSERT_TRUE(m_store->queues().create("q", false));
  }

  // A checkpoint as the agent stores one: the files, a manifest naming
  // them, the artifact with the files as members.
  void checkpoint(const std::string& task, const std::string& id, int64_t steps,
                  const std::vector<std::string>& contents) {
    Artifact a;
    for (const auto& c : contents)
      a.members.push_back(m_blobs->put_bytes(c).value().digest);
    a.name = "checkpoint/" + id;
    a.digest = m_blobs->put_bytes("manifest of " + id).value().digest;
    a.type = "checkpoint";
    a.metadata["steps_completed"] = std::to_string(steps);
    ASSERT_TRUE(m_store->artifacts().put(task, a));
  }
  void validation(const std::string& task, int64_t steps, double v) {
    ScalarSeries s{k_searcher_title, "loss", {steps}, {v}, {0}};
    ASSERT_TRUE(m_store->scalars().append(task, {s}));
  }
  std::vector<std::string> names(const std::string& task) {
    std::vector<std::string> out;
    auto list = m_store->artifacts().list(task);
    EXPECT_TRUE(list);
    for (const auto& a : *list)
      out.push_back(a.name);
    return out;
  }
  bool step(const std::string& id) {
    auto r = step_experiment(*m_store, id, [](const std::string&, bool) {});
    EXPECT_TRUE(r) << r.error().message;
    return r && *r;
  }

  testing::TempDir m_dir;
  FakeEnv m_env;
  std::unique_ptr<MetadataStore> m_store;
  std::unique_ptr<LocalBlobStore> m_blobs;
};

TEST_F(CollectTest, AnEndedTrialKeepsWhatThePolicySaysAndTheRestsBlobsGoWhenUnreferenced) {
  NewExperiment e;
  e.config_text = R"(
name: gc
entrypoint: python3 train.py
hyperparameters: {lr: {type: categorical, vals: [0.1, 0.2]}}
searcher: {name: grid, metric: loss, max_length: 20, max_concurrent_trials: 2}
checkpoint_storage: {save_trial_best: 1, save_trial_latest: 1, save_experiment_best: 0}
)";
  e.queue = "q";
  std::string exp = create_experiment(*m_store, *m_blobs, e).value().id;
  step(exp);
  auto trials = trial_tasks(*m_store, exp).value();
  ASSERT_EQ(trials.size(), 2u);
  const std::string t1 = trials[0].id, t2 = trials[1].id;
  // t1: best at 10, latest at 20; "shared" is in a removed and a kept one.
  checkpoint(t1, "c5", 5, {"weights@5", "shared"});
  checkpoint(t1, "c10", 10, {"weights@10"});
  checkpoint(t1, "c15", 15, {"weights@15", "shared", "in a dataset too"});
  checkpoint(t1, "c20", 20, {"weights@20", "shared"});
  validation(t1, 5, 0.9);
  validation(t1, 10, 0.1);
  validation(t1, 15, 0.5);
  validation(t1, 20, 0.3);
  checkpoint(t2, "d5", 5, {"w2@5"});
  checkpoint(t2, "d10", 10, {"w2@10"});
  // A dataset refers to one of the files too.
  DatasetVersion dv =
      m_store->datasets().create(NewDatasetVersion{"p", "ds", "", {}, {}, ""}).value();
  ASSERT_TRUE(m_store->datasets().put_files(
      dv.id, {DatasetFile{"f.bin", m_blobs->put_bytes("in a dataset too").value().digest, 16}}));
  // t2 still running: nothing of it goes; t1 ended.
  ASSERT_TRUE(m_store->queues().take({"q"}, "w"));
  ASSERT_TRUE(m_store->queues().take({"q"}, "w"));
  ASSERT_TRUE(m_store->tasks().set_status(t1, TaskStatus::completed, ""));
  step(exp);
  EXPECT_EQ(names(t1), (std::vector<std::string>{"checkpoint/c10", "checkpoint/c20"}));
  EXPECT_EQ(runtime_text(m_store->tasks().get(t1).value(), "latest_checkpoint"), "c20");
  EXPECT_EQ(names(t2).size(), 2u);
  m_env.advance(10);
  auto removable = m_store->blob_orphans().removable(m_env.now(), 100).value();
  std::set<std::string> got(removable.begin(), removable.end());
  auto d = [](const std::string& s) { return sha256_digest(s); };
  EXPECT_EQ(got, (std::set<std::string>{d("weights@5"), d("weights@15"), d("manifest of c5"),
                                        d("manifest of c15")}));
  // Candidates within the grace are not removable yet.
  ASSERT_TRUE(m_store->artifacts().remove(t2, "checkpoint/d5"));
  EXPECT_EQ(m_store->blob_orphans().removable(m_env.now() - 5, 100).value().size(), 4u);
  // A client asking about a candidate (an upload about to refer to it) refreshes it.
  ASSERT_TRUE(m_store->blob_orphans().forget(removable));
  m_env.advance(10);
  ASSERT_TRUE(m_store->blob_orphans().refresh({d("w2@5")}));
  EXPECT_EQ(m_store->blob_orphans().removable(m_env.now() - 5, 100).value(),
            (std::vector<std::string>{d("manifest of d5")}));
  // Collected once: a second step changes nothing.
  EXPECT_EQ(names(t1).size(), 2u);
}

}  // namespace
}  // namespace rh::experiment
