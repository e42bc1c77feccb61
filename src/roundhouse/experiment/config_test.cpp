#include "roundhouse/experiment/config.h"

#include <gtest/gtest.h>

namespace rh::experiment {
namespace {

// Determined's mnist_pytorch adaptive.yaml, as its 0.37 and 0.38 releases ship it.
constexpr const char* k_037 = R"(name: mnist_pytorch_adaptive_search
hyperparameters:
  learning_rate:
    type: double
    minval: .0001
    maxval: 1.0
  n_filters1:
    type: int
    minval: 8
    maxval: 64
  dropout1:
    type: double
    minval: .2
    maxval: .8
searcher:
  name: adaptive_asha
  metric: validation_loss
  smaller_is_better: true
  max_trials: 16
  max_length:
    batches: 937 #60,000 training images with batch size 64
entrypoint: python3 train.py
)";

constexpr const char* k_038 = R"(name: mnist_pytorch_adaptive_search
hyperparameters:
  learning_rate:
    type: double
    minval: .0001
    maxval: 1.0
searcher:
  name: adaptive_asha
  metric: validation_loss
  smaller_is_better: true
  max_trials: 16
  time_metric: batches
  max_time: 937  # 60,000 training images with batch size 64
entrypoint: python3 train.py --epochs 1
)";

TEST(ExperimentConfigTest, ReadsDeterminedsTwoForms) {
  auto a = parse_config(k_037, "adaptive.yaml");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->name, "mnist_pytorch_adaptive_search");
  EXPECT_EQ(a->entrypoint_shell, "python3 train.py");
  EXPECT_EQ(a->searcher.name, "adaptive_asha");
  EXPECT_EQ(a->searcher.max_length, 937u);
  EXPECT_EQ(a->length_unit, "batches");
  EXPECT_FALSE(a->searcher.stop_once) << "0.37 promotes unless stop_once";
  EXPECT_EQ(a->searcher.max_concurrent_trials, 16);
  EXPECT_EQ(a->searcher.divisor, 4);
  const auto& lr = a->hyperparameters.at("learning_rate");
  EXPECT_EQ(lr.kind, search::Hyperparameter::Kind::real);
  EXPECT_DOUBLE_EQ(lr.minval, 0.0001);
  EXPECT_EQ(a->hyperparameters.at("n_filters1").kind, search::Hyperparameter::Kind::integer);
  EXPECT_TRUE(a->warnings.empty());

  auto b = parse_config(k_038, "adaptive.yaml");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->length_unit, "batches");
  EXPECT_EQ(b->searcher.max_length, 937u);
  EXPECT_TRUE(b->determined_038);
  EXPECT_TRUE(b->searcher.stop_once) << "0.38 has only stop-based ASHA";
  EXPECT_EQ(b->entrypoint_shell, "python3 train.py --epochs 1");
}

TEST(ExperimentConfigTest, HyperparameterKindsNestedToAnyDepth) {
  auto c = parse_config(R"(entrypoint: [python3, train.py]
hyperparameters:
  global_batch_size: 64
  tags: [a, b]
  quoted: "64"
  optimizer:
    name:
      type: categorical
      vals: [adam, sgd]
    schedule:
      warmup: {type: const, val: 5}
      lr: {type: log, minval: -4, maxval: -1, base: 10, count: 4}
searcher: {name: grid, metric: loss, max_length: 10}
)",
                        "c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->entrypoint_argv, (std::vector<std::string>{"python3", "train.py"}));
  EXPECT_EQ(c->length_unit, "");
  const auto& hp = c->hyperparameters;
  EXPECT_EQ(hp.at("global_batch_size").value, 64);
  EXPECT_EQ(hp.at("tags").value, Json::array({"a", "b"}));
  EXPECT_EQ(hp.at("quoted").value, "64");
  const auto& sched = hp.at("optimizer").nested.at("schedule").nested;
  EXPECT_EQ(sched.at("warmup").value, 5);
  EXPECT_EQ(sched.at("lr").kind, search::Hyperparameter::Kind::log);
  EXPECT_EQ(sched.at("lr").count, 4);
  EXPECT_EQ(hp.at("optimizer").nested.at("name").vals.size(), 2u);
}

void expect_error(const std::string& yaml, const std::string& where, const std::string& what) {
  auto c = parse_config(yaml, "exp.yaml");
  ASSERT_FALSE(c) << yaml;
  EXPECT_NE(c.error().message.find(where), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find(what), std::string::npos) << c.error().message;
}

TEST(ExperimentConfigTest, BadValuesNameTheFileLineAndKey) {
  const std::string base = "entrypoint: python3 train.py\n";
  expect_error(base + "searcher: {name: random, metric: m, max_trials: 2}\nepochs: 3\n",
               "exp.yaml:3: epochs", "unknown key");
  expect_error(base + "searcher: {name: random, metric: m, max_trials: two}\n",
               "exp.yaml:2: searcher.max_trials", "whole number");
  expect_error(base +
                   "searcher: {name: random, metric: m, max_trials: 2}\nhyperparameters:\n"
                   "  lr:\n    type: double\n    minval: 1\n    maxval: 0.1\n",
               "exp.yaml:6: hyperparameters.lr", "greater than maxval");
  expect_error(base +
                   "searcher: {name: grid, metric: m}\nhyperparameters:\n"
                   "  lr: {type: double, minval: 0, maxval: 1}\n",
               "hyperparameters.lr", "count");
  expect_error(base + "searcher: {name: pbt, metric: m}\n", "exp.yaml:2: searcher.name",
               "unknown searcher");
  expect_error(base + "searcher: {name: adaptive_asha, metric: m, max_trials: 4}\n",
               "searcher.max_length", "time_metric");
  expect_error(base + "searcher: {name: random, max_trials: 4}\n", "searcher.metric", "required");
  expect_error(base +
                   "searcher: {name: random, metric: m, max_trials: 4}\nhyperparameters:\n"
                   "  x: {type: int, minval: 0, maxval: 3, step: 1}\n",
               "exp.yaml:4: hyperparameters.x.step", "not a key");
  expect_error("entrypoint: model_def:MNistTrial\nsearcher: {name: single, metric: m}\n",
               "entrypoint", "Core API");
  expect_error("searcher: {name: single, metric: m}\n", "entrypoint", "required");
  // yaml-cpp marks an unclosed flow where the input ends.
  expect_error("entrypoint: x\nsearcher: [1, 2\n", "exp.yaml:3", "not valid YAML");
}

TEST(ExperimentConfigTest, KeysWithoutEffectAreWarnedNotDropped) {
  auto c = parse_config(R"(entrypoint: python3 train.py
searcher: {name: single, metric: m, source_checkpoint_uuid: abc}
bind_mounts:
  - host_path: /data
    container_path: /data
environment:
  image: determinedai/pytorch-ngc:0.38.0
  environment_variables:
    cpu: [A=1, B=2]
    cuda: [B=3]
resources: {slots_per_trial: 2, shm_size: 4G, resource_pool: gpus, priority: 5}
checkpoint_storage: {type: shared_fs, host_path: /tmp, save_trial_best: 2}
)",
                        "c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  std::string all;
  for (const auto& w : c->warnings)
    all += w + "\n";
  for (const char* key : {"c.yaml:3: bind_mounts", "environment.image", "resources.shm_size",
                          "checkpoint_storage.type", "checkpoint_storage.host_path",
                          "searcher.source_checkpoint_uuid"}) {
    EXPECT_NE(all.find(key), std::string::npos) << key << " not in\n" << all;
  }
  EXPECT_EQ(c->environment_variables, (std::map<std::string, std::string>{{"A", "1"}, {"B", "3"}}));
  EXPECT_EQ(c->slots_per_trial, 2);
  EXPECT_EQ(c->resource_pool, "gpus");
  EXPECT_EQ(c->priority, 5);
  EXPECT_EQ(c->save_trial_best, 2);
  EXPECT_EQ(c->save_trial_latest, 1);
  EXPECT_EQ(c->max_restarts, 5);
}

TEST(ExperimentConfigTest, OverridesApplyBeforeTheChecks) {
  auto c = parse_config(k_037, "adaptive.yaml",
                        {"searcher.max_trials=4", "searcher.stop_once=true", "labels=[x, y]",
                         "reproducibility.experiment_seed=42"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->searcher.max_trials, 4);
  EXPECT_TRUE(c->searcher.stop_once);
  EXPECT_EQ(c->labels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(c->seed, 42u);
  auto bad = parse_config(k_037, "adaptive.yaml", {"searcher.max_trials=-1"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("searcher.max_trials"), std::string::npos);
  ASSERT_FALSE(parse_config(k_037, "adaptive.yaml", {"no-equals-sign"}));
}

}  // namespace
}  // namespace rh::experiment
