#include "roundhouse/pipeline/yaml_out.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "roundhouse/pipeline/interpolate.h"
#include "roundhouse/util/strings.h"
#include "roundhouse/util/yaml_json.h"

namespace rh::pipeline {

namespace {

constexpr size_t k_width = 80;

bool is_break(char32_t c) {
  return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029;
}
bool is_ws(char32_t c) {
  return c == 0 || c == ' ' || c == '\t' || c == '\r' || is_break(c);
}

size_t columns(const std::string& s) {
  return utf8_code_points(s).size();
}

struct Analysis {
  bool plain = true, single = true, multiline = false;
};

// What a block-context scalar may be written as (YAML's rules for plain and
// single-quoted scalars; the same analysis PyYAML-derived emitters make).
Analysis analyze(const std::string& text) {
  Analysis a;
  std::u32string s = utf8_code_points(text);
  if (s.empty()) {
    a.plain = false;
    return a;
  }
  bool block_ind = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false,
       break_space = false, space_break = false;
  if (text.starts_with("---") || text.starts_with("..."))
    block_ind = true;
  bool preceded_ws = true;
  bool followed_ws = s.size() == 1 || is_ws(s[1]);
  bool prev_space = false, prev_break = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char32_t c = s[i];
    if (i == 0) {
      if (c < 0x80 && std::strchr("#,[]{}&*!|>'\"%@`", int(c)) && c != 0)
        block_ind = true;
      if ((c == '?' || c == ':') && followed_ws)
        block_ind = true;
      if (c == '-' && followed_ws)
        block_ind = true;
    } else {
      if (c == ':' && followed_ws)
        block_ind = true;
      if (c == '#' && preceded_ws)
        block_ind = true;
    }
    if (is_break(c))
      line_breaks = true;
    if (!(c == '\n' || (c >= 0x20 && c <= 0x7E))) {
      bool printable = c == 0x85 || (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
                       (c >= 0x10000 && c < 0x10FFFF);
      if (!printable || c == 0xFEFF)
        special = true;
    }
    if (c == ' ') {
      if (i == 0)
        leading_space = true;
      if (i == s.size() - 1)
        trailing_space = true;
      if (prev_break)
        break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (is_break(c)) {
      if (i == 0)
        leading_break = true;
      if (i == s.size() - 1)
        trailing_break = true;
      if (prev_space)
        space_break = true;
      prev_space = false;
      prev_break = true;
    } else {
      prev_space = prev_break = false;
    }
    preceded_ws = is_ws(c);
    followed_ws = i + 2 >= s.size() || is_ws(s[i + 2]);
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break)
    a.plain = false;
  if (break_space)
    a.plain = a.single = false;
  if (space_break || special)
    a.plain = a.single = false;
  if (line_breaks || block_ind)
    a.plain = false;
  return a;
}

class Writer {
 public:
  std::string out;

  void map(const YMap& m, size_t indent, bool inline_first) {
    bool first = true;
    for (const auto& [k, v] : m) {
      if (!(first && inline_first))
        start_line(indent);
      first = false;
      scalar_string(k, indent, /*key=*/true);
      write(":");
      value_after_key(v, indent);
    }
  }

  void seq(const YSeq& s, size_t indent, bool inline_first) {
    bool first = true;
    for (const auto& v : s) {
      if (!(first && inline_first))
        start_line(indent);
      first = false;
      write("- ");
      if (auto* m = std::get_if<YMap>(&v.v); m && !m->empty()) {
        map(*m, indent + 2, true);
      } else if (auto* q = std::get_if<YSeq>(&v.v); q && !q->empty()) {
        seq(*q, indent + 2, true);
      } else {
        scalar(v, indent + 2);
      }
    }
  }

 private:
  size_t m_column = 0;

  void write(const std::string& s) {
    out += s;
    m_column += columns(s);
  }
  void start_line(size_t indent) {
    if (!out.empty() && out.back() != '\n')
      out += "\n";
    out += std::string(indent, ' ');
    m_column = indent;
  }

  void value_after_key(const YValue& v, size_t indent) {
    if (auto* m = std::get_if<YMap>(&v.v); m && !m->empty()) {
      map(*m, indent + 2, false);
    } else if (auto* q = std::get_if<YSeq>(&v.v); q && !q->empty()) {
      seq(*q, indent, false);
    } else if (std::holds_alternative<std::nullptr_t>(v.v)) {
      // `key:` alone
    } else {
      write(" ");
      scalar(v, indent + 2);
    }
  }

  void scalar(const YValue& v, size_t indent) {
    if (std::holds_alternative<std::nullptr_t>(v.v))
      return;
    if (auto* b = std::get_if<bool>(&v.v))
      return write(*b ? "true" : "false");
    if (auto* i = std::get_if<int64_t>(&v.v))
      return write(std::to_string(*i));
    if (auto* d = std::get_if<double>(&v.v)) {
      std::string r = python_str(Json(*d));
      if (r == "inf" || r == "-inf")
        r = r == "inf" ? ".inf" : "-.inf";
      else if (r == "nan")
        r = ".nan";
      return write(r);
    }
    if (std::get_if<YSeq>(&v.v))
      return write("[]");
    if (std::get_if<YMap>(&v.v))
      return write("{}");
    scalar_string(std::get<std::string>(v.v), indent, false);
  }

  void scalar_string(const std::string& s, size_t indent, bool key) {
    Analysis a = analyze(s);
    if (a.plain && !resolves_as_non_string(s) && !(key && a.multiline))
      return plain(s, indent, !key);
    if (a.single && s.find('\'') == std::string::npos && s.find('\n') == std::string::npos)
      return single(s, indent, !key);
    double_quoted(s, indent, !key);
  }

  // Words are written whole; a run of one space is a line break instead
  // when the line is already at the width; a word that would pass the
  // width starts a new line when the line holds more than its indent.
  void plain(const std::string& s, size_t indent, bool split) {
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] == ' ') {
        size_t j = i;
        while (j < s.size() && s[j] == ' ')
          ++j;
        if (j - i == 1 && m_column >= k_width && split)
          start_line(indent);
        else
          write(s.substr(i, j - i));
        i = j;
      } else {
        size_t j = s.find(' ', i);
        if (j == std::string::npos)
          j = s.size();
        std::string word = s.substr(i, j - i);
        if (split && columns(word) + m_column > k_width && m_column > indent)
          start_line(indent);
        write(word);
        i = j;
      }
    }
  }

  void single(const std::string& s, size_t indent, bool split) {
    write("'");
    size_t i = 0;
    while (i < s.size()) {
      if (s[i] == ' ') {
        size_t j = i;
        while (j < s.size() && s[j] == ' ')
          ++j;
        if (j - i == 1 && m_column > k_width && split && i != 0 && j != s.size())
          start_line(indent);
        else
          write(s.substr(i, j - i));
        i = j;
      } else {
        size_t j = s.find(' ', i);
        if (j == std::string::npos)
          j = s.size();
        write(s.substr(i, j - i));
        i = j;
      }
    }
    write("'");
  }

  static std::string utf8_of(char32_t c) {
    if (c < 0x80)
      return std::string(1, char(c));
    if (c < 0x800)
      return {char(0xC0 | (c >> 6)), char(0x80 | (c & 0x3F))};
    if (c < 0x10000)
      return {char(0xE0 | (c >> 12)), char(0x80 | ((c >> 6) & 0x3F)), char(0x80 | (c & 0x3F))};
    return {char(0xF0 | (c >> 18)), char(0x80 | ((c >> 12) & 0x3F)), char(0x80 | ((c >> 6) & 0x3F)),
            char(0x80 | (c & 0x3F))};
  }

  // What stands for c inside double quotes; empty: c itself.
  static std::string escape_of(char32_t c) {
    switch (c) {
      case 0:
        return "\\0";
      case 7:
        return "\\a";
      case 8:
        return "\\b";
      case 9:
        return "\\t";
      case 10:
        return "\\n";
      case 11:
        return "\\v";
      case 12:
        return "\\f";
      case 13:
        return "\\r";
      case 27:
        return "\\e";
      case '"':
        return "\\\"";
      case '\\':
        return "\\\\";
      case 0x85:
        return "\\N";
      case 0x2028:
        return "\\L";
      case 0x2029:
        return "\\P";
      default:
        break;
    }
    // Printable as ruamel.yaml counts it with allow_unicode.
    bool printable = (c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xD7FF) ||
                     (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) || (c >= 0x10000 && c <= 0x10FFFF);
    if (printable)
      return "";
    char buf[16];
    std::snprintf(buf, sizeof buf,
                  c <= 0xFF     ? "\\x%02X"
                  : c <= 0xFFFF ? "\\u%04X"
                                : "\\U%08X",
                  unsigned(c));
    return buf;
  }

  // ruamel.yaml's write_double_quoted: escapes as above, and a line that
  // would pass the width breaks at a space (the space then folds away) or,
  // where folding would change the text, with a backslash at the end of the
  // line (and before a leading space on the next).
  void double_quoted(const std::string& s, size_t indent, bool split) {
    std::u32string t = utf8_code_points(s);
    size_t n = t.size();
    auto text = [&](size_t from, size_t to) {
      std::string piece;
      for (size_t i = from; i < to; ++i)
        piece += utf8_of(t[i]);
      return piece;
    };
    write("\"");
    size_t start = 0, end = 0;
    while (end <= n) {
      bool none = end == n;
      char32_t ch = none ? 0 : t[end];
      std::string esc = none ? "" : escape_of(ch);
      bool special = none || ch == 0xFEFF || !esc.empty();
      if (special) {
        if (start < end) {
          write(text(start, end));
          start = end;
        }
        if (!none) {
          write(esc.empty() ? "\\uFEFF" : esc);
          start = end + 1;
        }
      }
      if (end > 0 && end + 1 < n && (ch == ' ' || start >= end) &&
          long(m_column) + long(end) - long(start) > long(k_width) && split) {
        bool backslash = true;
        size_t space = end;
        while (space < n && t[space] != ' ')
          ++space;
        if (space < n) {
          for (size_t i = end; i < space; ++i)
            if (t[i] == '\n') {
              space = i;
              break;
            }
          if (space + 1 < n) {
            bool quotes = false;
            for (size_t i = end; i < space; ++i)
              quotes = quotes || t[i] == '"' || t[i] == '\'';
            if (t[space] == '\n' && t[space + 1] != ' ') {
            } else if (!quotes && t[space + 1] != ' ' && t[space + 1] != '\n' &&
                       !(t[end - 1] == ' ' && t[end] == ' ') && start != end) {
              backslash = false;
            }
          }
        }
        std::string data = (start < end ? text(start, end) : "") + (backslash ? "\\" : "");
        if (start < end)
          start = end;
        write(data);
        start_line(indent);
        if (start < n && t[start] == ' ') {
          if (!backslash)
            ++start;
          else
            write("\\");
        }
      }
      ++end;
    }
    write("\"");
  }
};

}  // namespace

bool resolves_as_non_string(const std::string& s) {
  static const std::regex k_forms(
      R"(^(?:true|True|TRUE|false|False|FALSE)$|)"
      R"(^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$|)"
      R"(^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$|)"
      R"(^(?:<<|=|~|null|Null|NULL)$|)"
      R"(^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$)");
  return s.empty() || std::regex_match(s, k_forms);
}

std::string write_yaml(const YMap& doc) {
  Writer w;
  w.map(doc, 0, false);
  std::string out = w.out;
  if (out.starts_with("\n"))
    out.erase(0, 1);
  return out + "\n";
}

YValue read_yaml_value(const YAML::Node& n) {
  if (n.IsMap()) {
    YMap m;
    for (const auto& kv : n)
      m.emplace_back(kv.first.as<std::string>(), read_yaml_value(kv.second));
    return m;
  }
  if (n.IsSequence()) {
    YSeq s;
    for (const auto& v : n)
      s.push_back(read_yaml_value(v));
    return s;
  }
  if (!n.IsScalar())
    return nullptr;
  return yvalue_of(yaml_to_json(n));
}

YValue yvalue_of(const Json& j) {
  if (j.is_object()) {
    YMap m;
    for (const auto& [k, v] : j.items())
      m.emplace_back(k, yvalue_of(v));
    return m;
  }
  if (j.is_array()) {
    YSeq s;
    for (const auto& v : j)
      s.push_back(yvalue_of(v));
    return s;
  }
  if (j.is_boolean())
    return j.get<bool>();
  if (j.is_number_integer())
    return j.get<int64_t>();
  if (j.is_number_float())
    return j.get<double>();
  if (j.is_string())
    return j.get<std::string>();
  return nullptr;
}

}  // namespace rh::pipeline
