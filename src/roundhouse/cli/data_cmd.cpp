// rh data create|add|remove|sync|finalize|upload|get|list|show|diff|tag|delete
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/output.h"
#include "roundhouse/data/ops.h"
#include "roundhouse/store/store_json.h"
#include "roundhouse/util/fs.h"
#include "roundhouse/util/strings.h"

namespace rh::cli {

namespace {

Result<std::unique_ptr<data::DataContext>> data_env(Context& c) {
  RH_TRY_ASSIGN(MetadataStore * store, c.store());
  RH_TRY_ASSIGN(BlobStore * blobs, c.blobs());
  RH_TRY_ASSIGN(LocalBlobStore * cache, c.local_cache());
  RH_TRY_ASSIGN(bool remote, c.is_remote());
  RH_TRY_ASSIGN(Config * cfg, c.config());
  auto env = std::make_unique<data::DataContext>(
      data::DataContext{.store = *store,
                        .remote = *blobs,
                        .cache = *cache,
                        .cache_is_remote = !remote,
                        .stat_cache_path = cfg->data_dir + "/statcache.bin",
                        .datasets_dir = cfg->data_dir + "/datasets",
                        .progress = {}});
  RH_TRY(make_dirs(env->datasets_dir));
  auto bars = std::make_shared<std::map<std::string, std::unique_ptr<Progress>>>();
  env->progress = [bars](const std::string& label, uint64_t done, uint64_t total) {
    auto& b = (*bars)[label];
    if (!b)
      b = std::make_unique<Progress>(label, label == "hashing" ? "files" : "objects");
    b->update(done, total);
  };
  return env;
}

// A version by ID (prefix) or by project + name (+ version / tag): the newest final one.
struct Ref {
  std::string id;
  std::string project;
  std::string name;
  std::string version;
  std::string tag;
};

Result<std::string> resolve(Context& c, const Ref& r) {
  RH_TRY_ASSIGN(MetadataStore * store, c.store());
  if (!r.id.empty())
    return c.resolve_dataset(r.id);
  if (r.project.empty() || r.name.empty())
    return make_error(ErrorCode::invalid_argument, "give a version ID, or --project and --name");
  DatasetQuery q;
  q.project = r.project;
  q.name = r.name;
  if (!r.version.empty())
    q.version = r.version;
  if (!r.tag.empty())
    q.tags = {r.tag};
  q.final_only = true;
  q.limit = 1;
  RH_TRY_ASSIGN(auto list, store->datasets().list(q));
  if (list.empty()) {
    return make_error(ErrorCode::not_found, "no final version of dataset " + r.project + "/" +
                                                r.name +
                                                (r.version.empty() ? "" : " version " + r.version) +
                                                (r.tag.empty() ? "" : " tagged " + r.tag));
  }
  return list[0].id;
}

std::string summary_line(const DatasetSummary& s) {
  return std::to_string(s.files) + " files, " + format_bytes(static_cast<uint64_t>(s.bytes)) +
         "; +" + std::to_string(s.added) + " (" +
         format_bytes(static_cast<uint64_t>(s.added_bytes)) + ") ~" + std::to_string(s.modified) +
         " (" + format_bytes(static_cast<uint64_t>(s.modified_bytes)) + ") -" +
         std::to_string(s.removed) + " (" + format_bytes(static_cast<uint64_t>(s.removed_bytes)) +
         ")";
}

void add_ref_options(CLI::App* cmd, Ref& r, bool id_required) {
  auto* id = cmd->add_option("id", r.id, "Version ID or unique prefix");
  if (id_required)
    id->required();
  cmd->add_option("--project", r.project, "Dataset project (instead of an ID)");
  cmd->add_option("--name", r.name, "Dataset name (instead of an ID)");
  cmd->add_option("--version", r.version, "That version (default: the newest final)");
  cmd->add_option("--tag", r.tag, "The newest final version with this tag");
}

struct CreateFlags {
  std::string project, name, version, task;
  std::vector<std::string> parents, tags;
  bool json = false;
};

struct AddFlags {
  std::string id;
  std::vector<std::string> paths;
  data::AddOptions opt;
};

struct GetFlags {
  Ref ref;
  std::string output;
  bool writable = false, verify = false;
};

struct ListFlags {
  std::string project, name, tag;
  bool json = false;
};

Status create_version(Context& ctx, const CreateFlags& f) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  NewDatasetVersion v{f.project, f.name, f.version, {}, f.tags, f.task};
  for (const auto& p : f.parents) {
    RH_TRY_ASSIGN(std::string id, ctx.resolve_dataset(p));
    v.parents.push_back(id);
  }
  RH_TRY_ASSIGN(DatasetVersion made, store->datasets().create(v));
  std::printf("%s\n", made.id.c_str());
  std::fprintf(stderr, "rh: draft %s/%s %s created\n", made.project.c_str(), made.name.c_str(),
               made.version.c_str());
  return {};
}

Status add_files(Context& ctx, const AddFlags& f) {
  RH_TRY_ASSIGN(auto env, data_env(ctx));
  RH_TRY_ASSIGN(std::string id, ctx.resolve_dataset(f.id));
  RH_TRY_ASSIGN(int64_t n, data::add(*env, id, f.paths, f.opt));
  std::fprintf(stderr, "rh: %lld file(s) added (%lld read and hashed, the rest unchanged)\n",
               static_cast<long long>(n), static_cast<long long>(env->hashed));
  return {};
}

Status remove_files(Context& ctx, const std::string& ref, const std::string& pattern) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string vid, ctx.resolve_dataset(ref));
  RH_TRY_ASSIGN(int64_t n, store->datasets().remove_files(vid, pattern));
  std::fprintf(stderr, "rh: %lld file(s) removed\n", static_cast<long long>(n));
  return {};
}

Status sync_folder(Context& ctx, const std::string& ref, const std::string& dir) {
  RH_TRY_ASSIGN(auto env, data_env(ctx));
  RH_TRY_ASSIGN(std::string vid, ctx.resolve_dataset(ref));
  RH_TRY_ASSIGN(auto r, data::sync(*env, vid, dir));
  std::fprintf(stderr, "rh: %lld added, %lld modified, %lld removed, %lld unchanged\n",
               static_cast<long long>(r.added), static_cast<long long>(r.modified),
               static_cast<long long>(r.removed), static_cast<long long>(r.unchanged));
  return {};
}

Status finalize_version(Context& ctx, const std::string& ref, bool upload_first) {
  RH_TRY_ASSIGN(auto env, data_env(ctx));
  RH_TRY_ASSIGN(std::string vid, ctx.resolve_dataset(ref));
  RH_TRY_ASSIGN(DatasetVersion v, data::finalize(*env, vid, upload_first));
  std::fprintf(stderr, "rh: %s/%s %s final: %s\n", v.project.c_str(), v.name.c_str(),
               v.version.c_str(), summary_line(v.summary).c_str());
  return {};
}

Status upload_version(Context& ctx, const std::string& ref) {
  RH_TRY_ASSIGN(auto env, data_env(ctx));
  RH_TRY_ASSIGN(std::string vid, ctx.resolve_dataset(ref));
  RH_TRY_ASSIGN(int64_t n, data::upload(*env, vid));
  std::fprintf(stderr, "rh: %lld file(s) uploaded\n", static_cast<long long>(n));
  return {};
}

Status get_version(Context& ctx, const GetFlags& f) {
  RH_TRY_ASSIGN(auto env, data_env(ctx));
  RH_TRY_ASSIGN(std::string vid, resolve(ctx, f.ref));
  RH_TRY_ASSIGN(auto r, data::get(*env, vid, f.output, f.writable, f.verify));
  for (const auto& d : r.repaired)
    std::fprintf(stderr, "rh: the cached copy of %s was damaged; fetched again\n", d.c_str());
  std::printf("%s\n", r.dir.c_str());
  std::fprintf(stderr, "rh: %lld files (%lld downloaded, %lld linked, %lld copied)\n",
               static_cast<long long>(r.files), static_cast<long long>(r.downloaded),
               static_cast<long long>(r.linked), static_cast<long long>(r.copied));
  return {};
}

Status list_versions(Context& ctx, const ListFlags& f) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  DatasetQuery q;
  if (!f.project.empty())
    q.project = f.project;
  if (!f.name.empty())
    q.name = f.name;
  if (!f.tag.empty())
    q.tags = {f.tag};
  q.limit = 1000;
  RH_TRY_ASSIGN(auto vs, store->datasets().list(q));
  if (f.json) {
    Json arr = Json::array();
    for (const auto& v : vs)
      arr.push_back(to_json(v));
    std::puts(Json{{"datasets", arr}}.dump(2).c_str());
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : vs) {
    std::string tags;
    for (const auto& t : v.tags)
      tags += (tags.empty() ? "" : ",") + t;
    rows.push_back(
        {v.id.substr(0, 12), v.project, v.name, v.version, std::string(to_string(v.state)),
         v.state == DatasetState::final_ ? std::to_string(v.summary.files) : "-",
         v.state == DatasetState::final_ ? format_bytes(static_cast<uint64_t>(v.summary.bytes))
                                         : "-",
         format_time(v.created), tags});
  }
  print_table({"ID", "PROJECT", "NAME", "VERSION", "STATE", "FILES", "SIZE", "CREATED", "TAGS"},
              rows);
  return {};
}

Status show_version(Context& ctx, const std::string& ref, bool json) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string vid, ctx.resolve_dataset(ref));
  RH_TRY_ASSIGN(DatasetVersion v, store->datasets().get(vid));
  if (v.state == DatasetState::draft) {
    RH_TRY_ASSIGN(v.summary, store->datasets().summarize(vid));
  }
  // The files a slice at a time: a version of any size is shown in
  // bounded memory. The text lists the first 50 only, and reads no more.
  const size_t listed = 50;
  data::RowSlices rows(store->datasets(), vid, json ? data::RowSlices::k_rows : listed);
  if (json) {
    std::string head = to_json(v).dump(2);  // "{\n  ...\n}"
    head.resize(head.rfind('}'));
    while (!head.empty() && head.back() == '\n')
      head.pop_back();
    std::fputs(head.c_str(), stdout);
    std::fputs(",\n  \"files\": [", stdout);
    bool first = true;
    while (true) {
      RH_TRY_ASSIGN(auto files, rows.next());
      if (files.empty())
        break;
      for (const auto& f : files) {
        std::fputs(first ? "\n    " : ",\n    ", stdout);
        std::fputs(to_json(f).dump().c_str(), stdout);
        first = false;
      }
    }
    std::fputs(first ? "]\n}\n" : "\n  ]\n}\n", stdout);
    return {};
  }
  std::printf("id:       %s\nproject:  %s\nname:     %s\nversion:  %s\nstate:    %s\n",
              v.id.c_str(), v.project.c_str(), v.name.c_str(), v.version.c_str(),
              std::string(to_string(v.state)).c_str());
  for (const auto& p : v.parents)
    std::printf("parent:   %s\n", p.c_str());
  if (!v.task_id.empty())
    std::printf("task:     %s\n", v.task_id.c_str());
  std::printf("summary:  %s\n", summary_line(v.summary).c_str());
  if (!v.manifest.empty())
    std::printf("manifest: %s\n", v.manifest.c_str());
  RH_TRY_ASSIGN(auto files, rows.next());
  size_t shown = std::min(files.size(), listed);
  for (size_t i = 0; i < shown; ++i)
    std::printf("  %10s  %s\n", format_bytes(files[i].size).c_str(), files[i].path.c_str());
  if (v.summary.files > static_cast<int64_t>(shown)) {
    std::printf("  ... %lld more (--json lists all)\n",
                static_cast<long long>(v.summary.files - static_cast<int64_t>(shown)));
  }
  return {};
}

Status diff_versions(Context& ctx, const std::string& from, const std::string& to) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string a, ctx.resolve_dataset(from));
  RH_TRY_ASSIGN(std::string b, ctx.resolve_dataset(to));
  // Both versions' rows in path order, met in one streamed merge.
  data::RowCursor left(store->datasets(), a), right(store->datasets(), b);
  int64_t added = 0, modified = 0, removed = 0;
  while (true) {
    RH_TRY_ASSIGN(const DatasetFile* l, left.head());
    RH_TRY_ASSIGN(const DatasetFile* r, right.head());
    if (!l && !r)
      break;
    if (l && (!r || l->path < r->path)) {
      std::printf("- %s\n", l->path.c_str());
      ++removed;
      left.pop();
    } else if (r && (!l || r->path < l->path)) {
      std::printf("+ %s\n", r->path.c_str());
      ++added;
      right.pop();
    } else {
      if (l->digest != r->digest) {
        std::printf("~ %s\n", r->path.c_str());
        ++modified;
      }
      left.pop();
      right.pop();
    }
  }
  std::fprintf(stderr, "rh: %lld added, %lld modified, %lld removed\n",
               static_cast<long long>(added), static_cast<long long>(modified),
               static_cast<long long>(removed));
  return {};
}

Status tag_version(Context& ctx, const std::string& ref, const std::vector<std::string>& all) {
  std::vector<std::string> add_tags, remove_tags;
  for (const auto& c : all) {
    if (c.starts_with("-"))
      remove_tags.push_back(c.substr(1));
    else
      add_tags.push_back(c.starts_with("+") ? c.substr(1) : c);
  }
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string vid, ctx.resolve_dataset(ref));
  RH_TRY_ASSIGN(DatasetVersion v, store->datasets().change_tags(vid, add_tags, remove_tags));
  std::string tags;
  for (const auto& t : v.tags)
    tags += (tags.empty() ? "" : ",") + t;
  std::fprintf(stderr, "rh: tags of %s: %s\n", v.id.substr(0, 12).c_str(),
               tags.empty() ? "(none)" : tags.c_str());
  return {};
}

Status delete_version(Context& ctx, const std::string& ref) {
  RH_TRY_ASSIGN(MetadataStore * store, ctx.store());
  RH_TRY_ASSIGN(std::string vid, ctx.resolve_dataset(ref));
  RH_TRY(store->datasets().remove(vid));
  std::fprintf(stderr, "rh: deleted %s\n", vid.c_str());
  return {};
}

}  // namespace

void add_data_commands(CLI::App& app, Context& ctx) {
  auto* data = app.add_subcommand("data", "Versioned datasets: content-addressed, deduplicated");
  data->require_subcommand(1);

  auto cf = std::make_shared<CreateFlags>();
  auto* create = data->add_subcommand("create", "Start a draft version (parents' files included)");
  create->add_option("--project", cf->project, "Project")->required();
  create->add_option("--name", cf->name, "Dataset name")->required();
  create->add_option("--parent", cf->parents, "Parent version ID (repeatable)");
  create->add_option("--version", cf->version, "Version (default: next patch, 1.0.0 first)");
  create->add_option("--tag", cf->tags, "Tag (repeatable)");
  create->add_option("--task", cf->task, "ID of the task creating it");
  create->callback([&ctx, cf] { guard([&] { return create_version(ctx, *cf); }); });

  auto af = std::make_shared<AddFlags>();
  auto* add = data->add_subcommand("add", "Add files or folders to a draft (hashed once, cached)");
  add->add_option("id", af->id, "Draft version ID")->required();
  add->add_option("paths", af->paths, "Files or folders")->required();
  add->add_option("--dataset-path", af->opt.dataset_path, "Folder inside the dataset");
  add->add_option("--wildcard", af->opt.wildcard, "Only files whose name matches");
  add->callback([&ctx, af] { guard([&] { return add_files(ctx, *af); }); });

  auto id = std::make_shared<std::string>();
  auto pattern = std::make_shared<std::string>();
  auto* remove = data->add_subcommand("remove", "Remove files from a draft (path, folder or glob)");
  remove->add_option("id", *id, "Draft version ID")->required();
  remove->add_option("pattern", *pattern, "A path, a folder or a glob like '*.tmp'")->required();
  remove->callback(
      [&ctx, id, pattern] { guard([&] { return remove_files(ctx, *id, *pattern); }); });

  auto dir = std::make_shared<std::string>();
  auto* sync = data->add_subcommand("sync", "Make a draft mirror a folder");
  sync->add_option("id", *id, "Draft version ID")->required();
  sync->add_option("dir", *dir, "Folder")->required();
  sync->callback([&ctx, id, dir] { guard([&] { return sync_folder(ctx, *id, *dir); }); });

  auto upload_first = std::make_shared<bool>(false);
  auto* fin = data->add_subcommand("finalize", "Make a draft final (immutable)");
  fin->add_option("id", *id, "Draft version ID")->required();
  fin->add_flag("--upload", *upload_first, "Upload the files first");
  fin->callback([&ctx, id, upload_first] {
    guard([&] { return finalize_version(ctx, *id, *upload_first); });
  });

  auto* up = data->add_subcommand("upload", "Send the version's files the server lacks");
  up->add_option("id", *id, "Version ID")->required();
  up->callback([&ctx, id] { guard([&] { return upload_version(ctx, *id); }); });

  auto gf = std::make_shared<GetFlags>();
  auto* get = data->add_subcommand("get", "Materialise a version (read-only links to the cache)");
  add_ref_options(get, gf->ref, false);
  get->add_option("--output", gf->output, "Folder (default <data dir>/datasets/<id>)");
  get->add_flag("--mutable", gf->writable, "Writable copies instead of links");
  get->add_flag("--verify", gf->verify, "Re-hash cached files (repairs damaged ones)");
  get->callback([&ctx, gf] { guard([&] { return get_version(ctx, *gf); }); });

  auto lf = std::make_shared<ListFlags>();
  auto* list = data->add_subcommand("list", "Dataset versions, newest first");
  list->add_option("--project", lf->project, "Only this project");
  list->add_option("--name", lf->name, "Only this dataset");
  list->add_option("--tag", lf->tag, "Only versions with this tag");
  list->add_flag("--json", lf->json, "JSON output");
  list->callback([&ctx, lf] { guard([&] { return list_versions(ctx, *lf); }); });

  auto json = std::make_shared<bool>(false);
  auto* show = data->add_subcommand("show", "One version: summary, parents, files");
  show->add_option("id", *id, "Version ID")->required();
  show->add_flag("--json", *json, "JSON output");
  show->callback([&ctx, id, json] { guard([&] { return show_version(ctx, *id, *json); }); });

  auto ids = std::make_shared<std::vector<std::string>>();
  auto* diff = data->add_subcommand("diff", "Files added, modified and removed from A to B");
  diff->add_option("ids", *ids, "Two version IDs")->required()->expected(2);
  diff->callback([&ctx, ids] { guard([&] { return diff_versions(ctx, (*ids)[0], (*ids)[1]); }); });

  auto changes = std::make_shared<std::vector<std::string>>();
  auto* tag = data->add_subcommand("tag", "Add (+T) and remove (-T) tags");
  tag->add_option("id", *id, "Version ID")->required();
  tag->add_option("changes", *changes, "+tag / -tag ...")->required()->allow_extra_args();
  tag->positionals_at_end();
  tag->prefix_command();
  tag->callback([&ctx, id, changes, tag] {
    std::vector<std::string> all = *changes;
    for (const auto& extra : tag->remaining())
      all.push_back(extra);
    guard([&] { return tag_version(ctx, *id, all); });
  });

  auto* del = data->add_subcommand("delete", "Delete a version (refused while others build on it)");
  del->add_option("id", *id, "Version ID")->required();
  del->callback([&ctx, id] { guard([&] { return delete_version(ctx, *id); }); });
}

}  // namespace rh::cli
