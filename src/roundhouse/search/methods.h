// The searchers behind make_searcher(), one file each. Internal to search/.
#pragma once

#include <memory>

#include "roundhouse/search/searcher.h"

namespace rh::search {

std::unique_ptr<Searcher> make_grid(const SearcherConfig& c);
std::unique_ptr<Searcher> make_random(const SearcherConfig& c);  // single: max_trials 1
std::unique_ptr<Searcher> make_asha_stopping(const SearcherConfig& c, int64_t num_rungs);
std::unique_ptr<Searcher> make_asha_promotion(const SearcherConfig& c, int64_t num_rungs);
std::unique_ptr<Searcher> make_adaptive(const SearcherConfig& c);
std::unique_ptr<Searcher> make_test_run(const SearcherConfig& c);  // rh experiment create --test

}  // namespace rh::search
