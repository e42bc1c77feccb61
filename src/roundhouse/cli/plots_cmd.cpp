// rh plots show [TARGET...] [-o DIR] [--json]; rh plots diff [REV...]
// [--targets T...] [-o DIR] [--json]: the pipeline's plots (pipeline/plots.h)
// at the workspace, or overlaid over revisions, written as one
// self-contained HTML file DIR/index.html (default dvc_plots/ in a dvc.yaml
// project, as DVC, else rh_plots/) whose file:// URL is printed. --json
// prints the report the page draws instead (Roundhouse's shape, not DVC's
// Vega specs). Targets are paths from the current folder or plot names.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "roundhouse/cli/commands.h"
#include "roundhouse/cli/context.h"
#include "roundhouse/cli/pipeline_here.h"
#include "roundhouse/pipeline/plots.h"
#include "roundhouse/pipeline/plots_page.h"
#include "roundhouse/server/web_assets.h"
#include "roundhouse/util/fs.h"

namespace rh::cli {

namespace {

namespace fs = std::filesystem;

struct PlotsFlags {
  std::vector<std::string> revs;  // diff only
  std::vector<std::string> targets;
  std::string out;
  bool json = false;
};

Status plots_cmd(const PlotsFlags& f, bool diff) {
  RH_TRY_ASSIGN(PipelineHere here, pipeline_here());
  RH_TRY_ASSIGN(pipeline::Project p, pipeline::open_project(here.root, here.file));
  std::vector<std::string> revs{"workspace"};
  if (diff) {
    RH_TRY_ASSIGN(revs, pipeline::plots_diff_revisions(here.root, f.revs));
  }
  // A target names a plot, or a path from the current folder.
  std::vector<std::string> targets;
  for (const auto& t : f.targets) {
    targets.push_back(t);
    if (here.dir != ".")
      targets.push_back(here.dir + "/" + t);
  }
  std::vector<std::string> errors;
  RH_TRY_ASSIGN(Json report, pipeline::plots_report(p, revs, targets, errors));
  for (const auto& e : errors)
    std::fprintf(stderr, "rh: %s\n", e.c_str());
  report["errors"] = errors;
  if (f.json) {
    std::printf("%s\n", report.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    return {};
  }
  if (report["plots"].empty()) {
    std::fprintf(stderr, "No plots were loaded, visualization file will not be created.\n");
    return {};
  }
  auto script = web_asset("report/plots.js");
  auto style = web_asset("report/plots.css");
  if (!script || !style)
    return make_error(ErrorCode::not_found,
                      "this rh was built without its web UI (RH_BUILD_WEB=OFF), which draws the "
                      "plots page; `rh plots " +
                          std::string(diff ? "diff" : "show") + " --json` prints the data");
  std::string dir = f.out.empty() ? (p.file.dvc ? "dvc_plots" : "rh_plots") : f.out;
  std::string file = fs::weakly_canonical(fs::absolute(dir)).string() + "/index.html";
  RH_TRY(make_dirs(dirname_of(file)));
  RH_TRY(write_file_atomic(file, pipeline::plots_page_html(report, *script, *style)));
  std::printf("file://%s\n", file.c_str());
  return {};
}

}  // namespace

void add_plots_commands(CLI::App& app, Context&) {
  auto* plots = app.add_subcommand("plots", "The pipeline's plots, as `dvc plots`");
  plots->require_subcommand(1);
  for (bool diff : {false, true}) {
    auto f = std::make_shared<PlotsFlags>();
    auto* c = plots->add_subcommand(
        diff ? "diff" : "show",
        diff ? "The plots of revisions overlaid (default: HEAD, if changed, and the workspace)"
             : "The plots of the workspace, as one HTML file");
    if (diff) {
      c->add_option("revisions", f->revs, "Git revisions ('workspace' for the working tree)");
      c->add_option("--targets", f->targets, "Only these plots (ids or paths)")->expected(0, -1);
    } else {
      c->add_option("targets", f->targets, "Only these plots (ids or paths)");
    }
    c->add_option("-o,--out", f->out, "The folder for index.html (default dvc_plots or rh_plots)");
    c->add_flag("--json", f->json, "Print the plots' data as JSON instead");
    c->callback([f, diff] { guard([&] { return plots_cmd(*f, diff); }); });
  }
}

}  // namespace rh::cli
