#include "roundhouse/util/strings.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rh {

namespace {

// The well-formed UTF-8 sequence at p[i] (no overlongs, no surrogates,
// <= U+10FFFF): its code point and length; false when there is none.
bool decode_at(const unsigned char* p, size_t n, size_t i, uint32_t& cp, size_t& len) {
  unsigned char c = p[i];
  if (c < 0x80) {
    cp = c;
    len = 1;
    return true;
  }
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return false;
  }
  if (i + len > n)
    return false;
  for (size_t k = 1; k < len; ++k) {
    if ((p[i + k] & 0xC0) != 0x80)
      return false;
    cp = (cp << 6) | (p[i + k] & 0x3F);
  }
  return !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
           cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF));
}

}  // namespace

size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  uint32_t cp = 0;
  size_t len = 0;
  for (size_t i = 0; i < s.size(); i += len) {
    if (!decode_at(p, s.size(), i, cp, len))
      return i;
  }
  return std::string_view::npos;
}

std::u32string utf8_code_points(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::u32string out;
  out.reserve(s.size());
  uint32_t cp = 0;
  size_t len = 0;
  for (size_t i = 0; i < s.size(); i += len) {
    if (!decode_at(p, s.size(), i, cp, len)) {
      cp = 0xDC00 + p[i];  // as Python's surrogateescape reads the byte
      len = 1;
    }
    out.push_back(char32_t(cp));
  }
  return out;
}

bool is_valid_utf8(std::string_view s) {
  return first_invalid_utf8(s) == std::string_view::npos;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    size_t bad = first_invalid_utf8(s);
    if (bad == std::string_view::npos) {
      out.append(s);
      break;
    }
    out.append(s.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    s.remove_prefix(bad + 1);
  }
  return out;
}

void to_hex(const unsigned char* data, size_t n, char* out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
}

std::string to_hex(const unsigned char* data, size_t n) {
  std::string out(n * 2, '0');
  to_hex(data, n, out.data());
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(s.substr(start));
      break;
    }
    out.emplace_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i)
      out.append(sep);
    out.append(parts[i]);
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view chomp(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!ok)
      return false;
  }
  return true;
}

bool from_hex(std::string_view hex, unsigned char* out, size_t n) {
  if (hex.size() != 2 * n)
    return false;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    int hi = nib(hex[2 * i]), lo = nib(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.empty())
    return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return std::nullopt;
  return v;
}

std::string format_bytes(uint64_t n) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

std::string shell_quote(const std::string& s) {
  if (s.empty())
    return "''";
  bool safe = true;
  for (unsigned char c : s)
    safe = safe && (std::isalnum(c) || std::strchr("_@%+=:,./-", c));
  if (safe)
    return s;
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\"'\"'";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace rh
