// Stop-based ASHA (Determined 0.38's async halving): every trial is created
// to train to max_length; when one validates at or past a rung's length, it
// is ranked there and stopped unless it is in the top 1/divisor of the
// trials ranked in that rung so far (the best one always goes on). Rung i
// of n needs max_length / divisor^(n-1-i) units (at least 1). Each stop
// makes room for a new trial until max_trials.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <set>

#include "roundhouse/search/methods.h"
#include "roundhouse/search/rungs.h"

namespace rh::search {

namespace {

struct Ranked {
  int64_t trial;
  double metric;
};

class AshaStopping final : public Searcher {
 public:
  AshaStopping(const SearcherConfig& c, int64_t num_rungs)
      : m_c(c), m_n(num_rungs), m_units(rung_lengths(num_rungs, c.divisor, c.max_length)) {
    m_rungs.resize(static_cast<size_t>(m_n));
  }

  std::vector<Action> initial_trials(Context& ctx) override {
    int64_t n = asha_initial_trials(m_c, m_n);
    std::vector<Action> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(create(ctx));
    return out;
  }
  std::vector<Action> trial_created(Context&, int64_t t) override {
    m_trial_rung[t] = 0;
    return {};
  }
  std::vector<Action> validation(Context& ctx, int64_t t, uint64_t units, double metric) override {
    if (!m_c.smaller_is_better)
      metric = -metric;
    auto out = early_stop(t, units, metric);
    if (!out.empty() && all_trials() < m_c.max_trials)
      out.push_back(create(ctx));
    return out;
  }
  std::vector<Action> trial_exited(Context&, int64_t) override {
    ++m_completed;
    return {};
  }
  std::vector<Action> trial_exited_early(Context& ctx, int64_t t, ExitReason why) override {
    std::vector<Action> out;
    m_early_exit.insert(t);
    ++m_completed;
    if (why == ExitReason::invalid_hp) {
      ++m_invalid;
      for (int64_t r = 0; r <= m_trial_rung[t]; ++r) {
        auto& ms = m_rungs[size_t(r)];
        auto it = std::find_if(ms.begin(), ms.end(), [&](const Ranked& x) { return x.trial == t; });
        if (it != ms.end())
          ms.erase(it);
      }
      out.push_back(create(ctx));
      return out;
    }
    insert(m_rungs[size_t(m_trial_rung[t])], t, DBL_MAX);
    if (all_trials() < m_c.max_trials)
      out.push_back(create(ctx));
    return out;
  }
  double progress() const override {
    double all = double(m_rungs[0].size());
    double p = all / (1.2 * double(m_c.max_trials));
    if (int64_t(all) == m_c.max_trials)
      p = std::max(p, double(m_completed - m_invalid) / double(m_c.max_trials));
    return std::min(p, 1.0);
  }
  Json snapshot() const override {
    Json rungs = Json::array();
    for (const auto& r : m_rungs) {
      Json ms = Json::array();
      for (const auto& m : r)
        ms.push_back(Json::array({m.trial, m.metric == DBL_MAX ? Json("exited") : Json(m.metric)}));
      rungs.push_back(ms);
    }
    Json tr = Json::object();
    for (const auto& [t, r] : m_trial_rung)
      tr[std::to_string(t)] = r;
    return Json{{"rungs", rungs},
                {"trial_rungs", tr},
                {"early_exit", m_early_exit},
                {"completed", m_completed},
                {"invalid", m_invalid}};
  }
  Status restore(const Json& s) override {
    m_rungs.assign(size_t(m_n), {});
    const Json& rungs = s.at("rungs");
    for (size_t i = 0; i < m_rungs.size() && i < rungs.size(); ++i) {
      for (const auto& m : rungs[i]) {
        m_rungs[i].push_back(
            {m[0].get<int64_t>(), m[1].is_string() ? DBL_MAX : m[1].get<double>()});
      }
    }
    m_trial_rung.clear();
    for (const auto& [k, v] : s.at("trial_rungs").items())
      m_trial_rung[std::stoll(k)] = v.get<int64_t>();
    m_early_exit = s.at("early_exit").get<std::set<int64_t>>();
    m_completed = s.at("completed").get<int64_t>();
    m_invalid = s.at("invalid").get<int64_t>();
    return {};
  }

 private:
  int64_t all_trials() const { return int64_t(m_trial_rung.size()) - m_invalid; }
  Action create(Context& ctx) {
    return Action{Action::Kind::create, ctx.new_trial(), sample(ctx.space, ctx.rng),
                  m_c.max_length};
  }
  // Ranked among the metrics before it that are not smaller (Determined's sort.Search >=).
  static size_t insert(std::vector<Ranked>& ms, int64_t t, double metric) {
    auto it = std::lower_bound(ms.begin(), ms.end(), metric,
                               [](const Ranked& x, double m) { return x.metric < m; });
    size_t at = size_t(it - ms.begin());
    ms.insert(it, Ranked{t, metric});
    return at;
  }
  std::vector<Action> early_stop(int64_t t, uint64_t units, double metric) {
    for (int64_t r = m_trial_rung[t]; r < m_n; ++r) {
      m_trial_rung[t] = r;
      if (units < m_units[size_t(r)])
        return {};
      size_t at = insert(m_rungs[size_t(r)], t, metric);
      if (r == m_n - 1)
        return {Action{Action::Kind::stop, t, nullptr, 0}};
      auto go_on = std::max<size_t>(size_t(double(m_rungs[size_t(r)].size()) / m_c.divisor), 1);
      if (at >= go_on)
        return {Action{Action::Kind::stop, t, nullptr, 0}};
    }
    return {};
  }

  SearcherConfig m_c;
  int64_t m_n;
  std::vector<uint64_t> m_units;
  std::vector<std::vector<Ranked>> m_rungs;
  std::map<int64_t, int64_t> m_trial_rung;
  std::set<int64_t> m_early_exit;
  int64_t m_completed = 0, m_invalid = 0;
};

}  // namespace

std::unique_ptr<Searcher> make_asha_stopping(const SearcherConfig& c, int64_t num_rungs) {
  return std::make_unique<AshaStopping>(c, num_rungs);
}

}  // namespace rh::search
