// The contract every MetadataStore backend keeps (metadata_store.h). Each
// backend adds a factory at the bottom; the PostgreSQL backend and the REST
// client run these same tests.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "roundhouse/blob/local/local_blob_store.h"
#include "roundhouse/client/remote_store.h"
#include "roundhouse/env/env.h"
#include "roundhouse/hash/sha256.h"
#include "roundhouse/store/metadata_store.h"
#include "roundhouse/store/sqlite/sqlite_store.h"
#include "roundhouse/testing/api_server.h"
#include "roundhouse/testing/temp_dir.h"

namespace rh {
namespace {

// Backends that own a BlobStore (the REST client talks to the server's) expose it
// here, so tests can store blobs first, as every writer must.
class HasBlobs {
 public:
  virtual ~HasBlobs() = default;
  virtual BlobStore& blob_store() = 0;
};

// Backends that front another store (the REST client) expose it for what
// only the server does itself (reaping silent workers).
class HasBacking {
 public:
  virtual ~HasBacking() = default;
  virtual MetadataStore& backing() = 0;
};

struct StoreBackend {
  std::string name;
  // Opens the store kept in dir; opening the same dir again sees the same data.
  std::function<std::unique_ptr<MetadataStore>(const std::string& dir, Env& env)> open;
};

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override { m_store = GetParam().open(m_dir.path(), m_env); }
  void reopen() {
    m_store->close();
    m_store.reset();
    m_store = GetParam().open(m_dir.path(), m_env);
  }
  Task make_task(const std::string& name = "run", const std::string& project = "proj") {
    NewTask t;
    t.project = project;
    t.name = name;
    auto r = m_store->tasks().create(t);
    EXPECT_TRUE(r) << r.error().to_string();
    m_env.advance(0.01);
    return *r;
  }
  TaskStore& tasks() { return m_store->tasks(); }
  BlobStore& blobs() {
    if (auto* h = dynamic_cast<HasBlobs*>(m_store.get()))
      return h->blob_store();
    if (!m_local_blobs)
      m_local_blobs = std::move(*LocalBlobStore::open(m_dir.path() + "/blobs"));
    return *m_local_blobs;
  }
  std::unique_ptr<BlobStore> m_local_blobs;

  testing::TempDir m_dir;
  FakeEnv m_env;
  std::unique_ptr<MetadataStore> m_store;
};

TEST_P(StoreConformance, CreateAndGetKeepEveryField) {
  NewTask in;
  in.project = "vision";
  in.name = "resnet baseline";
  in.type = TaskType::data_processing;
  in.comment = "first try";
  in.tags = {"b", "a", "b"};
  in.script = Script{"https://example.invalid/r.git",
                     "main",
                     "abc123",
                     "diff --git a b\n",
                     "train.py",
                     "src",
                     "",
                     {"python", "train.py", "--lr", "0.1"}};
  in.environment =
      Environment{"Python 3.11", "Linux", "box", "numpy==1.24\n", "numpy==1.24\nsix==1\n"};
  in.hyperparameters = {{"Args", "lr", "0.1", "float", "learning rate"},
                        {"General", "layers", "3", "int", ""}};
  in.configurations = {{"config.yaml", "a: 1\n", "the config"}};
  auto created = tasks().create(in);
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_EQ(created->status, TaskStatus::created);
  EXPECT_EQ(created->id.size(), 32u);

  auto t = tasks().get(created->id);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->project, "vision");
  EXPECT_EQ(t->name, "resnet baseline");
  EXPECT_EQ(t->type, TaskType::data_processing);
  EXPECT_EQ(t->comment, "first try");
  EXPECT_EQ(t->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(t->script, in.script);
  EXPECT_EQ(t->environment, in.environment);
  ASSERT_EQ(t->hyperparameters.size(), 2u);
  EXPECT_EQ(t->hyperparameters[0], in.hyperparameters[0]);
  EXPECT_EQ(t->hyperparameters[1], in.hyperparameters[1]);
  ASSERT_EQ(t->configurations.size(), 1u);
  EXPECT_EQ(t->configurations[0], in.configurations[0]);
  EXPECT_DOUBLE_EQ(t->created, m_env.now());
  EXPECT_EQ(t->started, 0);
}

TEST_P(StoreConformance, ProjectsAreCreatedWithTheirFirstTask) {
  make_task("a", "p1");
  make_task("b", "p1");
  make_task("c", "p2");
  auto list = m_store->projects().list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "p1");
  EXPECT_EQ((*list)[0].task_count, 2);
  EXPECT_EQ((*list)[1].task_count, 1);
  auto e = m_store->projects().ensure("p3", "empty one");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->task_count, 0);
  EXPECT_EQ(m_store->projects().get("nope").error().code, ErrorCode::not_found);
}

TEST_P(StoreConformance, InvalidNewTaskIsRejected) {
  NewTask t;
  t.project = "p";
  t.name = "";
  EXPECT_EQ(tasks().create(t).error().code, ErrorCode::invalid_argument);
  t.name = "bad\xff";
  EXPECT_EQ(tasks().create(t).error().code, ErrorCode::invalid_argument);
  t.name = "ok";
  t.parent = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(tasks().create(t).error().code, ErrorCode::not_found);
  EXPECT_TRUE(m_store->projects().list()->empty()) << "a failed create must leave nothing";
}

TEST_P(StoreConformance, ResolvesUniquePrefixes) {
  Task a = make_task();
  auto r = tasks().resolve(a.id.substr(0, 20));
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, a.id);
  EXPECT_EQ(*tasks().resolve(a.id), a.id);
  Task b = make_task();
  // Created 10 ms apart, so they share the leading timestamp digits.
  EXPECT_EQ(tasks().resolve(a.id.substr(0, 6)).error().code, ErrorCode::ambiguous);
  EXPECT_EQ(tasks().resolve("ffffffff").error().code, ErrorCode::not_found);
  EXPECT_EQ(tasks().resolve("ab").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(tasks().resolve("XYZW").error().code, ErrorCode::invalid_argument);
  (void)b;
}

TEST_P(StoreConformance, OnlyLegalStatusTransitions) {
  Task t = make_task();
  auto bad = tasks().set_status(t.id, TaskStatus::completed, "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::conflict);
  EXPECT_NE(bad.error().message.find("created"), std::string::npos);
  EXPECT_EQ(tasks().get(t.id)->status, TaskStatus::created);

  auto running = tasks().set_status(t.id, TaskStatus::running, "");
  ASSERT_TRUE(running);
  EXPECT_GT(running->started, 0);
  m_env.advance(1);
  ASSERT_TRUE(tasks().set_status(t.id, TaskStatus::paused, ""));
  ASSERT_TRUE(tasks().set_status(t.id, TaskStatus::running, ""));
  EXPECT_DOUBLE_EQ(tasks().get(t.id)->started, running->started) << "started is set once";
  auto done = tasks().set_status(t.id, TaskStatus::failed, "exit code 3");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status_message, "exit code 3");
  EXPECT_GT(done->completed, done->started);
  for (auto to : {TaskStatus::running, TaskStatus::created, TaskStatus::completed}) {
    EXPECT_EQ(tasks().set_status(t.id, to, "").error().code, ErrorCode::conflict);
  }
  EXPECT_EQ(
      tasks().set_status("00000000000000000000000000000000", TaskStatus::running, "").error().code,
      ErrorCode::not_found);
}

TEST_P(StoreConformance, FinalTasksKeepTheirCodeButNotTheirName) {
  Task t = make_task();
  ASSERT_TRUE(tasks().set_status(t.id, TaskStatus::running, ""));
  ASSERT_TRUE(tasks().set_status(t.id, TaskStatus::completed, ""));
  TaskPatch p;
  p.script = Script{};
  p.script->commit = "other";
  EXPECT_EQ(tasks().update(t.id, p).error().code, ErrorCode::conflict);
  EXPECT_EQ(tasks().set_hyperparameters(t.id, {{"Args", "x", "1", "", ""}}, false).error().code,
            ErrorCode::conflict);
  TaskPatch rename;
  rename.name = "renamed";
  rename.runtime = std::map<std::string, std::string>{{"exit_code", "0"}};
  auto r = tasks().update(t.id, rename);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->name, "renamed");
  EXPECT_EQ(r->runtime.at("exit_code"), "0");
  TaskPatch more;
  more.runtime = std::map<std::string, std::string>{{"peak_rss_bytes", "1024"}};
  r = tasks().update(t.id, more);
  EXPECT_EQ(r->runtime.size(), 2u) << "runtime merges key by key";
}

TEST_P(StoreConformance, HyperparametersUpsertAndReplaceSections) {
  Task t = make_task();
  ASSERT_TRUE(tasks().set_hyperparameters(
      t.id, {{"Args", "lr", "0.1", "float", ""}, {"Args", "bs", "32", "int", ""}}, false));
  ASSERT_TRUE(tasks().set_hyperparameters(t.id, {{"Args", "lr", "0.2", "float", ""}}, false));
  auto got = tasks().get(t.id);
  ASSERT_EQ(got->hyperparameters.size(), 2u);
  EXPECT_EQ(got->hyperparameters[1].value, "0.2");
  ASSERT_TRUE(tasks().set_hyperparameters(t.id, {{"Args", "epochs", "5", "int", ""}}, true));
  got = tasks().get(t.id);
  ASSERT_EQ(got->hyperparameters.size(), 1u);
  EXPECT_EQ(got->hyperparameters[0].name, "epochs");
  ASSERT_TRUE(tasks().set_configuration(t.id, {"cfg", "x: 1", ""}));
  ASSERT_TRUE(tasks().set_configuration(t.id, {"cfg", "x: 2", ""}));
  EXPECT_EQ(tasks().get(t.id)->configurations.at(0).value, "x: 2");
}

TEST_P(StoreConformance, TagsAddRemoveAndFilter) {
  Task a = make_task("a");
  Task b = make_task("b");
  ASSERT_TRUE(tasks().change_tags(a.id, {"best", "v1"}, {}));
  ASSERT_TRUE(tasks().change_tags(b.id, {"v1"}, {}));
  auto r = tasks().change_tags(a.id, {"v2"}, {"v1"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tags, (std::vector<std::string>{"best", "v2"}));
  TaskQuery q;
  q.tags = {"v1"};
  auto page = tasks().list(q);
  ASSERT_EQ(page->tasks.size(), 1u);
  EXPECT_EQ(page->tasks[0].id, b.id);
  EXPECT_EQ(tasks().change_tags(a.id, {"-bad"}, {}).error().code, ErrorCode::invalid_argument);
}

TEST_P(StoreConformance, ListFiltersAndPagesWithoutGapsOrRepeats) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    Task t = make_task("run " + std::to_string(i), i % 2 ? "odd" : "even");
    ids.push_back(t.id);
    if (i % 5 == 0) {
      ASSERT_TRUE(tasks().set_status(t.id, TaskStatus::running, ""));
    }
  }
  TaskQuery q;
  q.limit = 4;
  std::set<std::string> seen;
  std::string prev_created_id;
  int pages = 0;
  do {
    auto page = tasks().list(q);
    ASSERT_TRUE(page) << page.error().to_string();
    for (const auto& t : page->tasks)
      EXPECT_TRUE(seen.insert(t.id).second);
    q.cursor = page->next_cursor;
    ++pages;
  } while (!q.cursor.empty());
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages, 7);

  TaskQuery newest;
  newest.limit = 1;
  EXPECT_EQ(tasks().list(newest)->tasks[0].id, ids.back());

  TaskQuery f;
  f.project = "odd";
  f.statuses = {TaskStatus::running};
  auto page = tasks().list(f);
  ASSERT_EQ(page->tasks.size(), 2u);  // runs 5 and 15
  TaskQuery n;
  n.name_contains = "run 1";
  EXPECT_EQ(tasks().list(n)->tasks.size(), 11u);  // 1, 10..19
  TaskQuery bad;
  bad.order_by = "nonsense";
  EXPECT_EQ(tasks().list(bad).error().code, ErrorCode::invalid_argument);
  bad = TaskQuery{};
  bad.cursor = "garbage";
  EXPECT_EQ(tasks().list(bad).error().code, ErrorCode::invalid_argument);
}

// Pages are keyset positions (sort key + id), not offsets: rows inserted
// between two pages neither shift the rows not yet seen nor repeat seen ones.
TEST_P(StoreConformance, ListPagesStayPutWhileTasksAreInsertedBetweenPages) {
  for (const std::string order : {"created", "name", "metric:acc/val"}) {
    SCOPED_TRACE(order);
    std::set<std::string> originals;
    for (int i = 0; i < 12; ++i) {
      // Names "k00", "k02", ... leave room for inserted names between them.
      char name[8];
      std::snprintf(name, sizeof name, "k%02d", 2 * i);
      Task t = make_task(name, "keyset " + order);
      originals.insert(t.id);
      if (i % 3 != 0) {  // a third lack the metric and sort last
        ASSERT_TRUE(m_store->scalars().append(
            t.id, {ScalarSeries{"acc", "val", {0}, {0.05 * (i % 4)}, {}}}));
      }
      m_env.advance(0.01);
    }
    TaskQuery q;
    q.project = "keyset " + order;
    q.order_by = order;
    q.descending = order != "name";
    q.limit = 3;
    std::set<std::string> seen;
    int inserted = 0;
    do {
      auto page = tasks().list(q);
      ASSERT_TRUE(page) << page.error().to_string();
      for (const auto& t : page->tasks)
        EXPECT_TRUE(seen.insert(t.id).second) << "repeated " << t.name;
      q.cursor = page->next_cursor;
      // Two new tasks per page: one sorting before the cursor, one after.
      for (int j = 0; j < 2 && !q.cursor.empty(); ++j) {
        char name[8];
        std::snprintf(name, sizeof name, "k%02d", 2 * (inserted % 12) + 1);
        Task t = make_task(name, "keyset " + order);
        ASSERT_TRUE(m_store->scalars().append(
            t.id, {ScalarSeries{"acc", "val", {0}, {j == 0 ? 0.99 : 0.01}, {}}}));
        ++inserted;
        m_env.advance(0.01);
      }
    } while (!q.cursor.empty());
    for (const auto& id : originals)
      EXPECT_TRUE(seen.count(id)) << "skipped task " << id;
  }
}

TEST_P(StoreConformance, ListSortsByMetricWithTasksLackingItLast) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    Task t = make_task("t" + std::to_string(i));
    ids.push_back(t.id);
    if (i < 4) {
      double acc = std::vector<double>{0.5, 0.9, 0.7, NAN}[i];
      ASSERT_TRUE(m_store->scalars().append(t.id, {ScalarSeries{"acc", "val", {0}, {acc}, {}}}));
    }
  }
  TaskQuery q;
  q.order_by = "metric:acc/val";
  q.limit = 2;
  std::vector<std::string> order;
  do {
    auto page = tasks().list(q);
    ASSERT_TRUE(page) << page.error().to_string();
    for (auto& t : page->tasks)
      order.push_back(t.id);
    q.cursor = page->next_cursor;
  } while (!q.cursor.empty());
  ASSERT_EQ(order.size(), 6u);
  EXPECT_EQ(order[0], ids[1]);
  EXPECT_EQ(order[1], ids[2]);
  EXPECT_EQ(order[2], ids[0]);
  std::set<std::string> rest(order.begin() + 3, order.end());
  EXPECT_EQ(rest, (std::set<std::string>{ids[3], ids[4], ids[5]}));
}

TEST_P(StoreConformance, ListFiltersByParameterAndMetricValues) {
  std::vector<std::string> ids;
  const char* lrs[] = {"0.1", "0.010", "0.001", "adam"};
  for (int i = 0; i < 4; ++i) {
    Task t = make_task("f" + std::to_string(i));
    ids.push_back(t.id);
    ASSERT_TRUE(tasks().set_hyperparameters(
        t.id,
        {Hyperparameter{"General", "lr", lrs[i], "float", ""},
         Hyperparameter{"General", "opt", i % 2 ? "sgd" : "adamw", "str", ""}},
        false));
    if (i < 3) {
      ASSERT_TRUE(m_store->scalars().append(
          t.id, {ScalarSeries{"acc", "val", {0, 1}, {0.1, 0.6 + 0.1 * i}, {}}}));
    }
  }
  auto ids_of = [&](std::vector<std::string> filters) {
    TaskQuery q;
    q.order_by = "name";
    q.descending = false;
    for (const auto& f : filters) {
      auto parsed = parse_task_filter(f);
      EXPECT_TRUE(parsed) << f << ": " << parsed.error().to_string();
      q.filters.push_back(*parsed);
    }
    std::vector<std::string> out;
    auto page = tasks().list(q);
    EXPECT_TRUE(page) << page.error().to_string();
    for (auto& t : page->tasks)
      out.push_back(t.name);
    return out;
  };
  using V = std::vector<std::string>;
  // Numbers compare as numbers: "0.010" equals 0.01 and is above 0.005; "adam" is no number.
  EXPECT_EQ(ids_of({"param:General/lr>=0.005"}), (V{"f0", "f1"}));
  EXPECT_EQ(ids_of({"param:General/lr=0.01"}), (V{"f1"}));
  EXPECT_EQ(ids_of({"param:General/lr<0.05"}), (V{"f1", "f2"}));
  EXPECT_EQ(ids_of({"param:General/lr=adam"}), (V{"f3"}));
  EXPECT_EQ(ids_of({"param:General/opt~adam"}), (V{"f0", "f2"}));
  EXPECT_EQ(ids_of({"param:General/opt!=sgd"}), (V{"f0", "f2"}));
  // The last value counts, not the best; tasks without the metric never match.
  EXPECT_EQ(ids_of({"metric:acc/val>0.65"}), (V{"f1", "f2"}));
  EXPECT_EQ(ids_of({"metric:acc/val>0.65", "param:General/opt=sgd"}), (V{"f1"}));
  EXPECT_EQ(ids_of({"param:Other/lr>0"}), V{});

  TaskQuery bad;
  bad.filters.push_back(TaskFilter{TaskFilter::Kind::param, "General", "lr", "; DROP", "1"});
  auto r = tasks().list(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  for (const char* text : {"lr>1", "param:lr>1", "param:General/lr", "metric:acc/val>high",
                           "metric:acc/val~1", "param:/lr=1"}) {
    auto f = parse_task_filter(text);
    EXPECT_FALSE(f) << text;
    if (!f) {
      EXPECT_EQ(f.error().code, ErrorCode::invalid_argument);
      EXPECT_NE(f.error().message.find(text), std::string::npos) << f.error().message;
    }
  }
}

TEST_P(StoreConformance, ListAddsChosenColumnsAndKeysNameThem) {
  Task a = make_task("a", "cols");
  Task b = make_task("b", "cols");
  make_task("c", "elsewhere");
  ASSERT_TRUE(tasks().set_hyperparameters(a.id,
                                          {Hyperparameter{"Args", "epochs", "5", "int", ""},
                                           Hyperparameter{"Args", "x", "1", "int", ""}},
                                          false));
  ASSERT_TRUE(m_store->scalars().append(
      a.id, {ScalarSeries{"loss", "train", {0, 1, 2}, {3.0, 1.0, 2.0}, {}}}));
  TaskQuery q;
  q.project = "cols";
  q.order_by = "name";
  q.descending = false;
  q.with_params = {{"Args", "epochs"}};
  q.with_metrics = {{"loss", "train"}};
  auto page = tasks().list(q);
  ASSERT_TRUE(page) << page.error().to_string();
  ASSERT_EQ(page->tasks.size(), 2u);
  const Task& ra = page->tasks[0];
  ASSERT_EQ(ra.hyperparameters.size(), 1u);  // only the column asked for
  EXPECT_EQ(ra.hyperparameters[0].name, "epochs");
  EXPECT_EQ(ra.hyperparameters[0].value, "5");
  ASSERT_EQ(ra.metrics.size(), 1u);
  EXPECT_EQ(ra.metrics[0].last_value, 2.0);
  EXPECT_EQ(ra.metrics[0].min_value, 1.0);
  EXPECT_EQ(ra.metrics[0].count, 3);
  EXPECT_TRUE(page->tasks[1].hyperparameters.empty());
  EXPECT_TRUE(page->tasks[1].metrics.empty());
  (void)b;

  auto keys = tasks().keys(std::string("cols"));
  ASSERT_TRUE(keys) << keys.error().to_string();
  using P = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(keys->params, (P{{"Args", "epochs"}, {"Args", "x"}}));
  EXPECT_EQ(keys->metrics, (P{{"loss", "train"}}));
  auto none = tasks().keys(std::string("elsewhere"));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->params.empty());
  EXPECT_TRUE(none->metrics.empty());
}

TEST_P(StoreConformance, QueuesAreCreatedListedAndKeptWhileTasksWait) {
  auto& qs = m_store->queues();
  auto q = qs.create("gpu", true);
  ASSERT_TRUE(q) << q.error().to_string();
  EXPECT_TRUE(q->requeue_on_lost);
  auto dup = qs.create("gpu", false);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ErrorCode::already_exists);
  ASSERT_TRUE(qs.create("cpu", false));
  EXPECT_FALSE(qs.create("bad name/x", false));
  Task t = make_task();
  ASSERT_TRUE(qs.enqueue(t.id, "gpu", 0));
  auto list = qs.list();
  ASSERT_TRUE(list);
  // Sorted by name; the "default" queue exists from the start.
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].name, "cpu");
  EXPECT_EQ((*list)[1].name, "default");
  EXPECT_EQ((*list)[1].waiting, 0);
  EXPECT_EQ((*list)[2].name, "gpu");
  EXPECT_EQ((*list)[2].waiting, 1);
  auto refused = qs.remove("gpu");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  ASSERT_TRUE(qs.dequeue(t.id));
  EXPECT_TRUE(qs.remove("gpu"));
  EXPECT_EQ(qs.get("gpu").error().code, ErrorCode::not_found);
}

TEST_P(StoreConformance, TasksAreTakenByPriorityThenEnqueueTime) {
  auto& qs = m_store->queues();
  ASSERT_TRUE(qs.create("q1", false));
  ASSERT_TRUE(qs.create("q2", false));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(make_task("t" + std::to_string(i)).id);
  // t0 (p0), t1 (p5), t2 (p0), t3 (p5) in q1; t4 in q2.
  int64_t prio[] = {0, 5, 0, 5};
  for (int i = 0; i < 4; ++i) {
    auto t = qs.enqueue(ids[i], "q1", prio[i]);
    ASSERT_TRUE(t) << t.error().to_string();
    EXPECT_EQ(t->status, TaskStatus::queued);
    EXPECT_EQ(t->runtime.at("queue"), "q1");
    m_env.advance(0.01);
  }
  ASSERT_TRUE(qs.enqueue(ids[4], "q2", 100));
  auto entries = qs.entries("q1", 10);
  ASSERT_TRUE(entries);
  std::vector<std::string> order;
  for (auto& e : *entries)
    order.push_back(e.task_id);
  EXPECT_EQ(order, (std::vector<std::string>{ids[1], ids[3], ids[0], ids[2]}));
  // Only drafts are enqueued; the status route cannot queue a task.
  auto again = qs.enqueue(ids[0], "q1", 0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  Task other = make_task("other");
  auto by_status = tasks().set_status(other.id, TaskStatus::queued, "");
  ASSERT_FALSE(by_status);
  EXPECT_EQ(by_status.error().code, ErrorCode::conflict);
  EXPECT_EQ(qs.enqueue(other.id, "nope", 0).error().code, ErrorCode::not_found);
  // Aborting a queued task takes it out of its queue.
  ASSERT_TRUE(tasks().set_status(ids[3], TaskStatus::aborted, "not needed"));
  // The first queue named wins over a higher priority in the second.
  ASSERT_TRUE(qs.heartbeat(Worker{"w1", "host", {"q1", "q2"}, "", "", 0, 0}));
  std::vector<std::string> taken;
  for (int i = 0; i < 4; ++i) {
    auto t = qs.take({"q1", "q2"}, "w1");
    ASSERT_TRUE(t) << t.error().to_string();
    ASSERT_TRUE(t->has_value());
    EXPECT_EQ((*t)->status, TaskStatus::running);
    EXPECT_EQ((*t)->runtime.at("worker"), "w1");
    EXPECT_GT((*t)->started, 0);
    taken.push_back((*t)->id);
  }
  EXPECT_EQ(taken, (std::vector<std::string>{ids[1], ids[0], ids[2], ids[4]}));
  auto none = qs.take({"q1", "q2"}, "w1");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto workers = qs.workers();
  ASSERT_TRUE(workers);
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].task_id, ids[4]);
  EXPECT_EQ((*workers)[0].queues, (std::vector<std::string>{"q1", "q2"}));
}

TEST_P(StoreConformance, TakeLeavesTasksAskingMoreSlotsThanTheWorkerOffers) {
  auto& qs = m_store->queues();
  ASSERT_TRUE(qs.create("q", false));
  // Queued first: asks 2 slots; then one asking 0 and one asking nothing.
  std::vector<std::string> ids;
  for (const char* slots : {"2", "0", ""}) {
    Task t = make_task(std::string("s") + slots);
    if (*slots) {
      TaskPatch p;
      p.runtime = std::map<std::string, std::string>{{"slots", slots}};
      ASSERT_TRUE(tasks().update(t.id, p));
    }
    ASSERT_TRUE(qs.enqueue(t.id, "q", 0));
    ids.push_back(t.id);
    m_env.advance(0.01);
  }
  // A CPU worker offers one slot; a one-GPU worker too; two GPUs offer two.
  ASSERT_TRUE(qs.heartbeat(Worker{"cpu", "h", {"q"}, "", "", 0, 0}));
  ASSERT_TRUE(qs.heartbeat(Worker{"gpu1", "h", {"q"}, "3", "", 0, 0}));
  ASSERT_TRUE(qs.heartbeat(Worker{"gpu2", "h", {"q"}, "0,1", "", 0, 0}));
  auto a = qs.take({"q"}, "cpu");
  ASSERT_TRUE(a && a->has_value());
  EXPECT_EQ((*a)->id, ids[1]);
  auto b = qs.take({"q"}, "gpu1");
  ASSERT_TRUE(b && b->has_value());
  EXPECT_EQ((*b)->id, ids[2]);
  auto c = qs.take({"q"}, "cpu");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_value());  // only the 2-slot task waits
  auto d = qs.take({"q"}, "gpu2");
  ASSERT_TRUE(d && d->has_value());
  EXPECT_EQ((*d)->id, ids[0]);
}

TEST_P(StoreConformance, ConcurrentTakersNeverShareATask) {
  auto& qs = m_store->queues();
  ASSERT_TRUE(qs.create("q", false));
  std::set<std::string> all;
  for (int i = 0; i < 40; ++i) {
    Task t = make_task("t" + std::to_string(i));
    ASSERT_TRUE(qs.enqueue(t.id, "q", 0));
    all.insert(t.id);
  }
  std::mutex mu;
  std::vector<std::string> got;
  std::vector<std::thread> threads;
  for (int w = 0; w < 6; ++w) {
    threads.emplace_back([&, w] {
      while (true) {
        auto t = qs.take({"q"}, "w" + std::to_string(w));
        if (!t || !t->has_value())
          return;
        std::lock_guard lk(mu);
        got.push_back((*t)->id);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(got.size(), all.size());
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), all);
}

TEST_P(StoreConformance, SilentWorkersLoseTheirTasksByTheQueuesRule) {
  auto& qs = m_store->queues();
  ASSERT_TRUE(qs.create("fail", false));
  ASSERT_TRUE(qs.create("again", true));
  Task a = make_task("a");
  Task b = make_task("b");
  ASSERT_TRUE(qs.enqueue(a.id, "fail", 0));
  ASSERT_TRUE(qs.enqueue(b.id, "again", 3));
  ASSERT_TRUE(qs.heartbeat(Worker{"wa", "h", {"fail"}, "", "", 0, 0}));
  ASSERT_TRUE(qs.heartbeat(Worker{"wb", "h", {"again"}, "", "", 0, 0}));
  ASSERT_TRUE(qs.take({"fail"}, "wa"));
  ASSERT_TRUE(qs.take({"again"}, "wb"));
  m_env.advance(100);
  ASSERT_TRUE(qs.heartbeat(Worker{"alive", "h", {"fail"}, "", "", 0, 0}));
  // Reaping is the server's own job: through the REST client, on its store.
  auto* fronted = dynamic_cast<HasBacking*>(m_store.get());
  QueueStore& reaper = fronted ? fronted->backing().queues() : qs;
  auto lost = reaper.reap_workers(m_env.now() - 30);
  ASSERT_TRUE(lost) << lost.error().to_string();
  ASSERT_EQ(lost->size(), 2u);
  auto ta = tasks().get(a.id);
  EXPECT_EQ(ta->status, TaskStatus::failed);
  EXPECT_NE(ta->status_message.find("agent wa stopped sending heartbeats"), std::string::npos)
      << ta->status_message;
  auto tb = tasks().get(b.id);
  EXPECT_EQ(tb->status, TaskStatus::queued);
  auto waiting = qs.entries("again", 10);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].priority, 3);
  auto workers = qs.workers();
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].name, "alive");
  // A requeued task runs again on the next agent.
  auto again = qs.take({"again"}, "alive");
  ASSERT_TRUE(again && again->has_value());
  EXPECT_EQ((*again)->id, b.id);
}

DatasetFile dfile(const std::string& path, const std::string& content) {
  return DatasetFile{path, sha256_digest(content), content.size(), 0644};
}

TEST_P(StoreConformance, DatasetVersionsAreParentsPlusDeltas) {
  auto& ds = m_store->datasets();
  auto v1 = ds.create(NewDatasetVersion{"p", "images", "", {}, {"raw"}, ""});
  ASSERT_TRUE(v1) << v1.error().to_string();
  EXPECT_EQ(v1->version, "1.0.0");
  EXPECT_EQ(v1->state, DatasetState::draft);
  ASSERT_TRUE(ds.put_files(
      v1->id, {dfile("a.txt", "a"), dfile("dir/b.txt", "b"), dfile("dir/c.csv", "c")}));
  ASSERT_TRUE(ds.put_files(v1->id, {dfile("a.txt", "A")}));  // replaces by path
  auto removed = ds.remove_files(v1->id, "*.csv");
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 1);
  auto s1 = ds.summarize(v1->id);
  ASSERT_TRUE(s1);
  EXPECT_EQ(s1->files, 2);
  EXPECT_EQ(s1->added, 2);
  // A child of a draft is refused; final versions are immutable.
  auto early = ds.create(NewDatasetVersion{"p", "images", "", {v1->id}, {}, ""});
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::conflict);
  // Blobs, then the manifest, then the row: the manifest is stored first.
  StringSource manifest_src("manifest");
  auto stored = blobs().put(manifest_src, "");
  ASSERT_TRUE(stored) << stored.error().to_string();
  std::string manifest = stored->digest;
  auto f1 = ds.finalize(v1->id, manifest);
  ASSERT_TRUE(f1) << f1.error().to_string();
  EXPECT_EQ(f1->state, DatasetState::final_);
  EXPECT_EQ(f1->manifest, manifest);
  EXPECT_EQ(f1->summary.files, 2);
  auto again = ds.finalize(v1->id, manifest);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(ds.put_files(v1->id, {dfile("x", "x")}).error().code, ErrorCode::conflict);
  EXPECT_EQ(ds.remove_files(v1->id, "a.txt").error().code, ErrorCode::conflict);

  // v2 = v1 + a change, an addition and a removal.
  m_env.advance(1);
  auto v2 = ds.create(NewDatasetVersion{"p", "images", "", {v1->id}, {}, "task-1"});
  ASSERT_TRUE(v2) << v2.error().to_string();
  EXPECT_EQ(v2->version, "1.0.1");
  EXPECT_EQ(v2->parents, std::vector<std::string>{v1->id});
  auto inherited = ds.files(v2->id, "", 100);
  ASSERT_TRUE(inherited);
  EXPECT_EQ(inherited->size(), 2u);
  ASSERT_TRUE(ds.put_files(v2->id, {dfile("a.txt", "AA"), dfile("new.txt", "n")}));
  ASSERT_EQ(*ds.remove_files(v2->id, "dir"), 1);
  // Exact paths: a name that looks like a glob removes only itself.
  ASSERT_TRUE(ds.put_files(v2->id, {dfile("img[1].png", "i"), dfile("img1.png", "j")}));
  auto exact = ds.remove_paths(v2->id, {"img[1].png", "not-there"});
  ASSERT_TRUE(exact) << exact.error().to_string();
  EXPECT_EQ(*exact, 1);
  auto left = ds.files(v2->id, "img", 2);  // after "img": img1.png, then new.txt
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ(left->front().path, "img1.png");
  EXPECT_EQ(left->back().path, "new.txt");
  ASSERT_EQ(*ds.remove_paths(v2->id, {"img1.png"}), 1);
  auto s2 = ds.summarize(v2->id);
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->files, 2);
  EXPECT_EQ(s2->added, 1);
  EXPECT_EQ(s2->modified, 1);
  EXPECT_EQ(s2->modified_bytes, 2);
  EXPECT_EQ(s2->removed, 1);
  EXPECT_EQ(s2->removed_bytes, 1);
  auto page = ds.files(v2->id, "a.txt", 10);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].path, "new.txt");
  // Bad paths and duplicate versions.
  EXPECT_EQ(ds.put_files(v2->id, {dfile("../up", "u")}).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(ds.put_files(v2->id, {dfile("/abs", "u")}).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(ds.create(NewDatasetVersion{"p", "images", "1.0.0", {}, {}, ""}).error().code,
            ErrorCode::already_exists);
  // Deleting a parent is refused while a child exists.
  EXPECT_EQ(ds.remove(v1->id).error().code, ErrorCode::conflict);
  // Lookups by name, version and tag.
  DatasetQuery q;
  q.project = "p";
  q.name = "images";
  auto all = ds.list(q);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, v2->id);  // newest first
  q.final_only = true;
  EXPECT_EQ(ds.list(q)->size(), 1u);
  q.final_only = false;
  q.tags = {"raw"};
  EXPECT_EQ(ds.list(q)->front().id, v1->id);
  auto tagged = ds.change_tags(v2->id, {"best"}, {});
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->tags, std::vector<std::string>{"best"});
  auto resolved = ds.resolve(v2->id.substr(0, 12));
  ASSERT_TRUE(resolved);
  EXPECT_EQ(*resolved, v2->id);
  ASSERT_TRUE(ds.remove(v2->id));
  ASSERT_TRUE(ds.remove(v1->id));
  EXPECT_EQ(ds.get(v1->id).error().code, ErrorCode::not_found);
}

TEST_P(StoreConformance, DatasetChangesComeASliceAtATime) {
  auto& ds = m_store->datasets();
  auto v = ds.create(NewDatasetVersion{"p", "stream", "", {}, {}, ""});
  ASSERT_TRUE(v) << v.error().to_string();
  ASSERT_TRUE(ds.put_files(v->id, {dfile("old.txt", "o"), dfile("keep.txt", "k")}));
  std::vector<FileChanges> slices(2);
  slices[0].put = {dfile("a.txt", "a"), dfile("b.txt", "b")};
  slices[0].gone = {"old.txt", "not-there"};
  slices[1].put = {dfile("a.txt", "A"), dfile("c/d.txt", "d")};  // a later slice replaces
  size_t fed = 0;
  auto feed = [&](FileChanges& c) -> Result<bool> {
    if (fed == slices.size())
      return false;
    c = slices[fed++];
    return true;
  };
  auto removed = ds.change_files(v->id, feed);
  ASSERT_TRUE(removed) << removed.error().to_string();
  EXPECT_EQ(*removed, 1);
  EXPECT_EQ(fed, 2u);
  auto files = ds.files(v->id, "", 100);
  ASSERT_TRUE(files);
  std::vector<std::string> paths;
  for (const auto& f : *files)
    paths.push_back(f.path + "=" + f.digest.substr(7, 4));
  auto d = [](const std::string& path, const std::string& content) {
    return path + "=" + dfile(path, content).digest.substr(7, 4);
  };
  EXPECT_EQ(paths, (std::vector<std::string>{d("a.txt", "A"), d("b.txt", "b"), d("c/d.txt", "d"),
                                             d("keep.txt", "k")}));
  // A bad row or a failing feed is an error that names it.
  fed = 0;
  slices[1].put = {dfile("../up", "u")};
  auto bad = ds.change_files(v->id, feed);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  auto failing = ds.change_files(v->id, [](FileChanges&) -> Result<bool> {
    return make_error(ErrorCode::io, "cannot read back the rows");
  });
  ASSERT_FALSE(failing);
  EXPECT_NE(failing.error().message.find("cannot read back"), std::string::npos);
  {  // one write on every backend: the first slice did not land either
    auto after = ds.files(v->id, "", 100);
    ASSERT_TRUE(after);
    EXPECT_EQ(after->size(), 4u);
    EXPECT_EQ(after->front().digest, dfile("a.txt", "A").digest);
  }
  StringSource manifest_src("manifest of stream");  // final versions refuse changes
  auto manifest = blobs().put(manifest_src, "");
  ASSERT_TRUE(manifest) << manifest.error().to_string();
  ASSERT_TRUE(ds.finalize(v->id, manifest->digest));
  FileChanges late;
  late.put = {dfile("x", "x")};
  EXPECT_EQ(ds.change_files(v->id,
                            [&, once = false](FileChanges& c) mutable -> Result<bool> {
                              if (once)
                                return false;
                              once = true;
                              c = late;
                              return true;
                            })
                .error()
                .code,
            ErrorCode::conflict);
}

TEST_P(StoreConformance, ScalarsKeepOrderNaNAndInfinity) {
  Task t = make_task();
  ScalarSeries a{"loss", "train", {0, 1, 2}, {1.0, NAN, INFINITY}, {10, 11, 12}};
  ScalarSeries b{"loss", "train", {3, 2}, {-INFINITY, 0.25}, {13, 14}};
  ASSERT_TRUE(m_store->scalars().append(t.id, {a}));
  ASSERT_TRUE(m_store->scalars().append(t.id, {b, ScalarSeries{"acc", "val", {7}, {0.5}, {}}}));
  auto s = m_store->scalars().read(t.id, "loss", "train", {});
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->steps, (std::vector<int64_t>{0, 1, 2, 3, 2}));
  ASSERT_EQ(s->values.size(), 5u);
  EXPECT_EQ(s->values[0], 1.0);
  EXPECT_TRUE(std::isnan(s->values[1]));
  EXPECT_EQ(s->values[2], INFINITY);
  EXPECT_EQ(s->values[3], -INFINITY);
  EXPECT_EQ(s->times[4], 14);
  auto sums = m_store->scalars().summaries(t.id);
  ASSERT_TRUE(sums);
  ASSERT_EQ(sums->size(), 2u);
  const auto& loss = (*sums)[1];
  EXPECT_EQ(loss.title, "loss");
  EXPECT_EQ(loss.count, 5);
  EXPECT_EQ(loss.last_step, 2);
  EXPECT_EQ(loss.last_value, 0.25);
  EXPECT_EQ(loss.min_value, -INFINITY);
  EXPECT_EQ(loss.max_value, INFINITY);
  EXPECT_DOUBLE_EQ((*sums)[0].last_time, m_env.now()) << "missing times mean now";
}

TEST_P(StoreConformance, ScalarErrors) {
  Task t = make_task();
  ScalarSeries uneven{"a", "b", {1, 2}, {1.0}, {}};
  EXPECT_EQ(m_store->scalars().append(t.id, {uneven}).error().code, ErrorCode::invalid_argument);
  ScalarSeries ok{"a", "b", {1}, {1.0}, {}};
  EXPECT_EQ(m_store->scalars().append("00000000000000000000000000000000", {ok}).error().code,
            ErrorCode::not_found);
  EXPECT_EQ(m_store->scalars().read(t.id, "a", "b", {}).error().code, ErrorCode::not_found);
  // A batch with one bad series stores none of it.
  EXPECT_FALSE(m_store->scalars().append(t.id, {ok, uneven}));
  EXPECT_TRUE(m_store->scalars().summaries(t.id)->empty());
}

TEST_P(StoreConformance, DownsamplingKeepsExtremesAndEnds) {
  Task t = make_task();
  const int n = 100000;
  for (int base = 0; base < n; base += 10000) {
    ScalarSeries s{"loss", "train", {}, {}, {}};
    for (int i = base; i < base + 10000; ++i) {
      s.steps.push_back(i);
      s.values.push_back(i == 54321 ? 1000.0 : (i == 777 ? -5.0 : std::sin(i / 100.0)));
      s.times.push_back(1e9 + i);
    }
    ASSERT_TRUE(m_store->scalars().append(t.id, {s}));
  }
  ScalarReadOptions opt;
  opt.max_points = 2000;
  auto d = m_store->scalars().read(t.id, "loss", "train", opt);
  ASSERT_TRUE(d);
  EXPECT_LE(d->steps.size(), 2002u);
  EXPECT_GE(d->steps.size(), 500u);
  EXPECT_EQ(d->steps.front(), 0);
  EXPECT_EQ(d->steps.back(), n - 1);
  EXPECT_TRUE(std::is_sorted(d->steps.begin(), d->steps.end()));
  auto has = [&](int64_t step, double v) {
    for (size_t i = 0; i < d->steps.size(); ++i) {
      if (d->steps[i] == step && d->values[i] == v)
        return true;
    }
    return false;
  };
  EXPECT_TRUE(has(54321, 1000.0)) << "the spike survives";
  EXPECT_TRUE(has(777, -5.0)) << "the dip survives";
  ScalarReadOptions range;
  range.min_step = 500;
  range.max_step = 509;
  auto r = m_store->scalars().read(t.id, "loss", "train", range);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->steps.size(), 10u);
  EXPECT_EQ(r->steps.front(), 500);
  EXPECT_DOUBLE_EQ(r->times.back(), 1e9 + 509);
}

TEST_P(StoreConformance, RequestKeysMakeRetriesSafe) {
  Task t = make_task();
  Task other = make_task();
  ScalarSeries s{"loss", "train", {1, 2}, {0.5, 0.25}, {}};
  ASSERT_TRUE(m_store->scalars().append(t.id, {s}, "batch-1"));
  ASSERT_TRUE(m_store->scalars().append(t.id, {s}, "batch-1")) << "a retry succeeds";
  EXPECT_EQ(m_store->scalars().summaries(t.id)->at(0).count, 2) << "...and is applied once";
  ASSERT_TRUE(m_store->scalars().append(t.id, {s}, "batch-2"));
  EXPECT_EQ(m_store->scalars().summaries(t.id)->at(0).count, 4);
  EXPECT_EQ(m_store->scalars().append(other.id, {s}, "batch-1").error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(m_store->scalars().append(t.id, {s}, "has space").error().code,
            ErrorCode::invalid_argument);

  std::vector<ConsoleLine> lines{{0, 0, ConsoleStream::stdout_stream, "a"},
                                 {0, 0, ConsoleStream::stdout_stream, "b"}};
  auto first = m_store->console().append(t.id, lines, "lines-1");
  auto again = m_store->console().append(t.id, lines, "lines-1");
  ASSERT_TRUE(first && again);
  EXPECT_EQ(*first, 2);
  EXPECT_EQ(*again, 2) << "a retry gets the first answer";
  EXPECT_EQ(m_store->console().read(t.id, 0, 100)->size(), 2u);
}

TEST_P(StoreConformance, ConsoleLinesAreNumberedInOrder) {
  Task t = make_task();
  auto last = m_store->console().append(t.id, {{0, 0, ConsoleStream::stdout_stream, "epoch 1"},
                                               {0, 0, ConsoleStream::stderr_stream, "warning: x"}});
  ASSERT_TRUE(last);
  EXPECT_EQ(*last, 2);
  EXPECT_EQ(*m_store->console().append(t.id, {{0, 5, ConsoleStream::stdout_stream, "done"}}), 3);
  auto lines = m_store->console().read(t.id, 1, 100);
  ASSERT_TRUE(lines);
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].seq, 2);
  EXPECT_EQ((*lines)[0].stream, ConsoleStream::stderr_stream);
  EXPECT_EQ((*lines)[1].text, "done");
  EXPECT_EQ((*lines)[1].time, 5);
  EXPECT_EQ(
      m_store->console().append(t.id, {{0, 0, ConsoleStream::stdout_stream, "\xff"}}).error().code,
      ErrorCode::invalid_argument);
  EXPECT_EQ(m_store->console().read("00000000000000000000000000000000", 0, 10).error().code,
            ErrorCode::not_found);
}

TEST_P(StoreConformance, AFolderArtifactKeepsItsMembersAndCanBeRemoved) {
  Task t = make_task();
  ASSERT_TRUE(blobs().put_bytes("file one"));
  ASSERT_TRUE(blobs().put_bytes("file two"));
  ASSERT_TRUE(blobs().put_bytes("manifest"));
  Artifact a;
  a.name = "checkpoint/c1";
  a.digest = sha256_digest("manifest");
  a.size = 16;
  a.type = "checkpoint";
  a.members = {sha256_digest("file two"), sha256_digest("file one")};
  ASSERT_TRUE(m_store->artifacts().put(t.id, a));
  auto got = m_store->artifacts().get(t.id, "checkpoint/c1");
  ASSERT_TRUE(got) << got.error().to_string();
  std::vector<std::string> sorted = a.members;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(got->members, sorted);
  EXPECT_EQ(got->size, 16u) << "a folder's size is its files'";
  Artifact bad = a;
  bad.name = "checkpoint/c2";
  bad.members = {"sha256:nothex"};
  EXPECT_EQ(m_store->artifacts().put(t.id, bad).error().code, ErrorCode::invalid_argument);
  ASSERT_TRUE(m_store->artifacts().remove(t.id, "checkpoint/c1"));
  EXPECT_EQ(m_store->artifacts().get(t.id, "checkpoint/c1").error().code, ErrorCode::not_found);
  EXPECT_EQ(m_store->artifacts().remove(t.id, "checkpoint/c1").error().code, ErrorCode::not_found);
  EXPECT_TRUE(m_store->artifacts().list(t.id)->empty());
}

TEST_P(StoreConformance, ArtifactsAndModels) {
  Task t = make_task();
  ASSERT_TRUE(blobs().put_bytes("weights"));
  Artifact a;
  a.name = "outputs/model.pt";
  a.digest = sha256_digest("weights");
  a.size = 7;
  a.type = "file";
  a.metadata = {{"epoch", "3"}};
  ASSERT_TRUE(m_store->artifacts().put(t.id, a));
  a.size = 8;
  ASSERT_TRUE(blobs().put_bytes("weights v2"));
  a.digest = sha256_digest("weights v2");
  a.size = 10;
  ASSERT_TRUE(m_store->artifacts().put(t.id, a)) << "same name replaces";
  auto list = m_store->artifacts().list(t.id);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].size, 10u);
  EXPECT_EQ((*list)[0].digest, sha256_digest("weights v2"));
  EXPECT_EQ((*list)[0].metadata.at("epoch"), "3");
  EXPECT_EQ(m_store->artifacts().get(t.id, "missing").error().code, ErrorCode::not_found);
  for (std::string bad : {"../etc/passwd", "/abs", "a/../b", "a//b", ""}) {
    Artifact b = a;
    b.name = bad;
    EXPECT_EQ(m_store->artifacts().put(t.id, b).error().code, ErrorCode::invalid_argument) << bad;
  }
  Model m;
  m.task_id = t.id;
  m.name = "classifier";
  m.digest = a.digest;
  m.framework = "torch";
  auto added = m_store->artifacts().add_model(m);
  ASSERT_TRUE(added);
  auto models = m_store->artifacts().models(t.id);
  ASSERT_EQ(models->size(), 1u);
  EXPECT_EQ((*models)[0].framework, "torch");
  EXPECT_EQ((*models)[0].direction, ModelDirection::output);
}

TEST_P(StoreConformance, PlotsTablesAndImages) {
  Task t = make_task();
  auto& plots = m_store->plots();
  Plot table{0, "confusion", "val", 3, "table", R"({"columns":["a","b"],"rows":[[1,2],[3,4]]})", "",
             0};
  auto added = plots.add(t.id, table);
  ASSERT_TRUE(added) << added.error().to_string();
  EXPECT_GT(added->id, 0);
  ASSERT_TRUE(
      plots.add(t.id, Plot{0, "pr", "curve", 3, "scatter2d", R"({"x":[0,1],"y":[1,0]})", "", 0}));
  ASSERT_TRUE(blobs().put_bytes("png bytes"));
  ASSERT_TRUE(plots.add(t.id, Plot{0, "samples", "img", 4, "image", R"({"format":"png"})",
                                   sha256_digest("png bytes"), 0}));
  auto all = plots.list(t.id, "", 0, 100);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].title, "confusion");
  EXPECT_EQ((*all)[0].iteration, 3);
  EXPECT_NE((*all)[0].data.find("columns"), std::string::npos);
  EXPECT_EQ((*all)[2].digest, sha256_digest("png bytes"));
  auto images = plots.list(t.id, "image", 0, 100);
  ASSERT_EQ(images->size(), 1u);
  auto later = plots.list(t.id, "", (*all)[0].id, 100);
  EXPECT_EQ(later->size(), 2u);
  EXPECT_EQ(plots.add(t.id, Plot{0, "x", "y", 0, "pie", "{}", "", 0}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(plots.add(t.id, Plot{0, "x", "y", 0, "table", "[1]", "", 0}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(plots.add(t.id, Plot{0, "x", "y", 0, "image", "{}", "", 0}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(plots.list("00000000000000000000000000000000", "", 0, 10).error().code,
            ErrorCode::not_found);
}

TEST_P(StoreConformance, BlobAliasesNameStoredBlobs) {
  StringSource src("some pipeline out\n");
  auto stored = blobs().put(src, "");
  ASSERT_TRUE(stored) << stored.error().to_string();
  std::string md5 = "0123456789abcdef0123456789abcdef";
  std::string dir = "fedcba9876543210fedcba9876543210.dir";
  auto& aliases = m_store->blob_aliases();
  ASSERT_TRUE(aliases.put({{md5, stored->digest}, {dir, stored->digest}}));
  // A name recorded keeps its blob.
  ASSERT_TRUE(aliases.put({{md5, stored->digest}}));
  auto found = aliases.lookup({md5, "ffffffffffffffffffffffffffffffff", dir});
  ASSERT_TRUE(found) << found.error().to_string();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0], std::make_pair(md5, stored->digest));
  EXPECT_EQ((*found)[1], std::make_pair(dir, stored->digest));
  auto bad = aliases.put({{"not-an-md5", stored->digest}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  auto bad_digest = aliases.put({{md5, "sha256:zz"}});
  ASSERT_FALSE(bad_digest);
  EXPECT_EQ(bad_digest.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(valid_md5_name(dir));
  EXPECT_FALSE(valid_md5_name("0123456789ABCDEF0123456789abcdef"));
}

TEST_P(StoreConformance, DeleteRemovesEverything) {
  Task t = make_task();
  ASSERT_TRUE(m_store->scalars().append(t.id, {ScalarSeries{"a", "b", {1}, {1.0}, {}}}));
  ASSERT_TRUE(m_store->console().append(t.id, {{0, 0, ConsoleStream::stdout_stream, "x"}}));
  ASSERT_TRUE(tasks().remove(t.id));
  EXPECT_EQ(tasks().get(t.id).error().code, ErrorCode::not_found);
  EXPECT_EQ(m_store->scalars().summaries(t.id).error().code, ErrorCode::not_found);
  EXPECT_EQ(tasks().remove(t.id).error().code, ErrorCode::not_found);
}

TEST_P(StoreConformance, AcknowledgedWritesSurviveReopen) {
  Task t = make_task();
  ASSERT_TRUE(m_store->scalars().append(t.id, {ScalarSeries{"a", "b", {1, 2}, {1.0, 2.0}, {}}}));
  ASSERT_TRUE(tasks().set_status(t.id, TaskStatus::running, ""));
  reopen();
  EXPECT_EQ(tasks().get(t.id)->status, TaskStatus::running);
  EXPECT_EQ(m_store->scalars().read(t.id, "a", "b", {})->values.size(), 2u);
}

TEST_P(StoreConformance, ConcurrentWritersAllLand) {
  Task t = make_task();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int r = 0; r < 25; ++r) {
        ScalarSeries s{"m", "w" + std::to_string(w), {}, {}, {}};
        for (int i = 0; i < 100; ++i) {
          s.steps.push_back(r * 100 + i);
          s.values.push_back(i);
        }
        if (!m_store->scalars().append(t.id, {s}))
          ++failures;
        if (!m_store->console().append(t.id, {{0, 0, ConsoleStream::stdout_stream, "l"}})) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(failures.load(), 0);
  auto sums = m_store->scalars().summaries(t.id);
  ASSERT_EQ(sums->size(), 4u);
  for (const auto& s : *sums)
    EXPECT_EQ(s.count, 2500);
  auto lines = m_store->console().read(t.id, 0, 1000);
  ASSERT_EQ(lines->size(), 100u);
  for (size_t i = 0; i < lines->size(); ++i)
    EXPECT_EQ((*lines)[i].seq, int64_t(i + 1));
}

std::unique_ptr<MetadataStore> open_sqlite(const std::string& dir, Env& env) {
  auto s = open_sqlite_store(dir + "/rh.db", env);
  if (!s)
    throw std::runtime_error(s.error().to_string());
  return std::move(*s);
}

// The REST client against a real rh server (in this process, on a free port)
// whose own store is SQLite in dir. Closing it stops the server, so reopen()
// also shows that acknowledged writes survive a server restart.
class RemoteHarness final : public MetadataStore, public HasBlobs, public HasBacking {
 public:
  RemoteHarness(const std::string& dir, Env& env) : m_server(dir, env) {
    auto remote = open_remote(m_server.url(), "");
    if (!remote)
      throw std::runtime_error(remote.error().to_string());
    m_remote = std::move(remote->store);
    m_remote_blobs = std::move(remote->blobs);
  }
  BlobStore& blob_store() override { return *m_remote_blobs; }
  ProjectStore& projects() override { return m_remote->projects(); }
  TaskStore& tasks() override { return m_remote->tasks(); }
  ScalarStore& scalars() override { return m_remote->scalars(); }
  ConsoleStore& console() override { return m_remote->console(); }
  ArtifactStore& artifacts() override { return m_remote->artifacts(); }
  PlotStore& plots() override { return m_remote->plots(); }
  QueueStore& queues() override { return m_remote->queues(); }
  DatasetStore& datasets() override { return m_remote->datasets(); }
  BlobOrphans& blob_orphans() override { return m_remote->blob_orphans(); }
  BlobAliases& blob_aliases() override { return m_remote->blob_aliases(); }
  MetadataStore& backing() override { return m_server.store(); }
  void close() override { m_server.stop(); }

 private:
  testing::ApiServer m_server;
  std::unique_ptr<MetadataStore> m_remote;
  std::unique_ptr<BlobStore> m_remote_blobs;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance,
                         ::testing::Values(StoreBackend{"sqlite", open_sqlite},
                                           StoreBackend{
                                               "rest_client",
                                               [](const std::string& dir,
                                                  Env& env) -> std::unique_ptr<MetadataStore> {
                                                 return std::make_unique<RemoteHarness>(dir, env);
                                               }}),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace rh
