// Grid search (Determined's): every point of the grid, a trial each, at most
// max_concurrent_trials at once; points are taken from the end of the list.
#include <algorithm>

#include "roundhouse/search/methods.h"

namespace rh::search {

namespace {

class Grid final : public Searcher {
 public:
  explicit Grid(const SearcherConfig& c) : m_c(c) {}

  std::vector<Action> initial_trials(Context& ctx) override {
    m_remaining = grid(ctx.space);
    auto n = static_cast<int64_t>(m_remaining.size());
    if (m_c.max_concurrent_trials > 0)
      n = std::min(n, m_c.max_concurrent_trials);
    std::vector<Action> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(next(ctx));
    return out;
  }
  std::vector<Action> trial_created(Context&, int64_t) override { return {}; }
  std::vector<Action> validation(Context&, int64_t, uint64_t, double) override { return {}; }
  std::vector<Action> trial_exited(Context& ctx, int64_t) override {
    --m_pending;
    ++m_done;
    if (m_remaining.empty())
      return {};
    return {next(ctx)};
  }
  std::vector<Action> trial_exited_early(Context& ctx, int64_t t, ExitReason) override {
    return trial_exited(ctx, t);  // a grid point is tried once, whatever happened to it
  }
  double progress() const override {
    double total = double(m_done + m_pending) + double(m_remaining.size());
    return total > 0 ? double(m_done) / total : 1.0;
  }
  Json snapshot() const override {
    return Json{{"remaining", m_remaining}, {"pending", m_pending}, {"done", m_done}};
  }
  Status restore(const Json& s) override {
    m_remaining = s.at("remaining").get<std::vector<Json>>();
    m_pending = s.at("pending").get<int64_t>();
    m_done = s.at("done").get<int64_t>();
    return {};
  }

 private:
  Action next(Context& ctx) {
    Action a{Action::Kind::create, ctx.new_trial(), std::move(m_remaining.back()), m_c.max_length};
    m_remaining.pop_back();
    ++m_pending;
    return a;
  }
  SearcherConfig m_c;
  std::vector<Json> m_remaining;
  int64_t m_pending = 0, m_done = 0;
};

}  // namespace

std::unique_ptr<Searcher> make_grid(const SearcherConfig& c) {
  return std::make_unique<Grid>(c);
}

}  // namespace rh::search
