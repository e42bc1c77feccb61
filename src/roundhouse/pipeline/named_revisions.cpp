#include "roundhouse/pipeline/named_revisions.h"

#include <map>

#include "roundhouse/env/process.h"
#include "roundhouse/util/strings.h"

namespace rh::pipeline {

Result<std::vector<NamedRevision>> named_revisions(const std::string& root, bool branches,
                                                   bool tags) {
  std::vector<NamedRevision> out{{"workspace", "workspace"}};
  std::vector<std::string> argv{"git", "for-each-ref",
                                "--format=%(refname:strip=2)%09%(objectname)%09%(*objectname)"};
  if (branches)
    argv.push_back("refs/heads");
  if (tags)
    argv.push_back("refs/tags");
  if (argv.size() == 3)
    return out;
  RH_TRY_ASSIGN(ProcessOutput p, run_capture(argv, root, 30000));
  if (p.exit_code != 0)
    return make_error(ErrorCode::invalid_argument,
                      "cannot list the git refs of " + root + " (is it a git repository?)");
  // for-each-ref lists the patterns' refs sorted by their full names:
  // branches (refs/heads) before tags (refs/tags), as DVC adds them.
  std::map<std::string, size_t> at;  // commit -> index in out
  for (const auto& line : split(p.out, '\n')) {
    auto cols = split(line, '\t');
    if (cols.size() < 2 || cols[0].empty())
      continue;
    std::string commit = cols.size() > 2 && !cols[2].empty() ? cols[2] : cols[1];
    if (auto it = at.find(commit); it != at.end()) {
      out[it->second].shown += "," + cols[0];
      continue;
    }
    at[commit] = out.size();
    out.push_back({cols[0], commit});
  }
  return out;
}

}  // namespace rh::pipeline
