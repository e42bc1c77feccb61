// Ignore rules for an experiment's context directory: `.rhignore` and
// `.detignore` at its root, in gitignore syntax (git's own rules: blank
// lines and `#` comments, `\` escapes, trailing spaces dropped, `!`
// re-includes, a trailing `/` matches directories only, a pattern with a `/`
// before its end is anchored at the root and otherwise matches a name at any
// depth, `*` `?` `[...]` never match `/`, `**/`, `/**/` and `/**` span
// directories, the last matching rule wins, and nothing inside an ignored
// directory can be re-included). `__pycache__/`, `*.pyc` and `.git/` are
// always left out. Tested against `git check-ignore --no-index`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rh::experiment {

class IgnoreRules {
 public:
  // Adds the lines of one ignore file (later lines win over earlier ones).
  void add(std::string_view text);
  // Whether `path` (relative to the root, '/'-separated, no trailing '/')
  // is left out, its parent directories included in the decision.
  bool ignored(std::string_view path, bool is_dir) const;

 private:
  struct Rule {
    std::string pattern;
    bool negate = false, dir_only = false, anchored = false;
  };
  // The decision of the rules alone for this path (parents not considered):
  // 1 ignored, -1 re-included, 0 no rule matched.
  int decide(std::string_view path, bool is_dir) const;
  std::vector<Rule> m_rules;
};

// Git's wildmatch with WM_PATHNAME, as gitignore uses it.
bool wildmatch(std::string_view pattern, std::string_view text);

}  // namespace rh::experiment
