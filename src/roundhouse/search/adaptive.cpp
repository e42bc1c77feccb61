#include "roundhouse/search/adaptive.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "roundhouse/search/methods.h"

namespace rh::search {

std::vector<int64_t> bracket_max_trials(int64_t max_trials, double divisor,
                                        const std::vector<int64_t>& bracket_rungs) {
  std::vector<double> weight;
  double total = 0;
  for (int64_t rungs : bracket_rungs) {
    weight.push_back(std::pow(divisor, double(rungs - 1)) / double(rungs));
    total += weight.back();
  }
  std::vector<int64_t> out;
  int64_t allocated = 0;
  for (double w : weight) {
    out.push_back(std::max<int64_t>(int64_t(w / total * double(max_trials)), 1));
    allocated += out.back();
  }
  if (!out.empty())
    out[0] += std::max<int64_t>(max_trials - allocated, 0);
  return out;
}

std::vector<int64_t> bracket_max_concurrent_trials(int64_t max_concurrent_trials, double divisor,
                                                   const std::vector<int64_t>& max_trials) {
  auto n = int64_t(max_trials.size());
  int64_t each, remainder = 0;
  if (max_concurrent_trials == 0) {
    each = std::max<int64_t>(max_trials.back(), int64_t(divisor));
  } else {
    max_concurrent_trials = std::max(max_concurrent_trials, n);
    each = max_concurrent_trials / n;
    remainder = max_concurrent_trials % n;
  }
  std::vector<int64_t> out(size_t(n), each);
  for (int64_t i = 0; i < remainder; ++i)
    ++out[size_t(i)];
  return out;
}

std::vector<Bracket> make_brackets(const SearcherConfig& c) {
  std::vector<int64_t> rungs = c.bracket_rungs;
  if (rungs.empty()) {
    int64_t max_rungs =
        std::min({c.max_rungs, int64_t(std::log(double(c.max_length)) / std::log(c.divisor)) + 1,
                  int64_t(std::log(double(c.max_trials)) / std::log(c.divisor)) + 1});
    if (c.mode == "aggressive") {
      rungs = {max_rungs};
    } else if (c.mode == "conservative") {
      for (int64_t i = 1; i <= max_rungs; ++i)
        rungs.push_back(i);
    } else {  // standard
      for (int64_t i = (max_rungs - 1) / 2 + 1; i <= max_rungs; ++i)
        rungs.push_back(i);
    }
  }
  std::sort(rungs.rbegin(), rungs.rend());
  auto trials = bracket_max_trials(c.max_trials, c.divisor, rungs);
  auto concurrent = bracket_max_concurrent_trials(c.max_concurrent_trials, c.divisor, trials);
  std::vector<Bracket> out;
  for (size_t i = 0; i < rungs.size(); ++i)
    out.push_back(Bracket{rungs[i], trials[i], concurrent[i]});
  return out;
}

namespace {

// Several searches in tandem; each event goes to the search that created the trial.
class Tournament final : public Searcher {
 public:
  explicit Tournament(std::vector<std::unique_ptr<Searcher>> subs) : m_subs(std::move(subs)) {}

  std::vector<Action> initial_trials(Context& ctx) override {
    std::vector<Action> out;
    for (size_t i = 0; i < m_subs.size(); ++i)
      append(out, i, m_subs[i]->initial_trials(ctx));
    return out;
  }
  std::vector<Action> trial_created(Context& ctx, int64_t t) override {
    return route(t, [&](Searcher& s) { return s.trial_created(ctx, t); });
  }
  std::vector<Action> validation(Context& ctx, int64_t t, uint64_t units, double metric) override {
    return route(t, [&](Searcher& s) { return s.validation(ctx, t, units, metric); });
  }
  std::vector<Action> trial_exited(Context& ctx, int64_t t) override {
    return route(t, [&](Searcher& s) { return s.trial_exited(ctx, t); });
  }
  std::vector<Action> trial_exited_early(Context& ctx, int64_t t, ExitReason why) override {
    return route(t, [&](Searcher& s) { return s.trial_exited_early(ctx, t, why); });
  }
  double progress() const override {
    double sum = 0;
    for (const auto& s : m_subs)
      sum += s->progress();
    return m_subs.empty() ? 1.0 : sum / double(m_subs.size());
  }
  Json snapshot() const override {
    Json subs = Json::array();
    for (const auto& s : m_subs)
      subs.push_back(s->snapshot());
    Json table = Json::object();
    for (const auto& [t, i] : m_owner)
      table[std::to_string(t)] = i;
    return Json{{"trial_table", table}, {"subs", subs}};
  }
  Status restore(const Json& s) override {
    m_owner.clear();
    for (const auto& [k, v] : s.at("trial_table").items())
      m_owner[std::stoll(k)] = v.get<size_t>();
    const Json& subs = s.at("subs");
    if (subs.size() != m_subs.size())
      return make_error(ErrorCode::corrupt, "the saved search has a different number of brackets");
    for (size_t i = 0; i < m_subs.size(); ++i)
      RH_TRY(m_subs[i]->restore(subs[i]));
    return {};
  }

 private:
  void append(std::vector<Action>& out, size_t sub, std::vector<Action> actions) {
    for (auto& a : actions) {
      if (a.kind == Action::Kind::create)
        m_owner[a.trial] = sub;
      out.push_back(std::move(a));
    }
  }
  template <class Fn>
  std::vector<Action> route(int64_t t, Fn&& fn) {
    auto it = m_owner.find(t);
    if (it == m_owner.end())
      return {};
    std::vector<Action> out;
    append(out, it->second, fn(*m_subs[it->second]));
    return out;
  }
  std::vector<std::unique_ptr<Searcher>> m_subs;
  std::map<int64_t, size_t> m_owner;
};

}  // namespace

std::unique_ptr<Searcher> make_adaptive(const SearcherConfig& c) {
  std::vector<std::unique_ptr<Searcher>> subs;
  for (const auto& b : make_brackets(c)) {
    SearcherConfig sub = c;
    sub.max_trials = b.max_trials;
    sub.max_concurrent_trials = b.max_concurrent_trials;
    subs.push_back(c.stop_once ? make_asha_stopping(sub, b.num_rungs)
                               : make_asha_promotion(sub, b.num_rungs));
  }
  return std::make_unique<Tournament>(std::move(subs));
}

}  // namespace rh::search
