// Random search (Determined's): max_trials samples, at most
// max_concurrent_trials at once, a new one as each ends; a trial that
// exits with an invalid-hyperparameters report does not count against
// max_trials and is replaced. `single` is one trial of one sample.
#include <algorithm>

#include "roundhouse/search/methods.h"

namespace rh::search {

namespace {

class Random final : public Searcher {
 public:
  explicit Random(const SearcherConfig& c) : m_c(c) {}

  std::vector<Action> initial_trials(Context& ctx) override {
    int64_t n = m_c.max_trials;
    if (m_c.max_concurrent_trials > 0)
      n = std::min(n, m_c.max_concurrent_trials);
    std::vector<Action> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(create(ctx));
    return out;
  }
  std::vector<Action> trial_created(Context&, int64_t) override { return {}; }
  std::vector<Action> validation(Context&, int64_t, uint64_t, double) override { return {}; }
  std::vector<Action> trial_exited(Context& ctx, int64_t) override {
    --m_pending;
    ++m_done;
    if (m_created < m_c.max_trials)
      return {create(ctx)};
    return {};
  }
  std::vector<Action> trial_exited_early(Context& ctx, int64_t t, ExitReason why) override {
    if (why == ExitReason::invalid_hp && m_c.max_trials > 1) {
      --m_created;  // replaced, not counted
      --m_done;
    }
    return trial_exited(ctx, t);
  }
  double progress() const override {
    return m_c.max_trials > 0 ? std::min(1.0, double(m_done) / double(m_c.max_trials)) : 1.0;
  }
  Json snapshot() const override {
    return Json{{"created", m_created}, {"pending", m_pending}, {"done", m_done}};
  }
  Status restore(const Json& s) override {
    m_created = s.at("created").get<int64_t>();
    m_pending = s.at("pending").get<int64_t>();
    m_done = s.at("done").get<int64_t>();
    return {};
  }

 private:
  Action create(Context& ctx) {
    ++m_created;
    ++m_pending;
    return Action{Action::Kind::create, ctx.new_trial(), sample(ctx.space, ctx.rng),
                  m_c.max_length};
  }
  SearcherConfig m_c;
  int64_t m_created = 0, m_pending = 0, m_done = 0;
};

}  // namespace

std::unique_ptr<Searcher> make_random(const SearcherConfig& c) {
  return std::make_unique<Random>(c);
}

}  // namespace rh::search
