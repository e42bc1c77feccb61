#include "roundhouse/pipeline/plot_data.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace rh::pipeline {
namespace {

TEST(PlotData, CsvReadsQuotesAndNumbersWithTheHeaderOrder) {
  auto r = plot_rows("roc.csv", "tpr,fpr,name\r\n0.5,0.25,\"a, \"\"b\"\"\"\n1,x,\"two\nlines\"\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->fields, (std::vector<std::string>{"tpr", "fpr", "name"}));
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0]["tpr"], 0.5);
  EXPECT_EQ(r->rows[0]["name"], "a, \"b\"");
  EXPECT_EQ(r->rows[1]["tpr"], 1);
  EXPECT_EQ(r->rows[1]["fpr"], "x");
  EXPECT_EQ(r->rows[1]["name"], "two\nlines");
}

TEST(PlotData, TsvAndJsonListsMergeByIndexKeepingTheFileOrder) {
  auto t = plot_rows("a.tsv", "step\tloss\n0\t2.5\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rows[0]["loss"], 2.5);
  // The last field in the file is "loss", though JSON objects sort "acc" last.
  auto j = plot_rows("m.json", R"({"train": [{"zeta": 1, "loss": 0.5}, {"zeta": 2, "loss": 0.4}],
                                   "meta": {"acc": [{"acc": 0.9}, {"acc": 0.95}]}, "n": 3})");
  ASSERT_TRUE(j) << j.error().message;
  ASSERT_EQ(j->rows.size(), 2u);
  EXPECT_EQ(j->rows[1]["acc"], 0.95);
  EXPECT_EQ(j->rows[1]["zeta"], 2);
  EXPECT_FALSE(j->fields.empty());
  auto top = plot_rows("p.yaml", "- {b: 1, a: 2}\n- {b: 3, a: 4}\n");
  ASSERT_TRUE(top) << top.error().message;
  EXPECT_EQ(top->fields, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(top->rows[1]["a"], 4);
}

TEST(PlotData, OtherFormatsAndBadFilesAreNamed) {
  auto bad = plot_rows("x.bin", "...");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("x.bin"), std::string::npos);
  auto broken = plot_rows("m.json", "{not json");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("m.json"), std::string::npos);
  EXPECT_TRUE(is_plot_image("a/ROC.PNG"));
  EXPECT_TRUE(is_plot_image("c.svg"));
  EXPECT_FALSE(is_plot_image("c.csv"));
}

}  // namespace
}  // namespace rh::pipeline
