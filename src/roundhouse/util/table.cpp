#include "roundhouse/util/table.h"

#include <algorithm>

namespace rh {

namespace {

size_t display_width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80)
      ++w;
  }
  return w;
}

}  // namespace

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows, size_t header_pad) {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t i = 0; i < header.size(); ++i)
    widths[i] = display_width(header[i]) + header_pad;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], display_width(r[i]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size())
        out.append(widths[i] - display_width(cells[i]) + 2, ' ');
    }
    out += '\n';
  };
  line(header);
  for (const auto& r : rows)
    line(r);
  return out;
}

}  // namespace rh
