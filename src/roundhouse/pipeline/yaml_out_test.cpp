// The lock writer against what DVC's dumps_yaml (ruamel.yaml 0.18, DVC
// 3.67.1) wrote for the same values: every quoting choice, folding of long
// plain scalars, nesting, null and empty collections.
#include "roundhouse/pipeline/yaml_out.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace rh::pipeline {
namespace {

TEST(YamlOut, WritesWhatDvcWrites) {
  YSeq cmds;
  for (const char* c :
       {"python train.py --alpha 1 --beta 2 --gamma 3 --delta 4 --epsilon 5 --zeta 6 --eta 7 "
        "--theta 8 --iota 9",
        "a: b",
        "#x",
        "x #y",
        "7",
        "true",
        "",
        "-x",
        "- x",
        "a'b",
        "日本 語",
        "trail ",
        "{x}",
        "line1\nline2",
        "x\ty",
        "null",
        "1e-05",
        "@x",
        "%x",
        "a,b",
        "key: val, more",
        "?x",
        "? x",
        "x?",
        "[x]",
        "x]"})
    cmds.push_back(YValue(c));
  YMap out{{"path", "a b"}, {"md5", "x"}, {"size", 3}, {"nfiles", 2}};
  YMap params{{"a.b", 1e-05}, {"c", nullptr}, {"d", YSeq{1, YMap{{"x", 2}}}},
              {"e", "str"},   {"f", 3.0},     {"g", YMap{{"h", YSeq{}}}},
              {"i", YMap{}}};
  YMap stage{{"cmd", cmds},
             {"one", std::get<std::string>(cmds[0].v)},
             {"outs", YSeq{out}},
             {"params", YMap{{"p.yaml", params}}}};
  YMap doc{{"stages", YMap{{"s", stage}}}};
  EXPECT_EQ(write_yaml(doc), R"(stages:
  s:
    cmd:
    - python train.py --alpha 1 --beta 2 --gamma 3 --delta 4 --epsilon 5 --zeta 
      6 --eta 7 --theta 8 --iota 9
    - 'a: b'
    - '#x'
    - 'x #y'
    - '7'
    - 'true'
    - ''
    - -x
    - '- x'
    - a'b
    - 日本 語
    - 'trail '
    - '{x}'
    - "line1\nline2"
    - "x\ty"
    - 'null'
    - '1e-05'
    - '@x'
    - '%x'
    - a,b
    - 'key: val, more'
    - ?x
    - '? x'
    - x?
    - '[x]'
    - x]
    one: python train.py --alpha 1 --beta 2 --gamma 3 --delta 4 --epsilon 5 
      --zeta 6 --eta 7 --theta 8 --iota 9
    outs:
    - path: a b
      md5: x
      size: 3
      nfiles: 2
    params:
      p.yaml:
        a.b: 1e-05
        c:
        d:
        - 1
        - x: 2
        e: str
        f: 3.0
        g:
          h: []
        i: {}
)");
}

TEST(YamlOut, ReadsBackWhatItWrote) {
  YMap doc{{"schema", "2.0"}, {"k", YSeq{"a: b", "7", 7, 2.5, true, nullptr, "x\ty"}}};
  std::string text = write_yaml(doc);
  EXPECT_TRUE(text.starts_with("schema: '2.0'\n")) << text;
  YValue back = read_yaml_value(YAML::Load(text));
  EXPECT_EQ(back, YValue(doc));
}

}  // namespace
}  // namespace rh::pipeline
