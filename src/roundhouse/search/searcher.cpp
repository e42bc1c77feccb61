#include "roundhouse/search/searcher.h"

#include "roundhouse/search/methods.h"

namespace rh::search {

namespace {

Error bad(const std::string& key, const std::string& what) {
  return Error{ErrorCode::invalid_argument, "searcher." + key + " " + what};
}

Status check(const SearcherConfig& c) {
  const std::string& n = c.name;
  if (n != "single" && n != "random" && n != "grid" && n != "async_halving" &&
      n != "adaptive_asha") {
    return std::unexpected(bad("name",
                               "must be one of single, random, grid, async_halving, "
                               "adaptive_asha; got \"" +
                                   n + "\""));
  }
  if (c.max_concurrent_trials < 0)
    return std::unexpected(bad("max_concurrent_trials", "must be 0 or more"));
  if ((n == "random" || n == "async_halving" || n == "adaptive_asha") && c.max_trials < 1)
    return std::unexpected(bad("max_trials", "must be at least 1"));
  if (n == "async_halving" || n == "adaptive_asha") {
    if (c.metric.empty())
      return std::unexpected(bad("metric", "is required: the validation metric to rank trials by"));
    if (c.max_length < 1)
      return std::unexpected(bad("max_length", "must be at least 1"));
    if (!(c.divisor > 1))
      return std::unexpected(bad("divisor", "must be greater than 1"));
  }
  if (n == "async_halving" && c.num_rungs < 1)
    return std::unexpected(bad("num_rungs", "must be at least 1"));
  if (n == "adaptive_asha") {
    if (c.max_rungs < 1)
      return std::unexpected(bad("max_rungs", "must be at least 1"));
    if (c.bracket_rungs.empty() && c.mode != "aggressive" && c.mode != "standard" &&
        c.mode != "conservative") {
      return std::unexpected(
          bad("mode", "must be aggressive, standard or conservative; got \"" + c.mode + "\""));
    }
    for (int64_t r : c.bracket_rungs) {
      if (r < 1)
        return std::unexpected(bad("bracket_rungs", "must list numbers of rungs of at least 1"));
    }
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Searcher>> make_searcher(const SearcherConfig& config) {
  if (config.name == "test_run")
    return make_test_run(config);
  RH_TRY(check(config));
  SearcherConfig c = config;
  if (c.name == "single") {
    c.max_trials = 1;
    c.max_concurrent_trials = 1;
    return make_random(c);
  }
  if (c.name == "random")
    return make_random(c);
  if (c.name == "grid")
    return make_grid(c);
  if (c.name == "async_halving") {
    return c.stop_once ? make_asha_stopping(c, c.num_rungs) : make_asha_promotion(c, c.num_rungs);
  }
  return make_adaptive(c);
}

Result<Search> Search::start(const SearcherConfig& config, Space space, uint64_t seed) {
  if (config.name == "grid") {
    RH_TRY(check_grid(space));
  }
  RH_TRY_ASSIGN(auto s, make_searcher(config));
  return Search(std::move(s), Context{std::move(space), Rng(seed), 1});
}

Result<Search> Search::restore(const SearcherConfig& config, Space space, const Json& state) {
  RH_TRY_ASSIGN(auto s, make_searcher(config));
  Context ctx{std::move(space), Rng(0), 1};
  try {
    RH_TRY(ctx.rng.load(state.at("rng").get<std::string>()));
    ctx.next_trial = state.at("next_trial").get<int64_t>();
    RH_TRY(s->restore(state.at("searcher")));
  } catch (const Json::exception& e) {
    return make_error(ErrorCode::corrupt,
                      std::string("the saved search state is damaged: ") + e.what());
  }
  return Search(std::move(s), std::move(ctx));
}

Json Search::snapshot() const {
  return Json{{"searcher", m_searcher->snapshot()},
              {"rng", m_ctx.rng.save()},
              {"next_trial", m_ctx.next_trial}};
}

}  // namespace rh::search
