// Aligned text tables: each column as wide as its widest cell (counted in
// UTF-8 characters) or its header plus `header_pad`, columns two spaces
// apart, a line per row after the header's.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rh {

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, size_t header_pad = 0);

}  // namespace rh
