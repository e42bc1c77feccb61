// The io error for a failed system call on a path: "<what> <path>: <errno text>".
#pragma once

#include <cerrno>
#include <cstring>
#include <string>

#include "roundhouse/util/error.h"

namespace rh::data {

inline Error os_err(const std::string& what, const std::string& path) {
  return Error{ErrorCode::io, what + " " + path + ": " + std::strerror(errno)};
}

}  // namespace rh::data
