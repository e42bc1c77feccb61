// rh remote add|list|default|remove; rh push|pull|fetch [TARGET...] [-r NAME]
// [-a] [-T]: a repository's cached data (stage outs and tracked data) to and
// from a remote — a local folder in DVC's layout or an rh server.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/output.h"
#include "roundhouse/cli/sync_here.h"
#include "roundhouse/cli/track_here.h"
#include "roundhouse/pipeline/checkout.h"
#include "roundhouse/pipeline/get.h"
#include "roundhouse/pipeline/remote_config.h"
#include "roundhouse/pipeline/sync.h"
#include "roundhouse/util/strings.h"

namespace fs = std::filesystem;

namespace rh::cli {

namespace {

struct RemoteFlags {
  std::string name, url;
  bool make_default = false, force = false;
};

Status remote_add(const RemoteFlags& f) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  RH_TRY(pipeline::add_remote(h.layout.root, fs::current_path().string(), f.name, f.url,
                              f.make_default, f.force));
  std::printf("Remote '%s' added to .rh/config%s\n", f.name.c_str(),
              f.make_default ? " (the default)" : "");
  return {};
}

Status remote_list() {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  RH_TRY_ASSIGN(auto cfg, pipeline::read_remote_config(h.layout.root));
  for (const auto& r : cfg.remotes)
    std::printf("%s\t%s%s\n", r.name.c_str(), r.url.c_str(),
                r.name == cfg.default_name ? "\t(default)" : "");
  return {};
}

Status remote_default(const RemoteFlags& f) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  if (f.name.empty()) {
    RH_TRY_ASSIGN(auto cfg, pipeline::read_remote_config(h.layout.root));
    if (cfg.default_name.empty())
      return make_error(ErrorCode::not_found, "no default remote");
    std::printf("%s\n", cfg.default_name.c_str());
    return {};
  }
  return pipeline::set_default_remote(h.layout.root, f.name);
}

Status remote_remove(const RemoteFlags& f) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  return pipeline::remove_remote(h.layout.root, f.name);
}

struct SyncFlags {
  std::vector<std::string> targets;
  std::string remote;
  bool all_branches = false, all_tags = false, quiet = false;
};

std::string summary(const char* verb, const pipeline::SyncReport& r) {
  return std::to_string(r.sent) + (r.sent == 1 ? " file " : " files ") + verb + " (" +
         format_bytes(r.bytes) + ")" +
         (r.already ? ", " + std::to_string(r.already) + " already there" : "");
}

enum class Op { push, fetch, pull };

Status sync_cmd(Context& ctx, const SyncFlags& f, Op op) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  RH_TRY_ASSIGN(SyncHere s, sync_here(ctx, h, f.remote));
  RH_TRY_ASSIGN(auto entries, data_to_sync(h, f.targets, f.all_branches, f.all_tags));
  std::unique_ptr<Progress> bar;
  pipeline::TransferProgress progress;
  if (!f.quiet)
    progress = [&](uint64_t done, uint64_t total, uint64_t) {
      if (!bar)
        bar = std::make_unique<Progress>(op == Op::push ? "pushing" : "fetching", "files");
      bar->update(done, total);
    };
  if (op == Op::push) {
    RH_TRY_ASSIGN(auto r, pipeline::push_entries(entries, h.layout.cache(), *s.remote, progress));
    bar.reset();
    for (const auto& u : r.unavailable)
      std::fprintf(stderr, "warning: %s: not in the cache, not pushed\n", u.c_str());
    if (!f.quiet)
      std::printf("%s to '%s'\n", summary("pushed", r).c_str(), s.spec.name.c_str());
    return {};
  }
  RH_TRY_ASSIGN(auto r, pipeline::fetch_entries(entries, h.layout.cache(), *s.remote, progress));
  bar.reset();
  std::set<std::string> unavailable(r.unavailable.begin(), r.unavailable.end());
  for (const auto& u : r.unavailable)
    std::fprintf(stderr, "error: %s: '%s' does not have its content\n", u.c_str(),
                 s.spec.name.c_str());
  if (!f.quiet)
    std::printf("%s\n", summary("fetched", r).c_str());
  if (op == Op::pull) {
    int changed = 0;
    for (const auto& e : entries) {
      if (unavailable.count(e.rel) || !e.rev.empty())
        continue;  // another revision's data is fetched, not checked out
      RH_TRY_ASSIGN(auto c,
                    pipeline::checkout_entry(h.layout.cache(), e.lp, h.layout.root + "/" + e.rel,
                                             h.hashes.get(), e.persist));
      if (c == pipeline::CheckoutChange::unchanged)
        continue;
      ++changed;
      if (!f.quiet)
        std::printf("%s       %s\n", c == pipeline::CheckoutChange::added ? "A" : "M",
                    h.shown(e.rel).c_str());
    }
    h.save();
  }
  if (!unavailable.empty())
    return make_error(ErrorCode::not_found, std::to_string(unavailable.size()) +
                                                " of the entries are not on '" + s.spec.name +
                                                "' (" + s.remote->describe() + ")");
  return {};
}

struct GetFlags {
  pipeline::GetRequest req;
};

Status get_cmd(Context& ctx, const GetFlags& f) {
  std::vector<std::shared_ptr<void>> keep;  // the opened servers' stores
  auto open =
      [&](const pipeline::RemoteSpec& spec) -> Result<std::unique_ptr<pipeline::ObjectRemote>> {
    RH_TRY_ASSIGN(SyncHere s, open_remote_spec(ctx, spec));
    keep.push_back(s.keep);
    return std::move(s.remote);
  };
  RH_TRY_ASSIGN(auto r, pipeline::get_from_repo(f.req, open));
  std::printf(
      "%s: %llu %s%s\n", r.out.c_str(), static_cast<unsigned long long>(r.files),
      r.files == 1 ? "file" : "files",
      r.from_git ? " (from git)" : (" (" + format_bytes(r.bytes_fetched) + " fetched)").c_str());
  return {};
}

}  // namespace

Status cloud_status(Context& ctx, const std::vector<std::string>& targets,
                    const std::string& remote, bool json, bool quiet) {
  RH_TRY_ASSIGN(TrackHere h, track_here());
  RH_TRY_ASSIGN(SyncHere s, sync_here(ctx, h, remote));
  RH_TRY_ASSIGN(auto entries, pipeline::workspace_data(h.layout, h.project.get(), targets));
  RH_TRY_ASSIGN(auto states, pipeline::compare_entries(entries, h.layout.cache(), *s.remote));
  // As DVC says it: new (only the cache has it), deleted (only the remote), missing (neither).
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& st : states) {
    if (st.local && st.remote)
      continue;
    rows.emplace_back(h.shown(st.rel), st.local ? "new" : st.remote ? "deleted" : "missing");
  }
  if (json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [path, what] : rows)
      out[path] = what;
    std::printf("%s\n", out.dump(2).c_str());
  } else if (!quiet) {
    if (rows.empty())
      std::printf("Cache and remote '%s' are in sync.\n", s.spec.name.c_str());
    for (const auto& [path, what] : rows)
      std::printf("\t%-20s%s\n", (what + ":").c_str(), path.c_str());
  }
  if (quiet && !rows.empty())
    std::exit(1);
  return {};
}

void add_sync_commands(CLI::App& app, Context& ctx) {
  auto* remote =
      app.add_subcommand("remote", "Where cached data is pushed and pulled (.rh/config)");
  remote->require_subcommand(1);
  auto rf = std::make_shared<RemoteFlags>();
  auto* add = remote->add_subcommand("add", "Add a remote: a local folder or an rh server URL");
  add->add_option("name", rf->name, "Its name")->required();
  add->add_option("url", rf->url, "A folder, or http://host:port of an rh server")->required();
  add->add_flag("-d,--default", rf->make_default, "Make it the default");
  add->add_flag("-f,--force", rf->force, "Replace a remote of that name");
  add->callback([rf] { guard([&] { return remote_add(*rf); }); });
  auto* list = remote->add_subcommand("list", "The remotes (.rh/config, then DVC's)");
  list->callback([] { guard([] { return remote_list(); }); });
  auto* def = remote->add_subcommand("default", "Show or set the default remote");
  def->add_option("name", rf->name, "The remote to make the default");
  def->callback([rf] { guard([&] { return remote_default(*rf); }); });
  auto* rm = remote->add_subcommand("remove", "Remove a remote from .rh/config");
  rm->add_option("name", rf->name, "Its name")->required();
  rm->callback([rf] { guard([&] { return remote_remove(*rf); }); });

  auto gf = std::make_shared<GetFlags>();
  auto* get = app.add_subcommand(
      "get",
      "A file or folder of a git repository at a revision, its data from that revision's remote");
  get->add_option("repo", gf->req.repo, "A local path or a URL git clones")->required();
  get->add_option("path", gf->req.path, "The path in it, from its top")->required();
  get->add_option("--rev", gf->req.rev, "Branch, tag or commit (default: HEAD)");
  get->add_option("-o,--out", gf->req.out, "Where to write it (default: its name, here)");
  get->add_flag("-f,--force", gf->req.force, "Replace what is at the destination");
  get->add_option("-r,--remote", gf->req.remote, "That revision's remote of this name");
  get->callback([gf, &ctx] { guard([&] { return get_cmd(ctx, *gf); }); });

  struct Spec {
    const char* name;
    const char* help;
    Op op;
  };
  for (const Spec& sp :
       {Spec{"push", "Send the cached outs and tracked data the remote lacks", Op::push},
        Spec{"fetch", "Bring into the cache what it lacks, from the remote", Op::fetch},
        Spec{"pull", "fetch, then checkout", Op::pull}}) {
    auto sf = std::make_shared<SyncFlags>();
    auto* cmd = app.add_subcommand(sp.name, sp.help);
    cmd->add_option("targets", sf->targets, "Stages, groups or tracked data files (default: all)");
    cmd->add_option("-r,--remote", sf->remote, "The remote (default: the default remote)");
    cmd->add_flag("-a,--all-branches", sf->all_branches, "Also every branch's data");
    cmd->add_flag("-T,--all-tags", sf->all_tags, "Also every tag's data");
    cmd->add_flag("-q,--quiet", sf->quiet, "Print only errors");
    Op op = sp.op;
    cmd->callback([sf, op, &ctx] { guard([&] { return sync_cmd(ctx, *sf, op); }); });
  }
}

}  // namespace rh::cli
