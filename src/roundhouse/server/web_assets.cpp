#include "roundhouse/server/web_assets.h"

namespace rh {

std::optional<std::string_view> web_asset(std::string_view path) {
  for (const auto& a : web_assets())
    if (a.path == path)
      return a.data;
  return std::nullopt;
}

}  // namespace rh
