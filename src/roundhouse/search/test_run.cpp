// The searcher behind `rh experiment create --test` on agents ("test_run",
// not a config's choice): one trial of one sample trained to length 1,
// then on to length 2, so it checkpoints, pauses, is queued again and
// restores its checkpoint on an agent, as a search's trials do; then it is
// stopped.
#include "roundhouse/search/methods.h"

namespace rh::search {

namespace {

class TestRun final : public Searcher {
 public:
  std::vector<Action> initial_trials(Context& ctx) override {
    m_trial = ctx.new_trial();
    return {Action{Action::Kind::create, m_trial, sample(ctx.space, ctx.rng), 1}};
  }
  std::vector<Action> trial_created(Context&, int64_t) override { return {}; }
  std::vector<Action> validation(Context&, int64_t t, uint64_t units, double) override {
    if (units >= 2 && m_stage < 2) {
      m_stage = 2;
      return {Action{Action::Kind::stop, t, nullptr, 0}};
    }
    if (units >= 1 && m_stage < 1) {
      m_stage = 1;
      return {Action{Action::Kind::train, t, nullptr, 2}};
    }
    return {};
  }
  std::vector<Action> trial_exited(Context&, int64_t) override {
    m_done = true;
    return {};
  }
  std::vector<Action> trial_exited_early(Context&, int64_t, ExitReason) override {
    m_done = true;
    return {};
  }
  double progress() const override { return m_done ? 1.0 : 0.5 * m_stage; }
  Json snapshot() const override {
    return Json{{"trial", m_trial}, {"stage", m_stage}, {"done", m_done}};
  }
  Status restore(const Json& s) override {
    m_trial = s.at("trial").get<int64_t>();
    m_stage = s.at("stage").get<int>();
    m_done = s.at("done").get<bool>();
    return {};
  }

 private:
  int64_t m_trial = 0;
  int m_stage = 0;
  bool m_done = false;
};

}  // namespace

std::unique_ptr<Searcher> make_test_run(const SearcherConfig&) {
  return std::make_unique<TestRun>();
}

}  // namespace rh::search
