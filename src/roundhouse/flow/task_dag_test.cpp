// The DAG executor against a real SQLite store, with the agents played
// here (take, then end the task): steps go into their queue only once the
// steps before them completed, at most dag_jobs at once; a failure aborts
// everything after it (and only that); the run ends when every step ended;
// a run still being submitted is never stepped.
#include "roundhouse/flow/task_dag.h"

#include <gtest/gtest.h>

#include <map>

#include "roundhouse/env/env.h"
#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/strings.h"

namespace rh::flow {
namespace {

class TaskDagTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = open_sqlite_store(m_dir.path() + "/rh.db", m_env);
    ASSERT_TRUE(s) << s.error().message;
    m_store = std::move(*s);
    ASSERT_TRUE(m_store->queues().create("q", false));
  }

  // A run of steps: name -> the names it comes after (created in this order).
  std::string make_run(const std::vector<std::pair<std::string, std::vector<std::string>>>& steps,
                       int jobs = 0, bool submitted = true) {
    NewTask r;
    r.project = "p";
    r.name = "run";
    r.type = TaskType::controller;
    r.tags = {k_dag_tag};
    auto run = m_store->tasks().create(r);
    EXPECT_TRUE(run);
    EXPECT_TRUE(m_store->tasks().set_status(run->id, TaskStatus::running, ""));
    for (const auto& [name, after] : steps) {
      NewTask t;
      t.project = "p";
      t.name = name;
      t.parent = run->id;
      auto task = m_store->tasks().create(t);
      EXPECT_TRUE(task);
      std::vector<std::string> ids;
      for (const auto& a : after)
        ids.push_back(m_ids[a]);
      TaskPatch patch;
      patch.runtime =
          std::map<std::string, std::string>{{k_dag_queue, "q"}, {k_dag_after, join(ids, ",")}};
      EXPECT_TRUE(m_store->tasks().update(task->id, patch));
      m_ids[name] = task->id;
    }
    TaskPatch start;
    start.runtime = std::map<std::string, std::string>{{k_dag_run, submitted ? "1" : "0"},
                                                       {k_dag_jobs, std::to_string(jobs)}};
    EXPECT_TRUE(m_store->tasks().update(run->id, start));
    return run->id;
  }

  void step_all() {
    auto runs = running_dag_runs(*m_store);
    ASSERT_TRUE(runs);
    for (const auto& r : *runs) {
      auto st = step_dag_run(
          *m_store, r, [&](const std::string&, bool q) { m_enqueued += q; }, m_now);
      ASSERT_TRUE(st) << st.error().message;
    }
  }

  // The agent's part: take what is queued, in order.
  std::vector<std::string> take_all() {
    std::vector<std::string> names;
    for (;;) {
      auto t = m_store->queues().take({"q"}, "w");
      EXPECT_TRUE(t);
      if (!*t)
        return names;
      names.push_back((*t)->name);
    }
  }

  void end(const std::string& name, TaskStatus st) {
    ASSERT_TRUE(m_store->tasks().set_status(m_ids[name], st, ""));
  }

  TaskStatus status(const std::string& id) { return m_store->tasks().get(id)->status; }

  testing::TempDir m_dir;
  FakeEnv m_env;
  std::unique_ptr<MetadataStore> m_store;
  std::map<std::string, std::string> m_ids;
  int m_enqueued = 0;
  double m_now = 0;  // the DAG runner's clock (time limits)
};

TEST_F(TaskDagTest, StepsGoInOrderAndTheRunEndsWithThem) {
  std::string run = make_run({{"a", {}}, {"b", {"a"}}, {"c", {"a"}}, {"d", {"b", "c"}}});
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{"a"});
  step_all();  // a still running: nothing more
  EXPECT_EQ(take_all(), std::vector<std::string>{});
  end("a", TaskStatus::completed);
  step_all();
  EXPECT_EQ(take_all(), (std::vector<std::string>{"b", "c"}));
  end("b", TaskStatus::completed);
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{});  // d waits for c too
  end("c", TaskStatus::completed);
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{"d"});
  EXPECT_EQ(status(run), TaskStatus::running);
  end("d", TaskStatus::completed);
  step_all();
  EXPECT_EQ(status(run), TaskStatus::completed);
  EXPECT_EQ(m_enqueued, 4);
  step_all();  // an ended run is not stepped again
  EXPECT_EQ(m_enqueued, 4);
}

TEST_F(TaskDagTest, AFailureAbortsWhatComesAfterItOnly) {
  std::string run =
      make_run({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"side", {}}, {"after_side", {"side"}}});
  step_all();
  EXPECT_EQ(take_all(), (std::vector<std::string>{"a", "side"}));
  end("a", TaskStatus::failed);
  end("side", TaskStatus::completed);
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{"after_side"});
  auto b = m_store->tasks().get(m_ids["b"]);
  EXPECT_EQ(b->status, TaskStatus::aborted);
  EXPECT_NE(b->status_message.find("'a' failed"), std::string::npos) << b->status_message;
  EXPECT_EQ(status(m_ids["c"]), TaskStatus::aborted);  // after b, after a
  EXPECT_EQ(status(run), TaskStatus::running);
  end("after_side", TaskStatus::completed);
  step_all();
  auto r = m_store->tasks().get(run);
  EXPECT_EQ(r->status, TaskStatus::failed);
  EXPECT_EQ(r->status_message, "not completed: a, b, c");
}

TEST_F(TaskDagTest, JobsBoundWhatIsQueuedOrRunning) {
  make_run({{"a", {}}, {"b", {}}, {"c", {}}}, /*jobs=*/2);
  step_all();
  EXPECT_EQ(take_all(), (std::vector<std::string>{"a", "b"}));
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{});
  end("b", TaskStatus::completed);
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{"c"});
}

TEST_F(TaskDagTest, ARunStillBeingSubmittedIsLeftAlone) {
  std::string run = make_run({{"a", {}}}, 0, /*submitted=*/false);
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{});
  EXPECT_EQ(status(run), TaskStatus::running);
}

TEST_F(TaskDagTest, AStepForAQueueThatDoesNotExistIsAbortedNotRetriedForever) {
  std::string run = make_run({{"a", {}}, {"b", {"a"}}});
  TaskPatch patch;
  patch.runtime = std::map<std::string, std::string>{{k_dag_queue, "nowhere"}};
  ASSERT_TRUE(m_store->tasks().update(m_ids["a"], patch));
  step_all();
  auto a = m_store->tasks().get(m_ids["a"]);
  EXPECT_EQ(a->status, TaskStatus::aborted);
  EXPECT_NE(a->status_message.find("nowhere"), std::string::npos) << a->status_message;
  EXPECT_EQ(status(m_ids["b"]), TaskStatus::aborted);
  EXPECT_EQ(status(run), TaskStatus::failed);
}

TEST_F(TaskDagTest, AFailedStepWithRetriesRunsAgainAndTheStepsAfterItWaitForTheRetry) {
  std::string run = make_run({{"a", {}}, {"b", {"a"}}});
  TaskPatch patch;
  patch.runtime = std::map<std::string, std::string>{{"dag_retries", "1"}};
  ASSERT_TRUE(m_store->tasks().update(m_ids["a"], patch));
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{"a"});
  end("a", TaskStatus::failed);
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{"a"});  // the retry
  auto first = m_store->tasks().get(m_ids["a"]);
  std::string retry = first->runtime["dag_retried"];
  ASSERT_FALSE(retry.empty());
  EXPECT_EQ(m_store->tasks().get(retry)->runtime["retry_of"], m_ids["a"]);
  EXPECT_EQ(m_store->tasks().get(m_ids["b"])->runtime[k_dag_after], retry);
  EXPECT_EQ(status(m_ids["b"]), TaskStatus::created);
  // The retry fails too: no retries left, b is aborted, the run fails.
  ASSERT_TRUE(m_store->tasks().set_status(retry, TaskStatus::failed, ""));
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{});
  EXPECT_EQ(status(m_ids["b"]), TaskStatus::aborted);
  auto r = m_store->tasks().get(run);
  EXPECT_EQ(r->status, TaskStatus::failed);
  EXPECT_EQ(r->status_message, "not completed: b, a");  // in creation order; the retried one once
}

TEST_F(TaskDagTest, AStepPastItsTimeLimitIsAborted) {
  make_run({{"a", {}}});
  TaskPatch patch;
  patch.runtime = std::map<std::string, std::string>{{"dag_time_limit", "60"}};
  ASSERT_TRUE(m_store->tasks().update(m_ids["a"], patch));
  step_all();
  EXPECT_EQ(take_all(), std::vector<std::string>{"a"});  // running, started now
  m_now = m_env.now() + 30;
  step_all();
  EXPECT_EQ(status(m_ids["a"]), TaskStatus::running);
  m_now = m_env.now() + 61;
  step_all();
  auto a = m_store->tasks().get(m_ids["a"]);
  EXPECT_EQ(a->status, TaskStatus::aborted);
  EXPECT_EQ(a->status_message, "time limit of 60 s passed");
}

TEST_F(TaskDagTest, AbortOnFailureEndsEveryStepNotEndedYet) {
  std::string run = make_run({{"a", {}}, {"side", {}}, {"after_side", {"side"}}});
  TaskPatch patch;
  patch.runtime = std::map<std::string, std::string>{{"dag_abort_on_failure", "1"}};
  ASSERT_TRUE(m_store->tasks().update(run, patch));
  step_all();
  EXPECT_EQ(take_all(), (std::vector<std::string>{"a", "side"}));
  end("a", TaskStatus::failed);
  step_all();
  auto side = m_store->tasks().get(m_ids["side"]);
  EXPECT_EQ(side->status, TaskStatus::aborted);  // it was running
  EXPECT_EQ(side->status_message, "the pipeline was aborted: step 'a' failed");
  EXPECT_EQ(status(m_ids["after_side"]), TaskStatus::aborted);
  EXPECT_EQ(status(run), TaskStatus::failed);
}

}  // namespace
}  // namespace rh::flow
