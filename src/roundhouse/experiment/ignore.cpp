#include "roundhouse/experiment/ignore.h"

namespace rh::experiment {

namespace {

// One [...] class at p (just after '['); advances p past ']'. False when it
// does not close (then '[' is matched literally by the caller).
bool match_class(std::string_view pat, size_t& p, char c, bool& matched) {
  size_t i = p;
  bool negate = i < pat.size() && (pat[i] == '!' || pat[i] == '^');
  if (negate)
    ++i;
  bool any = false;
  bool first = true;
  while (i < pat.size() && (pat[i] != ']' || first)) {
    first = false;
    char lo = pat[i];
    if (lo == '\\' && i + 1 < pat.size())
      lo = pat[++i];
    char hi = lo;
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      hi = pat[i + 2];
      if (hi == '\\' && i + 3 < pat.size())
        hi = pat[++i + 2];
      i += 2;
    }
    if (lo <= c && c <= hi)
      any = true;
    ++i;
  }
  if (i >= pat.size())
    return false;
  p = i + 1;
  matched = any != negate;
  return true;
}

bool wm(std::string_view pat, size_t p, std::string_view t, size_t s) {
  while (p < pat.size()) {
    char c = pat[p];
    if (c == '\\' && p + 1 < pat.size()) {
      if (s >= t.size() || t[s] != pat[p + 1])
        return false;
      p += 2;
      ++s;
      continue;
    }
    if (c == '?') {
      if (s >= t.size() || t[s] == '/')
        return false;
      ++p;
      ++s;
      continue;
    }
    if (c == '[') {
      if (s >= t.size() || t[s] == '/')
        return false;  // a class, or a literal '[', needs a character here
      size_t q = p + 1;
      bool matched = false;
      if (match_class(pat, q, t[s], matched)) {
        if (!matched)
          return false;
        p = q;
        ++s;
        continue;
      }
      // An unclosed '[' is matched literally, below.
    }
    if (c == '*') {
      size_t q = p;
      while (q < pat.size() && pat[q] == '*')
        ++q;
      bool doubled = q - p >= 2;
      bool at_start = p == 0 || pat[p - 1] == '/';
      if (doubled && at_start && (q == pat.size() || pat[q] == '/')) {
        if (q == pat.size())
          return true;  // trailing "/**" (or a lone "**"): everything below
        // "**/": zero or more whole directories.
        if (wm(pat, q + 1, t, s))
          return true;
        for (size_t i = s; i < t.size(); ++i) {
          if (t[i] == '/' && wm(pat, q + 1, t, i + 1))
            return true;
        }
        return false;
      }
      // One or more '*' elsewhere: any run of characters but '/'.
      if (q == pat.size())
        return t.find('/', s) == std::string_view::npos;
      for (size_t i = s;; ++i) {
        if (wm(pat, q, t, i))
          return true;
        if (i >= t.size() || t[i] == '/')
          return false;
      }
    }
    if (s >= t.size() || t[s] != c)
      return false;
    ++p;
    ++s;
  }
  return s == t.size();
}

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool always_left_out(std::string_view name, bool is_dir) {
  if (is_dir)
    return name == "__pycache__" || name == ".git";
  return name.size() >= 4 && name.substr(name.size() - 4) == ".pyc";
}

}  // namespace

bool wildmatch(std::string_view pattern, std::string_view text) {
  return wm(pattern, 0, text, 0);
}

void IgnoreRules::add(std::string_view text) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    // Trailing spaces go unless escaped.
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\'))
      line.pop_back();
    if (line.size() >= 2 && line.back() == ' ' && line[line.size() - 2] == '\\')
      line.erase(line.size() - 2, 1);
    if (line.empty() || line[0] == '#')
      continue;
    Rule r;
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line.size() >= 2 && line[0] == '\\' && (line[1] == '!' || line[1] == '#')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    if (line.empty())
      continue;
    r.anchored = line.find('/') != std::string::npos;
    if (line[0] == '/')
      line.erase(0, 1);
    r.pattern = std::move(line);
    m_rules.push_back(std::move(r));
  }
}

int IgnoreRules::decide(std::string_view path, bool is_dir) const {
  for (auto it = m_rules.rbegin(); it != m_rules.rend(); ++it) {
    if (it->dir_only && !is_dir)
      continue;
    bool hit =
        it->anchored ? wildmatch(it->pattern, path) : wildmatch(it->pattern, base_name(path));
    if (hit)
      return it->negate ? -1 : 1;
  }
  return 0;
}

bool IgnoreRules::ignored(std::string_view path, bool is_dir) const {
  // Parents first: an ignored directory hides everything below it.
  for (size_t i = path.find('/'); i != std::string_view::npos; i = path.find('/', i + 1)) {
    std::string_view dir = path.substr(0, i);
    if (always_left_out(base_name(dir), true) || decide(dir, true) > 0)
      return true;
  }
  return always_left_out(base_name(path), is_dir) || decide(path, is_dir) > 0;
}

}  // namespace rh::experiment
