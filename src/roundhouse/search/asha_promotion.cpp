// Promotion-based ASHA (Determined 0.37's async halving), with pauses: a
// trial trains to its rung's length and validates there; it goes on to the
// next rung when it is in the top 1/divisor of its rung, else it is paused
// (checkpointed, its agent freed) and may be promoted and resumed later as
// other trials rank below it. Rung lengths are absolute, as in the ASHA
// paper and Determined 0.38 (max_length / divisor^(n-1-i)): 0.37 summed them,
// so a top trial trained past max_length; here a resumed trial goes on from
// its checkpoint to the next rung's length. When every trial has been
// ranked in rung 0 and no trial is still on its way to a rung, the trials
// that were never promoted are stopped. Validations before a trial's target
// are not ranked.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <map>
#include <set>

#include "roundhouse/search/methods.h"
#include "roundhouse/search/rungs.h"
#include "roundhouse/search/tpe.h"

namespace rh::search {

namespace {

struct Ranked {
  int64_t trial;
  double metric;
  bool promoted;
};

struct Rung {
  uint64_t units = 0;
  std::vector<Ranked> metrics;  // ascending
  int64_t outstanding = 0;      // trials training towards this rung
};

class AshaPromotion final : public Searcher {
 public:
  AshaPromotion(const SearcherConfig& c, int64_t num_rungs) : m_c(c), m_n(num_rungs) {
    for (uint64_t units : rung_lengths(num_rungs, c.divisor, c.max_length))
      m_rungs.push_back(Rung{units, {}, 0});
  }

  std::vector<Action> initial_trials(Context& ctx) override {
    int64_t n = asha_initial_trials(m_c, m_n);
    std::vector<Action> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(create(ctx));
    return out;
  }
  std::vector<Action> trial_created(Context&, int64_t t) override {
    ++m_rungs[0].outstanding;
    m_trial_rung[t] = 0;
    return {};
  }
  std::vector<Action> validation(Context& ctx, int64_t t, uint64_t units, double metric) override {
    auto it = m_trial_rung.find(t);
    if (it == m_trial_rung.end() || m_closed.count(t) || m_ranked_at.count(t) ||
        units < m_rungs[size_t(it->second)].units)
      return {};  // not at its target yet (or already ranked there)
    --m_pending;
    if (!m_c.smaller_is_better)
      metric = -metric;
    return promote(ctx, t, metric);
  }
  std::vector<Action> trial_exited(Context&, int64_t t) override {
    ++m_completed;
    m_closed.insert(t);
    return {};
  }
  std::vector<Action> trial_exited_early(Context& ctx, int64_t t, ExitReason why) override {
    --m_pending;
    ++m_completed;
    if (why == ExitReason::invalid_hp) {
      m_early_exit.insert(t);
      m_closed.insert(t);
      ++m_invalid;
      int64_t highest = m_trial_rung[t];
      --m_rungs[size_t(highest)].outstanding;
      for (int64_t r = 0; r <= highest; ++r) {
        auto& ms = m_rungs[size_t(r)].metrics;
        auto f = std::find_if(ms.begin(), ms.end(), [&](const Ranked& x) { return x.trial == t; });
        if (f != ms.end())
          ms.erase(f);
      }
      return {create(ctx)};
    }
    m_early_exit.insert(t);
    m_closed.insert(t);
    return promote(ctx, t, DBL_MAX);
  }
  double progress() const override {
    double all = double(m_rungs[0].metrics.size());
    double p = all / (1.2 * double(m_c.max_trials));
    if (int64_t(all) == m_c.max_trials)
      p = std::max(p, double(m_completed - m_invalid) / double(m_c.max_trials));
    return std::min(p, 1.0);
  }
  Json snapshot() const override {
    Json rungs = Json::array();
    for (const auto& r : m_rungs) {
      Json ms = Json::array();
      for (const auto& m : r.metrics) {
        ms.push_back(Json::array(
            {m.trial, m.metric == DBL_MAX ? Json("exited") : Json(m.metric), m.promoted}));
      }
      rungs.push_back(Json{{"metrics", ms}, {"outstanding", r.outstanding}});
    }
    Json tr = Json::object();
    for (const auto& [t, r] : m_trial_rung)
      tr[std::to_string(t)] = r;
    return Json{{"rungs", rungs},       {"trial_rungs", tr},        {"early_exit", m_early_exit},
                {"closed", m_closed},   {"ranked_at", m_ranked_at}, {"completed", m_completed},
                {"invalid", m_invalid}, {"pending", m_pending},     {"hparams", hparams_json()}};
  }
  Json hparams_json() const {
    Json h = Json::object();
    for (const auto& [t, v] : m_hparams)
      h[std::to_string(t)] = v;
    return h;
  }
  Status restore(const Json& s) override {
    const Json& rungs = s.at("rungs");
    for (size_t i = 0; i < m_rungs.size() && i < rungs.size(); ++i) {
      m_rungs[i].metrics.clear();
      for (const auto& m : rungs[i].at("metrics")) {
        m_rungs[i].metrics.push_back({m[0].get<int64_t>(),
                                      m[1].is_string() ? DBL_MAX : m[1].get<double>(),
                                      m[2].get<bool>()});
      }
      m_rungs[i].outstanding = rungs[i].at("outstanding").get<int64_t>();
    }
    m_trial_rung.clear();
    for (const auto& [k, v] : s.at("trial_rungs").items())
      m_trial_rung[std::stoll(k)] = v.get<int64_t>();
    m_early_exit = s.at("early_exit").get<std::set<int64_t>>();
    m_closed = s.at("closed").get<std::set<int64_t>>();
    m_ranked_at = s.at("ranked_at").get<std::set<int64_t>>();
    m_completed = s.at("completed").get<int64_t>();
    m_invalid = s.at("invalid").get<int64_t>();
    m_pending = s.at("pending").get<int64_t>();
    m_hparams.clear();
    if (s.contains("hparams")) {
      for (const auto& [k, v] : s.at("hparams").items())
        m_hparams[std::stoll(k)] = v;
    }
    return {};
  }

 private:
  int64_t all_trials() const { return int64_t(m_trial_rung.size()) - m_invalid; }

  Action create(Context& ctx) {
    int64_t t = ctx.new_trial();
    m_trial_rung[t] = 0;
    ++m_pending;
    Json hp = m_c.sampler == "local" ? local_sample(ctx)
              : m_c.sampler == "tpe" ? tpe_sample(ctx.space, observations(), ctx.rng)
                                     : sample(ctx.space, ctx.rng);
    if (m_c.sampler != "random")
      m_hparams[t] = hp;
    return Action{Action::Kind::create, t, std::move(hp), m_rungs[0].units};
  }

  // sampler: local. A perturbation of a leader of the highest rung that has
  // ranked at least `divisor` trials, half the time; else a random sample.
  Json local_sample(Context& ctx) {
    bool explore = ctx.rng.uniform(0.0, 1.0) < 0.5;
    for (size_t r = m_rungs.size(); r-- > 0 && !explore;) {
      std::vector<int64_t> ranked;
      for (const auto& m : m_rungs[r].metrics) {
        if (m.metric != DBL_MAX && m_hparams.count(m.trial))
          ranked.push_back(m.trial);  // ascending: the best first
      }
      if (double(ranked.size()) < m_c.divisor)
        continue;
      size_t top = std::max<size_t>(1, size_t(double(ranked.size()) / m_c.divisor));
      int64_t parent = ranked[size_t(ctx.rng.uniform_int(0, int64_t(top) - 1))];
      return perturb(ctx.space, m_hparams[parent], ctx.rng);
    }
    return sample(ctx.space, ctx.rng);
  }

  // sampler: tpe. Every ranked trial, ordered as the search ranks them: a
  // trial ranked in a higher rung before any of a lower one, then by its
  // metric there (a trial that exited early last in its rung).
  std::vector<Observation> observations() const {
    std::map<int64_t, std::pair<size_t, double>> at;  // trial -> (highest rung, metric)
    for (size_t r = 0; r < m_rungs.size(); ++r) {
      for (const auto& m : m_rungs[r].metrics)
        at[m.trial] = {r, m.metric};
    }
    std::vector<std::pair<std::pair<size_t, double>, int64_t>> order;
    for (const auto& [t, key] : at) {
      if (m_hparams.count(t))
        order.push_back({key, t});
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      if (a.first.first != b.first.first)
        return a.first.first > b.first.first;
      return a.first.second < b.first.second;
    });
    std::vector<Observation> out;
    for (size_t i = 0; i < order.size(); ++i)
      out.push_back(Observation{m_hparams.at(order[i].second), double(i)});
    return out;
  }

  // Ranks `metric` in the rung (after equal ones, as Determined's sort.Search
  // with >) and returns who is promoted by it: the trial itself when it is in
  // the top 1/divisor, or the best not yet promoted when the count grew.
  static std::vector<int64_t> promotions(Rung& r, int64_t t, double metric, double divisor) {
    auto old_n = size_t(double(r.metrics.size()) / divisor);
    auto new_n = size_t(double(r.metrics.size() + 1) / divisor);
    auto it = std::upper_bound(r.metrics.begin(), r.metrics.end(), metric,
                               [](double m, const Ranked& x) { return m < x.metric; });
    size_t at = size_t(it - r.metrics.begin());
    bool now = at < new_n;
    r.metrics.insert(it, Ranked{t, metric, now});
    if (now)
      return {t};
    if (new_n != old_n && !r.metrics[old_n].promoted) {
      r.metrics[old_n].promoted = true;
      return {r.metrics[old_n].trial};
    }
    return {};
  }

  std::vector<Action> promote(Context& ctx, int64_t t, double metric) {
    int64_t ri = m_trial_rung[t];
    Rung& rung = m_rungs[size_t(ri)];
    --rung.outstanding;
    bool added = false;
    std::vector<Action> out;
    if (ri == m_n - 1) {
      rung.metrics.push_back(Ranked{t, metric, false});
      if (!m_early_exit.count(t)) {
        out.push_back(Action{Action::Kind::stop, t, nullptr, 0});
        m_closed.insert(t);
      }
    } else {
      Rung& next = m_rungs[size_t(ri + 1)];
      bool self = false;
      for (int64_t p : promotions(rung, t, metric, m_c.divisor)) {
        m_trial_rung[p] = ri + 1;
        m_ranked_at.erase(p);
        ++next.outstanding;
        if (m_early_exit.count(p))
          return promote(ctx, p, DBL_MAX);
        out.push_back(Action{Action::Kind::train, p, nullptr, next.units});
        added = true;
        ++m_pending;
        self = self || p == t;
      }
      if (!self && !m_early_exit.count(t)) {
        out.push_back(Action{Action::Kind::pause, t, nullptr, 0});
        m_ranked_at.insert(t);  // waits, ranked, for a promotion
      }
    }
    if (!added && all_trials() < m_c.max_trials)
      out.push_back(create(ctx));
    if (int64_t(m_rungs[0].metrics.size()) == m_c.max_trials) {
      for (const auto& r : m_rungs) {
        if (r.outstanding > 0)
          break;
        for (const auto& m : r.metrics) {
          if (!m.promoted && !m_closed.count(m.trial) && !m_early_exit.count(m.trial)) {
            out.push_back(Action{Action::Kind::stop, m.trial, nullptr, 0});
            m_closed.insert(m.trial);
          }
        }
      }
    }
    return out;
  }

  SearcherConfig m_c;
  int64_t m_n;
  std::vector<Rung> m_rungs;
  std::map<int64_t, int64_t> m_trial_rung;
  std::set<int64_t> m_early_exit, m_closed, m_ranked_at;
  std::map<int64_t, Json> m_hparams;  // sampler local or tpe: each trial's values
  int64_t m_completed = 0, m_invalid = 0, m_pending = 0;
};

}  // namespace

std::unique_ptr<Searcher> make_asha_promotion(const SearcherConfig& c, int64_t num_rungs) {
  return std::make_unique<AshaPromotion>(c, num_rungs);
}

}  // namespace rh::search
