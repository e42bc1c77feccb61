#include "roundhouse/pipeline/plots_page.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace rh::pipeline {
namespace {

std::string between(const std::string& s, const std::string& a, const std::string& b) {
  size_t i = s.find(a);
  EXPECT_NE(i, std::string::npos) << a;
  i += a.size();
  size_t j = s.find(b, i);
  EXPECT_NE(j, std::string::npos) << b;
  return s.substr(i, j - i);
}

TEST(PlotsPage, DataCannotCloseItsScriptElement) {
  Json report{{"plots", Json::array({{{"id", "a</script><script>alert(1)</script>.csv"}}})},
              {"revisions", {"<!--"}}};
  std::string html = plots_page_html(report, "f()", "p{}");
  std::string data = between(html, "id=\"rh-plots\">", "</script>");
  EXPECT_EQ(data.find('<'), std::string::npos);
  // It still parses back to the same report.
  EXPECT_EQ(Json::parse(data), report);
}

TEST(PlotsPage, InlinedCodeCannotCloseItsElement) {
  std::string html =
      plots_page_html(Json::object(), "var s=\"</script>\";", "a::after{content:\"</style>\"}");
  EXPECT_NE(html.find("var s=\"<\\/script>\";"), std::string::npos);
  EXPECT_NE(html.find("content:\"<\\/style>\""), std::string::npos);
  // One closing tag per element: the page's own.
  auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t i = html.find(s); i != std::string::npos; i = html.find(s, i + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("</style>"), 1u);
  EXPECT_EQ(count("</script>"), 2u);  // the data element and the code element
}

}  // namespace
}  // namespace rh::pipeline
