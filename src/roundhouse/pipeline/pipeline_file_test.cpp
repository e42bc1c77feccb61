// The pipeline file and its graph on files written here: templating,
// foreach and matrix names as DVC makes them, params, and the errors a
// user must be shown with file, line and stage.
#include "roundhouse/pipeline/pipeline_file.h"

#include <gtest/gtest.h>

#include "roundhouse/pipeline/dag.h"
#include "roundhouse/testing/temp_dir.h"
#include "roundhouse/util/fs.h"

namespace rh::pipeline {
namespace {

class PipelineFileTest : public ::testing::Test {
 protected:
  void write(const std::string& rel, const std::string& text) {
    std::string p = m_dir.path() + "/" + rel;
    ASSERT_TRUE(make_dirs(p.substr(0, p.rfind('/'))));
    ASSERT_TRUE(write_file_atomic(p, text));
  }
  Result<PipelineFile> load(const std::string& file = "dvc.yaml") {
    return load_pipeline_file(m_dir.path(), file);
  }
  std::string error(const std::string& file = "dvc.yaml") {
    auto r = load(file);
    if (r) {
      auto d = build_dag(r->stages);
      return d ? "no error" : d.error().message;
    }
    return r.error().message;
  }
  testing::TempDir m_dir;
};

TEST_F(PipelineFileTest, StagesTemplatedFromParamsAndVars) {
  write("params.yaml", "prepare:\n  split: 0.2\ntrain:\n  lr: 0.01\n  freeze: false\n");
  write("extra.json", R"({"data": {"dir": "data dir"}, "other": 1})");
  write("dvc.yaml", R"(vars:
  - extra.json:data
  - local: {seed: 7}
stages:
  prepare:
    desc: "Split the data\nsecond line"
    cmd: python prepare.py --split ${prepare.split} --seed ${local.seed}
    deps: [prepare.py, "${data.dir}/raw.csv"]
    params: [prepare.split]
    outs:
      - data/prepared:
          persist: true
  train:
    cmd:
      - python train.py
      - echo done
    wdir: src
    deps: [../data/prepared]
    params:
      - train
      - ../cfg.toml: [model.depth]
      - ../all.yaml:
    outs: [../model.pt]
    metrics:
      - ../metrics.json:
          cache: false
    plots:
      - ../plots/loss.csv: {x: step, y: loss, title: Loss}
    frozen: ${train.freeze}
)");
  auto pf = load();
  ASSERT_TRUE(pf) << pf.error().message;
  ASSERT_EQ(pf->stages.size(), 2u);
  const Stage& p = pf->stages[0];
  EXPECT_EQ(p.cmd, std::vector<std::string>{"python prepare.py --split 0.2 --seed 7"});
  EXPECT_EQ(p.deps[1].rel, "data dir/raw.csv");
  EXPECT_EQ(p.params[0].rel, "params.yaml");
  EXPECT_EQ(p.params[0].keys, std::vector<std::string>{"prepare.split"});
  EXPECT_TRUE(p.outs[0].persist);
  EXPECT_EQ(p.line, 6);
  const Stage& t = pf->stages[1];
  EXPECT_EQ(t.wdir, "src");
  EXPECT_EQ(t.cmd.size(), 2u);
  EXPECT_EQ(t.deps[0].rel, "data/prepared");
  ASSERT_EQ(t.params.size(), 3u);
  EXPECT_EQ(t.params[0].rel, "src/params.yaml");
  EXPECT_EQ(t.params[1].rel, "cfg.toml");
  EXPECT_EQ(t.params[1].keys, std::vector<std::string>{"model.depth"});
  EXPECT_TRUE(t.params[2].all);
  ASSERT_EQ(t.outs.size(), 3u);
  EXPECT_EQ(t.outs[1].kind, Out::Kind::metric);
  EXPECT_FALSE(t.outs[1].cache);
  EXPECT_EQ(t.outs[2].plot, R"({"title":"Loss","x":"step","y":"loss"})");
  EXPECT_EQ(t.outs[2].rel, "plots/loss.csv");
  auto dag = build_dag(pf->stages);
  ASSERT_TRUE(dag) << dag.error().message;
  EXPECT_EQ(dag->after[1], std::vector<size_t>{0});
  EXPECT_EQ(dag->order, (std::vector<size_t>{0, 1}));
}

TEST_F(PipelineFileTest, ForeachAndMatrixNameTheirStagesAsDvcDoes) {
  write("params.yaml", "models: {us: {epochs: 3}, uk: {epochs: 5}}\n");
  write("dvc.yaml", R"(stages:
  plain:
    foreach: [a, 1, 2.5, true]
    do:
      cmd: echo ${item}
  composite:
    foreach: [[1, 2], {k: v}]
    do:
      cmd: echo composite
  keyed:
    foreach:
      zeta: {n: 1}
      alpha: {n: 2}
    do:
      cmd: echo ${key} ${item.n}
  from_params:
    foreach: ${models}
    do:
      cmd: train ${key} ${item.epochs}
      outs: ["model-${key}.pt"]
  grid:
    matrix:
      os: [linux, mac]
      cfg: [{a: 1}, {a: 2}]
    cmd: run ${item.os} ${item.cfg.a} ${key}
)");
  auto pf = load();
  ASSERT_TRUE(pf) << pf.error().message;
  std::vector<std::string> names;
  for (const auto& s : pf->stages)
    names.push_back(s.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"plain@a", "plain@1", "plain@2.5", "plain@true",
                                      "composite@0", "composite@1", "keyed@zeta", "keyed@alpha",
                                      "from_params@us", "from_params@uk", "grid@linux-cfg0",
                                      "grid@linux-cfg1", "grid@mac-cfg0", "grid@mac-cfg1"}));
  EXPECT_EQ(pf->stages[7].cmd[0], "echo alpha 2");
  // A dict from the params file goes in the order the file lists it.
  EXPECT_EQ(pf->stages[9].cmd[0], "train uk 5");
  EXPECT_EQ(pf->stages[9].outs[0].rel, "model-uk.pt");
  EXPECT_EQ(pf->stages[13].cmd[0], "run mac 2 mac-cfg1");
  EXPECT_EQ(pf->stages[13].group, "grid");
  auto dag = build_dag(pf->stages).value();
  auto group = select_stages(dag, {"grid"}, true, false);
  ASSERT_TRUE(group);
  EXPECT_EQ(group->size(), 4u);
}

TEST_F(PipelineFileTest, ErrorsNameTheFileTheLineAndTheStage) {
  write("dvc.yaml", "stages:\n  a:\n    cmd: x\n    outz: [y]\n");
  EXPECT_EQ(error(),
            "dvc.yaml:4: stages.a.outz: unknown key (known: cmd, wdir, deps, params, "
            "outs, metrics, plots, frozen, always_changed, desc, meta, vars)");
  write("dvc.yaml", "stages:\n  a:\n    deps: [x]\n");
  EXPECT_EQ(error(), "dvc.yaml:3: stages.a: `cmd` is required");
  write("dvc.yaml", "stages:\n  a:\n    cmd: echo ${nope.x}\n");
  EXPECT_EQ(error(), "dvc.yaml:3: stages.a.cmd: Could not find 'nope.x'");
  write("dvc.yaml", "stages:\n  a:\n    cmd: [unclosed\n");
  EXPECT_TRUE(error().starts_with("dvc.yaml:")) << error();
  write("dvc.yaml", "vars: [missing.yaml]\nstages:\n  a: {cmd: x}\n");
  EXPECT_EQ(error(), "dvc.yaml:1: vars: " + m_dir.path() + "/missing.yaml does not exist");
  write("dvc.yaml", "stages:\n  a: {cmd: x, outs: [o]}\n  b: {cmd: y, outs: [o/sub]}\n");
  EXPECT_EQ(error(),
            "the outs 'o' of stage 'a' and 'o/sub' of stage 'b' overlap: one path is "
            "written by one stage only");
  write("dvc.yaml", "stages:\n  a: {cmd: x, deps: [d], outs: [d/out]}\n");
  EXPECT_EQ(error(),
            "stage 'a': out 'd/out' is also its dep 'd' (or inside it): the stage "
            "would depend on itself");
  write("dvc.yaml",
        "stages:\n  a: {cmd: x, deps: [c], outs: [a]}\n  b: {cmd: y, deps: [a], outs: [b]}\n"
        "  c: {cmd: z, deps: [b], outs: [c]}\n");
  EXPECT_EQ(error(), "the stages depend on each other in a cycle: 'a' -> 'c' -> 'b' -> 'a'");
  write("dvc.yaml", "stages:\n  x@y: {cmd: x}\n");
  EXPECT_EQ(error(), "dvc.yaml:2: stages.x@y: a stage name may not hold '@' or ':'");
}

TEST_F(PipelineFileTest, ParamsFilesInYamlJsonAndToml) {
  write("p.toml", "[model]\ndepth = 4\nname = \"net\"\nrates = [0.1, 0.2]\n");
  write("dvc.yaml", "vars: [p.toml]\nstages:\n  a: {cmd: 'x ${model.depth} ${model.rates[1]}'}\n");
  auto pf = load();
  ASSERT_TRUE(pf) << pf.error().message;
  EXPECT_EQ(pf->stages[0].cmd[0], "x 4 0.2");
  write("bad.toml", "[model\n");
  write("dvc.yaml", "vars: [bad.toml]\nstages:\n  a: {cmd: x}\n");
  EXPECT_TRUE(error().find("bad.toml:1:") != std::string::npos) << error();
}

TEST_F(PipelineFileTest, RhYamlComesBeforeDvcYaml) {
  write("dvc.yaml", "stages: {}\n");
  EXPECT_EQ(find_pipeline_file(m_dir.path()).value(), "dvc.yaml");
  write("rh.yaml", "stages: {}\n");
  EXPECT_EQ(find_pipeline_file(m_dir.path()).value(), "rh.yaml");
  EXPECT_EQ(find_pipeline_file(m_dir.path() + "/nowhere").error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace rh::pipeline
