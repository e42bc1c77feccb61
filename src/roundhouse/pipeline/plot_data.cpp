#include "roundhouse/pipeline/plot_data.h"

#include <yaml-cpp/yaml.h>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "roundhouse/pipeline/params.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/yaml_json.h"

namespace rh::pipeline {

namespace {

std::string extension(const std::string& path) {
  std::string e = std::filesystem::path(path).extension().string();
  for (auto& c : e)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return e;
}

std::vector<std::vector<std::string>> split_delimited(const std::string& text, char sep) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = any = true;
    } else if (c == sep) {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
        ++i;
      if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

Json number_or_text(const std::string& s) {
  std::string_view t = trim(s);
  if (!t.empty()) {
    std::string z(t);
    char* end = nullptr;
    long long i = std::strtoll(z.c_str(), &end, 10);
    if (end && *end == '\0')
      return Json(int64_t(i));
    double d = std::strtod(z.c_str(), &end);
    if (end && *end == '\0')
      return Json(d);
  }
  return Json(s);
}

// Every list found in v: v itself when a list, else its lists and those of
// the objects inside it, depth first (DVC's _lists).
void lists_in(const Json& v, const std::string& at,
              std::vector<std::pair<std::string, const Json*>>& out) {
  if (v.is_array()) {
    out.emplace_back(at, &v);
    return;
  }
  if (!v.is_object())
    return;
  for (const auto& [k, x] : v.items()) {
    std::string here = at.empty() ? k : at + "." + k;
    if (x.is_object())
      lists_in(x, here, out);
    else if (x.is_array())
      out.emplace_back(here, &x);
  }
}

// Objects all, with the same keys each.
bool is_datapoints(const Json& list) {
  if (list.empty() || !list[0].is_object())
    return false;
  for (const auto& x : list) {
    if (!x.is_object() || x.size() != list[0].size())
      return false;
    for (const auto& [k, v] : x.items())
      if (!list[0].contains(k))
        return false;
  }
  return true;
}

}  // namespace

bool is_plot_image(const std::string& path) {
  std::string e = extension(path);
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".gif" || e == ".svg";
}

Result<PlotRows> plot_rows(const std::string& path, const std::string& text) {
  std::string e = extension(path);
  PlotRows out;
  auto& rows = out.rows;
  if (e == ".csv" || e == ".tsv") {
    auto cells = split_delimited(text, e == ".tsv" ? '\t' : ',');
    if (cells.empty())
      return out;
    const auto& header = cells[0];
    out.fields = header;
    for (size_t r = 1; r < cells.size(); ++r) {
      Json row = Json::object();
      for (size_t c = 0; c < header.size(); ++c)
        row[header[c]] = c < cells[r].size() ? number_or_text(cells[r][c]) : Json(nullptr);
      rows.push_back(std::move(row));
    }
    return out;
  }
  if (e != ".json" && e != ".yaml" && e != ".yml")
    return make_error(ErrorCode::invalid_argument,
                      path + ": not a plot format (.csv, .tsv, .json, .yaml, or an image)");
  Json doc;
  if (e == ".json") {
    RH_TRY_ASSIGN(doc, parse_json(text, path));
  } else {
    try {
      doc = yaml_to_json(YAML::Load(text));
    } catch (const YAML::Exception& x) {
      return make_error(ErrorCode::invalid_argument,
                        path + ":" + std::to_string(x.mark.line + 1) + ": " + x.msg);
    }
  }
  std::vector<std::pair<std::string, const Json*>> lists;
  lists_in(doc, "", lists);
  KeyOrder order = key_order_of(path, text);
  for (const auto& [at, l] : lists) {
    if (!is_datapoints(*l))
      continue;
    if (out.fields.empty()) {
      auto o = order.find(at + "[0]");
      if (o != order.end())
        out.fields = o->second;
      else
        for (const auto& [k, v] : (*l)[0].items())
          out.fields.push_back(k);
    }
    for (size_t i = 0; i < l->size(); ++i) {
      if (rows.size() <= i)
        rows.push_back(Json::object());
      rows[i].update((*l)[i]);
    }
  }
  return out;
}

}  // namespace rh::pipeline
