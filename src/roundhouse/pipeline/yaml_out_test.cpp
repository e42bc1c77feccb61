// The lock writer against what DVC's dumps_yaml (ruamel.yaml 0.18, DVC
// 3.67.1) wrote for the same values: every quoting choice, folding of long
// plain, single- and double-quoted scalars, nesting, null and empty
// collections.
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

TEST(YamlOut, FoldsLongDoubleQuotedScalarsAsRuamelDoes) {
  // Written by DVC 3.67.1's dumps_yaml (ruamel.yaml) for the same list.
  YSeq cmds;
  for (const char* c : {
           "echo \"a: b\" && python train.py --alpha 1 --beta 2 --gamma 3 --delta 4 --epsilon 5 "
           "--zeta 6 --eta 7 --theta 8",
           "x\tword0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12 "
           "word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24 "
           "word25 word26 word27 word28 word29",
           "say \"k: v\"  two  spaces  between  words  everywhere  in  this  command  line  that  "
           "is  long  enough",
           "ünï \"c: d\" éééééééééééééééééééé nbsp nbsp nbsp nbsp nbsp nbsp nbsp nbsp nbsp nbsp "
           "tail tail tail tail tail tail tail tail tail tail ",
           "q: "
           "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
           "xxxxx\" end",
           "echo \"a: b\" it's a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a "
           "a a a a a a",
           "echo \"it's\"  and  then  two  spaces  between  words  again  and  again  and  again  "
           "and  again",
           "printf 'a\\tb' \"x\" "
           "tabbed\ttabbed\ttabbed\ttabbed\ttabbed\ttabbed\ttabbed\ttabbed\ttabbed\ttabbed\ttabbed"
           "\ttabbed end of it all",
           "echo \"it's\" "
           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yy zz",
           "echo \"it's\" line1\nline2 w w w w w w w w w w w w w w w w w w w w w w w w w w w w w w "
           "w w w w w w w w w w ",
           "echo \"it's\" éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé "
           "après tout le monde  après tout le monde  après tout le monde ",
           "echo \"it's\" ends with space ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab "
           "ab ab ab ab ab ab ab ab ab ab ab ",
       })
    cmds.push_back(YValue(c));
  EXPECT_EQ(
      write_yaml(YMap{{"cmd", cmds}}),
      "cmd:\n"
      "- 'echo \"a: b\" && python train.py --alpha 1 --beta 2 --gamma 3 --delta 4 --epsilon\n"
      "  5 --zeta 6 --eta 7 --theta 8'\n"
      "- \"x\\tword0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n"
      "  word13 word14 word15 word16 word17 word18 word19 word20 word21 word22 word23 word24\n"
      "  word25 word26 word27 word28 word29\"\n"
      "- 'say \"k: v\"  two  spaces  between  words  everywhere  in  this  command  line  that  is "
      " long  enough'\n"
      "- 'ünï \"c: d\" éééééééééééééééééééé nbsp nbsp nbsp nbsp nbsp nbsp nbsp nbsp nbsp nbsp\n"
      "  tail tail tail tail tail tail tail tail tail tail '\n"
      "- 'q: "
      "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "\"\n"
      "  end'\n"
      "- \"echo \\\"a: b\\\" it's a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a\n"
      "  a a a a a a a a a a\"\n"
      "- echo \"it's\"  and  then  two  spaces  between  words  again  and  again  and  \n"
      "  again  and  again\n"
      "- \"printf 'a\\\\tb' \\\"x\\\" "
      "tabbed\\ttabbed\\ttabbed\\ttabbed\\ttabbed\\ttabbed\\ttabbed\\ttabbed\\t\n"
      "  tabbed\\ttabbed\\ttabbed\\ttabbed end of it all\"\n"
      "- echo \"it's\" \n"
      "  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yy\n"
      "  zz\n"
      "- \"echo \\\"it's\\\" line1\\nline2 w w w w w w w w w w w w w w w w w w w w w w w w w w\n"
      "  w w w w w w w w w w w w w w \"\n"
      "- \"echo \\\"it's\\\" "
      "éééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé\n"
      "  après tout le monde  après tout le monde  après tout le monde \"\n"
      "- \"echo \\\"it's\\\" ends with space ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab ab\n"
      "  ab ab ab ab ab ab ab ab ab ab ab ab ab \"\n");
}

}  // namespace
}  // namespace rh::pipeline
