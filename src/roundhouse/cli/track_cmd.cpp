// rh add PATH...; rh checkout [TARGET...]: data tracked outside stages
// (PATH.rh, or PATH.dvc in a DVC project) and putting the cached content of
// outs and tracked data back into the workspace.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/pipeline_here.h"
#include "roundhouse/cli/track_here.h"
#include "roundhouse/pipeline/add_data.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/data_entries.h"
#include "roundhouse/pipeline/hash_cache.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::cli {

namespace {

struct AddFlags {
  std::vector<std::string> paths;
};

Status add_cmd(const AddFlags& f) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  std::vector<std::string> files, ignores;
  for (const auto& path : f.paths) {
    RH_TRY_ASSIGN(std::string rel, h.from_root(path));
    auto added = pipeline::add_data(h.layout, h.project.get(), h.hashes.get(), rel);
    if (!added) {
      h.save();
      return std::unexpected(added.error());
    }
    std::printf("%s %s\n", added->changed ? "Added" : "Unchanged", rel.c_str());
    files.push_back(shell_quote(h.shown(added->tracked_file)));
    std::string dir = fs::path(rel).parent_path().generic_string();
    std::string ignore = shell_quote(h.shown(dir.empty() ? ".gitignore" : dir + "/.gitignore"));
    if (std::find(ignores.begin(), ignores.end(), ignore) == ignores.end())
      ignores.push_back(ignore);
  }
  h.save();
  files.insert(files.end(), ignores.begin(), ignores.end());
  std::printf("\nTo track the changes with git, run:\n\n\tgit add %s\n", join(files, " ").c_str());
  return {};
}

struct CheckoutFlags {
  std::vector<std::string> targets;
  bool quiet = false;
};

Status checkout_cmd(const CheckoutFlags& f) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  RH_TRY_ASSIGN(auto entries, pipeline::workspace_data(h.layout, h.project.get(), f.targets));
  int added = 0, modified = 0;
  std::vector<std::string> failed;
  for (const auto& e : entries) {
    auto r = pipeline::checkout_entry(h.layout.cache(), e.lp, h.layout.root + "/" + e.rel,
                                      h.hashes.get(), e.persist);
    if (!r) {
      std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
      failed.push_back(e.rel);
      continue;
    }
    if (*r == pipeline::CheckoutChange::unchanged)
      continue;
    (*r == pipeline::CheckoutChange::added ? added : modified)++;
    if (!f.quiet)
      std::printf("%s       %s\n", *r == pipeline::CheckoutChange::added ? "A" : "M",
                  h.shown(e.rel).c_str());
  }
  h.save();
  if (!f.quiet && (added || modified)) {
    std::vector<std::string> parts;
    if (added)
      parts.push_back(std::to_string(added) + (added == 1 ? " file added" : " files added"));
    if (modified)
      parts.push_back(std::to_string(modified) +
                      (modified == 1 ? " file modified" : " files modified"));
    std::printf("%s\n", join(parts, " and ").c_str());
  }
  if (!failed.empty())
    return make_error(ErrorCode::not_found,
                      "checkout failed for: " + join(failed, ", ") +
                          " (their content is not in the cache; rh pull fetches it)");
  return {};
}

}  // namespace

void add_track_commands(CLI::App& app, Context&) {
  auto af = std::make_shared<AddFlags>();
  auto* add = app.add_subcommand(
      "add", "Track data outside stages: PATH.rh (PATH.dvc in a DVC project), cached");
  add->add_option("paths", af->paths, "Files or folders")->required();
  add->callback([af] { guard([&] { return add_cmd(*af); }); });

  auto cf = std::make_shared<CheckoutFlags>();
  auto* co =
      app.add_subcommand("checkout", "Put the cached outs and tracked data back in the workspace");
  co->add_option("targets", cf->targets, "Stages, groups or tracked data files (default: all)");
  co->add_flag("-q,--quiet", cf->quiet, "Print only errors");
  co->callback([cf] { guard([&] { return checkout_cmd(*cf); }); });
}

}  // namespace rh::cli
