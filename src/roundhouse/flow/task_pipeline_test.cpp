// The reference forms of task pipelines' overrides, and what is refused.
#include "roundhouse/flow/task_pipeline.h"

#include <gtest/gtest.h>

namespace rh::flow {
namespace {

TEST(TaskPipeline, ReferencesAreFoundWithTheirPlaceInTheValue) {
  std::string v =
      "a ${pipeline.url} b ${prep.id} ${prep.parameters.General/test size} "
      "${prep.artifacts.my data.url}${train.models.output.-1.id} end";
  auto refs = references_in(v, "here");
  ASSERT_TRUE(refs) << refs.error().message;
  ASSERT_EQ(refs->size(), 5u);
  EXPECT_EQ((*refs)[0].step, "pipeline");
  EXPECT_EQ((*refs)[0].key, "url");
  EXPECT_EQ(v.substr((*refs)[0].begin, (*refs)[0].end - (*refs)[0].begin), "${pipeline.url}");
  EXPECT_EQ((*refs)[1].step, "prep");
  EXPECT_EQ((*refs)[1].kind, "id");
  EXPECT_EQ((*refs)[2].kind, "parameters");
  EXPECT_EQ((*refs)[2].key, "General/test size");
  EXPECT_EQ((*refs)[3].kind, "artifacts");
  EXPECT_EQ((*refs)[3].key, "my data");
  EXPECT_EQ((*refs)[4].kind, "models");
  EXPECT_EQ((*refs)[4].key, "-1");
  EXPECT_EQ(v.substr((*refs)[4].end), " end");
  auto none = references_in("no references, $ or { alone", "here");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(TaskPipeline, MalformedReferencesAreRefusedNamingThePlace) {
  for (const char* bad :
       {"${prep}", "${.id}", "${prep.name}", "${prep.parameters.noslash}", "${prep.artifacts.x}",
        "${prep.models.output.first.id}", "${pipeline.}", "${unclosed.id"}) {
    auto r = references_in(bad, "step 'x', override General/a");
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("step 'x', override General/a"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace rh::flow
