// The one HTML file `rh plots show|diff` writes: the report (plots.h) as
// JSON in <script type="application/json" id="rh-plots">, and the page's
// script and stylesheet (web/src/report, embedded in the binary) inlined,
// so it opens from disk with no network. Nothing in the report can end the
// script element early: every '<' in the JSON is written as \u003c, and
// "</script"/"</style" in the inlined code as "<\/script"/"<\/style".
#pragma once

#include <string>
#include <string_view>

#include "roundhouse/util/json.h"

namespace rh::pipeline {

std::string plots_page_html(const Json& report, std::string_view script, std::string_view style);

}  // namespace rh::pipeline
