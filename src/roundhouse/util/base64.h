// Base64 (RFC 4648, with padding): binary data inside text, such as an
// image in a data: URL.
#pragma once

#include <string>
#include <string_view>

namespace rh {

std::string base64_encode(std::string_view bytes);

}  // namespace rh
