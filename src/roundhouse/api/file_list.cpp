#include "roundhouse/api/file_list.h"

#include <charconv>

namespace rh::api {

void append_file_list(std::string& out, const std::vector<DatasetFile>& files) {
  out.reserve(out.size() + files.size() * 112);
  char num[32];
  for (const auto& f : files) {
    out += f.digest;
    out += '\t';
    auto r = std::to_chars(num, num + sizeof num, f.size);
    out.append(num, r.ptr);
    out += '\t';
    r = std::to_chars(num, num + sizeof num, f.mode, 8);
    out.append(num, r.ptr);
    out += '\t';
    for (char c : f.path) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out += c;
      }
    }
    out += '\n';
  }
}

namespace {

Error bad_line(size_t line, const std::string& why) {
  return Error{ErrorCode::invalid_argument, "file list line " + std::to_string(line) + ": " + why};
}

template <class T>
bool parse_number(std::string_view s, T& v, int base) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

}  // namespace

Status read_file_list(std::string_view text, std::vector<DatasetFile>& out) {
  size_t line = 0;
  while (!text.empty()) {
    ++line;
    size_t end = text.find('\n');
    if (end == std::string_view::npos)
      return std::unexpected(bad_line(line, "does not end with a newline (cut short?)"));
    std::string_view l = text.substr(0, end);
    text.remove_prefix(end + 1);
    std::string_view field[4];
    for (int k = 0; k < 3; ++k) {
      size_t tab = l.find('\t');
      if (tab == std::string_view::npos)
        return std::unexpected(
            bad_line(line, "needs 4 tab-separated fields: digest, size, mode, path"));
      field[k] = l.substr(0, tab);
      l.remove_prefix(tab + 1);
    }
    field[3] = l;
    DatasetFile f;
    f.digest = std::string(field[0]);
    if (!parse_number(field[1], f.size, 10))
      return std::unexpected(
          bad_line(line, "size \"" + std::string(field[1]) + "\" is not a number"));
    if (!parse_number(field[2], f.mode, 8) || f.mode > 07777)
      return std::unexpected(
          bad_line(line, "mode \"" + std::string(field[2]) + "\" is not an octal file mode"));
    f.path.reserve(field[3].size());
    for (size_t i = 0; i < field[3].size(); ++i) {
      char c = field[3][i];
      if (c != '\\') {
        if (c == '\r')
          return std::unexpected(
              bad_line(line, "a carriage return in the path must be written \\r"));
        f.path += c;
        continue;
      }
      if (++i == field[3].size())
        return std::unexpected(bad_line(line, "the path ends with a lone backslash"));
      switch (field[3][i]) {
        case '\\':
          f.path += '\\';
          break;
        case 't':
          f.path += '\t';
          break;
        case 'n':
          f.path += '\n';
          break;
        case 'r':
          f.path += '\r';
          break;
        default:
          return std::unexpected(
              bad_line(line, std::string("unknown escape \\") + field[3][i] + " in the path"));
      }
    }
    out.push_back(std::move(f));
  }
  return {};
}

}  // namespace rh::api
