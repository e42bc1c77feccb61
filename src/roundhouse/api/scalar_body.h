// Decoding scalar ingest bodies (POST /api/v1/tasks/{id}/scalars).
//
// application/json (parsed with simdjson):
//   {"series": [{"title": "loss", "series": "train",
//                "iterations": [0, 1, ...], "values": [0.9, "NaN", ...],
//                "times": [1700000000.5, ...]}, ...]}      times optional
// application/x-rh-scalars (what the SDK sends; little-endian):
//   "RHS1" u32 series_count, then per series:
//   u16 title_len, title, u16 series_len, series, u32 n,
//   n x i64 iterations, n x f64 values, n x f64 times (0 = now)
// The format is written down in docs/api.md as well.
#pragma once

#include <string_view>
#include <vector>

#include "roundhouse/model/task.h"

namespace rh::api {

Result<std::vector<ScalarSeries>> parse_scalar_json(std::string_view body);
Result<std::vector<ScalarSeries>> parse_scalar_binary(std::string_view body);
// Encoder for the binary form (used by the CLI's `rh run` and tests).
std::string encode_scalar_binary(const std::vector<ScalarSeries>& batch);

}  // namespace rh::api
