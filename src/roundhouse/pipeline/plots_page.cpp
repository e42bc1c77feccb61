#include "roundhouse/pipeline/plots_page.h"

#include <nlohmann/json.hpp>

namespace rh::pipeline {

namespace {

// `text` with every "</tag" written "<\/tag" (the same code to JS and CSS).
std::string guarded(std::string_view text, std::string_view tag) {
  std::string needle = "</" + std::string(tag);
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  while (true) {
    size_t i = text.find(needle, at);
    if (i == std::string_view::npos) {
      out.append(text.substr(at));
      return out;
    }
    out.append(text.substr(at, i - at));
    out += "<\\/";
    out.append(tag);
    at = i + needle.size();
  }
}

}  // namespace

std::string plots_page_html(const Json& report, std::string_view script, std::string_view style) {
  std::string data;
  for (char c : report.dump(-1, ' ', false, Json::error_handler_t::replace)) {
    if (c == '<')
      data += "\\u003c";
    else
      data += c;
  }
  std::string out =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>Plots</title>\n<style>\n";
  out += guarded(style, "style");
  out += "\n</style>\n</head>\n<body>\n<div id=\"root\"></div>\n";
  out += "<script type=\"application/json\" id=\"rh-plots\">";
  out += data;
  out += "</script>\n<script>\n";
  out += guarded(script, "script");
  out += "\n</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace rh::pipeline
