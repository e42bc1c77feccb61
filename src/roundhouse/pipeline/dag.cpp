#include "roundhouse/pipeline/dag.h"

#include <algorithm>
#include <functional>
#include <set>

namespace rh::pipeline {

bool path_within(const std::string& inner, const std::string& outer) {
  if (outer == ".")
    return true;
  return inner == outer ||
         (inner.size() > outer.size() && inner.starts_with(outer) && inner[outer.size()] == '/');
}

Result<Dag> build_dag(std::vector<Stage> stages) {
  Dag d;
  d.stages = std::move(stages);
  size_t n = d.stages.size();
  d.after.assign(n, {});
  auto bad = [](const std::string& msg) { return make_error(ErrorCode::invalid_argument, msg); };
  // Outs of different stages never overlap; a stage's out is not in its deps.
  for (size_t a = 0; a < n; ++a) {
    const Stage& sa = d.stages[a];
    for (const auto& o : sa.outs) {
      for (const auto& dep : sa.deps) {
        if (path_within(o.rel, dep.rel) || path_within(dep.rel, o.rel))
          return bad("stage '" + sa.name + "': out '" + o.rel + "' is also its dep '" + dep.rel +
                     "' (or inside it): the stage would depend on itself");
      }
      for (size_t b = a; b < n; ++b) {
        for (const auto& p : d.stages[b].outs) {
          if (&p == &o)
            continue;
          if (path_within(o.rel, p.rel) || path_within(p.rel, o.rel)) {
            std::string other = b == a ? "the same stage" : "stage '" + d.stages[b].name + "'";
            return bad("the outs '" + o.rel + "' of stage '" + sa.name + "' and '" + p.rel +
                       "' of " + other + " overlap: one path is written by one stage only");
          }
        }
      }
    }
  }
  for (size_t b = 0; b < n; ++b) {
    std::set<size_t> from;
    for (const auto& dep : d.stages[b].deps) {
      for (size_t a = 0; a < n; ++a) {
        if (a == b)
          continue;
        for (const auto& o : d.stages[a].outs) {
          if (path_within(dep.rel, o.rel) || path_within(o.rel, dep.rel))
            from.insert(a);
        }
      }
    }
    d.after[b].assign(from.begin(), from.end());
  }
  // Topological order, file order among the ready; a cycle is named.
  std::vector<int> state(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<size_t> path;
  std::function<Status(size_t)> visit = [&](size_t s) -> Status {
    if (state[s] == 2)
      return {};
    if (state[s] == 1) {
      std::string cycle;
      auto at = std::find(path.begin(), path.end(), s);
      for (auto it = at; it != path.end(); ++it)
        cycle += "'" + d.stages[*it].name + "' -> ";
      return bad("the stages depend on each other in a cycle: " + cycle + "'" + d.stages[s].name +
                 "'");
    }
    state[s] = 1;
    path.push_back(s);
    for (size_t a : d.after[s])
      RH_TRY(visit(a));
    path.pop_back();
    state[s] = 2;
    d.order.push_back(s);
    return {};
  };
  for (size_t s = 0; s < n; ++s)
    RH_TRY(visit(s));
  return d;
}

Result<std::vector<size_t>> select_stages(const Dag& dag, const std::vector<std::string>& targets,
                                          bool single, bool downstream) {
  size_t n = dag.stages.size();
  std::vector<bool> want(n, targets.empty());
  for (const auto& t : targets) {
    bool found = false;
    for (size_t i = 0; i < n; ++i) {
      if (dag.stages[i].name == t || dag.stages[i].group == t) {
        want[i] = true;
        found = true;
      }
    }
    if (!found)
      return make_error(ErrorCode::not_found, "no stage '" + t + "' in the pipeline");
  }
  if (!single && !targets.empty()) {
    // Close over the edges: upstream (what they need) or downstream (what needs them).
    bool grew = true;
    while (grew) {
      grew = false;
      for (size_t b = 0; b < n; ++b) {
        for (size_t a : dag.after[b]) {
          size_t from = downstream ? a : b, to = downstream ? b : a;
          if (want[from] && !want[to]) {
            want[to] = true;
            grew = true;
          }
        }
      }
    }
  }
  std::vector<size_t> out;
  for (size_t s : dag.order) {
    if (want[s])
      out.push_back(s);
  }
  return out;
}

}  // namespace rh::pipeline
