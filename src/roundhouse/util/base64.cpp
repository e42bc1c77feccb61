#include "roundhouse/util/base64.h"

namespace rh {

std::string base64_encode(std::string_view bytes) {
  static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = unsigned(static_cast<unsigned char>(bytes[i])) << 16 |
                 unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                 unsigned(static_cast<unsigned char>(bytes[i + 2]));
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  size_t left = bytes.size() - i;
  if (left) {
    unsigned v = unsigned(static_cast<unsigned char>(bytes[i])) << 16;
    if (left == 2)
      v |= unsigned(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += left == 2 ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace rh
