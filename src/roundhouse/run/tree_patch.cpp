#include "roundhouse/run/tree_patch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "roundhouse/env/process.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh {

namespace {

constexpr int k_git_timeout_ms = 5 * 60 * 1000;

// A scratch folder removed when the object goes.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/rh-patch-XXXXXX";
    if (::mkdtemp(tmpl.data()))
      m_path = tmpl;
  }
  ~ScratchDir() {
    if (!m_path.empty())
      (void)remove_all(m_path);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

// Runs git in root, with `env` (NAME=value) set for it; its stdout, or an
// error carrying its stderr when it exits non-zero.
Result<std::string> git(const std::string& root, const std::vector<std::string>& env,
                        const std::vector<std::string>& args) {
  std::vector<std::string> argv{"env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), {"git", "-C", root});
  argv.insert(argv.end(), args.begin(), args.end());
  RH_TRY_ASSIGN(ProcessOutput out, run_capture(argv, {}, k_git_timeout_ms));
  if (out.exit_code != 0) {
    // Run again for the message only (stderr is not kept with stdout above).
    auto why = run_capture(argv, {}, k_git_timeout_ms, true);
    return make_error(ErrorCode::io, "git " + (args.empty() ? "" : args[0]) + " failed in " + root +
                                         ": " +
                                         std::string(trim(why ? why->out : "")).substr(0, 500));
  }
  return std::move(out.out);
}

std::vector<std::string> nul_list(const std::string& text) {
  std::vector<std::string> out;
  for (auto& s : split(text, '\0'))
    if (!s.empty())
      out.push_back(s);
  return out;
}

// The diff options every piece uses: git's own format whatever the user's
// configuration says (prefixes, colour, external diff tools, text filters).
std::vector<std::string> diff_args(bool has_commit, const std::string& attributes_file,
                                   bool renames) {
  std::vector<std::string> a{"-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
                             "-c", "diff.relative=false"};
  if (!attributes_file.empty())
    a.insert(a.end(), {"-c", "core.attributesFile=" + attributes_file});
  a.insert(a.end(), {"diff", "--cached", "--binary", "--full-index", "--no-color", "--no-ext-diff",
                     "--no-textconv", "--src-prefix=a/", "--dst-prefix=b/",
                     renames ? "--find-renames" : "--no-renames"});
  if (has_commit)
    a.push_back("HEAD");
  return a;
}

enum class Kind { deleted, link, text, binary, other };

struct Candidate {
  std::string path;
  bool tracked = false;
  Kind kind = Kind::other;
  uint64_t size = 0;
};

Candidate classify(const std::string& root, const std::string& path, bool tracked) {
  Candidate c{path, tracked};
  struct stat st;
  if (::lstat((root + "/" + path).c_str(), &st) != 0) {
    c.kind = errno == ENOENT ? Kind::deleted : Kind::other;
    return c;
  }
  c.size = static_cast<uint64_t>(st.st_size);
  if (S_ISLNK(st.st_mode)) {
    c.kind = Kind::link;
  } else if (S_ISREG(st.st_mode)) {
    // Text is what a reader can see in the diff; NUL or invalid UTF-8 is binary.
    auto content = read_file(root + "/" + path);
    if (!content)
      c.kind = Kind::other;
    else
      c.kind = content->find('\0') == std::string::npos && is_valid_utf8(*content) ? Kind::text
                                                                                   : Kind::binary;
  }
  return c;
}

}  // namespace

bool has_patches(const std::string& diff) {
  return diff.starts_with("diff --git ") || diff.find("\ndiff --git ") != std::string::npos;
}

Result<TreePatch> working_tree_patch(const std::string& root, bool has_commit,
                                     const TreePatchLimits& limits) {
  ScratchDir scratch;
  if (scratch.path().empty())
    return make_error(ErrorCode::io, "cannot make a temporary folder for the diff");
  RH_TRY_ASSIGN(std::string objects,
                git(root, {}, {"rev-parse", "--path-format=absolute", "--git-path", "objects"}));
  std::vector<std::string> env{
      "GIT_INDEX_FILE=" + scratch.path() + "/index",
      "GIT_OBJECT_DIRECTORY=" + scratch.path() + "/objects",
      "GIT_ALTERNATE_OBJECT_DIRECTORIES=" + std::string(trim(objects)),
  };
  RH_TRY(make_dirs(scratch.path() + "/objects"));

  // What differs from the commit, in the user's own index and tree.
  std::vector<Candidate> candidates;
  RH_TRY_ASSIGN(std::string changed,
                has_commit ? git(root, {}, {"diff", "--name-only", "--no-renames", "-z", "HEAD"})
                           : git(root, {}, {"ls-files", "-z"}));
  for (auto& p : nul_list(changed))
    candidates.push_back(classify(root, p, true));
  RH_TRY_ASSIGN(std::string untracked,
                git(root, {}, {"ls-files", "--others", "--exclude-standard", "-z"}));
  for (auto& p : nul_list(untracked))
    candidates.push_back(classify(root, p, false));

  TreePatch patch;
  std::string pathspec;
  size_t untracked_files = 0;
  uint64_t untracked_bytes = 0, binary_bytes = 0;
  for (const auto& c : candidates) {
    std::string why;
    if (c.kind == Kind::other) {
      why = c.path.ends_with("/") ? "a nested repository" : "not a file, link or folder";
    } else if (!c.tracked) {
      if (untracked_files >= limits.max_untracked_files)
        why =
            "over the limit of " + std::to_string(limits.max_untracked_files) + " untracked files";
      else if (untracked_bytes + c.size > limits.max_untracked_bytes)
        why = format_bytes(c.size) + ", over the " + format_bytes(limits.max_untracked_bytes) +
              " limit for untracked files";
      else
        ++untracked_files, untracked_bytes += c.size;
    } else if (c.kind == Kind::binary) {
      if (binary_bytes + c.size > limits.max_binary_bytes)
        why = "binary, " + format_bytes(c.size) + ", over the " +
              format_bytes(limits.max_binary_bytes) + " limit for changed binary files";
      else
        binary_bytes += c.size;
    }
    if (!why.empty()) {
      patch.left_out.push_back(c.path + " (" + why + ")");
      continue;
    }
    pathspec += c.path;
    pathspec += '\0';
  }

  if (!pathspec.empty()) {
    if (has_commit)
      RH_TRY(git(root, env, {"read-tree", "HEAD"}));
    std::string list = scratch.path() + "/paths";
    RH_TRY(write_file_atomic(list, pathspec));
    RH_TRY(git(root, env,
               {"--literal-pathspecs", "-c", "core.safecrlf=false", "add", "-A", "-f",
                "--pathspec-from-file=" + list, "--pathspec-file-nul"}));
    RH_TRY_ASSIGN(patch.diff, git(root, env, diff_args(has_commit, "", true)));
    if (!is_valid_utf8(patch.diff)) {
      // Some file's text is not UTF-8 (on either side): diff file by file and
      // record those files as binary patches.
      std::string attributes = scratch.path() + "/attributes";
      RH_TRY(write_file_atomic(attributes, "* -diff\n"));
      auto names_args = diff_args(has_commit, "", false);
      names_args.insert(names_args.end(), {"--name-only", "-z"});
      RH_TRY_ASSIGN(std::string names, git(root, env, names_args));
      patch.diff.clear();
      for (auto& p : nul_list(names)) {
        std::string spec = ":(literal)" + p;
        auto args = diff_args(has_commit, "", false);
        args.insert(args.end(), {"--", spec});
        RH_TRY_ASSIGN(std::string piece, git(root, env, args));
        if (!is_valid_utf8(piece)) {
          auto bin = diff_args(has_commit, attributes, false);
          bin.insert(bin.end(), {"--", spec});
          RH_TRY_ASSIGN(piece, git(root, env, bin));
        }
        if (!is_valid_utf8(piece)) {
          patch.left_out.push_back(p + " (not UTF-8, and its attributes keep it a text diff)");
          continue;
        }
        patch.diff += piece;
      }
    }
  }
  if (!patch.left_out.empty()) {
    // One line whatever the names hold, so git apply skips it as a preamble.
    std::string line = sanitize_utf8(join(patch.left_out, ", "));
    for (size_t i = 0; (i = line.find('\n', i)) != std::string::npos;)
      line.replace(i, 1, "\\n");
    patch.diff = "# not recorded: " + line + "\n" + patch.diff;
  }
  return patch;
}

}  // namespace rh
