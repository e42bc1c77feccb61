// The version reported by `rh --version` and GET /api/v1/health.
#pragma once

namespace rh {

inline constexpr const char* k_version = "0.1.0";

}  // namespace rh
