// Error values and Result<T>: how every layer reports an expected failure.
//
// Low layers return Result<T> (std::expected<T, Error>); the API layer maps
// Error::code to an HTTP status through one table (http_status_for() in
// api/http.cpp), the CLI
// prints the message and exits non-zero. Assertions are kept for internal
// invariants only, never for anything a user can reach.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace rh {

enum class ErrorCode {
  invalid_argument,  // malformed input: wrong type, bad value, missing field
  not_found,         // the named object does not exist
  already_exists,    // a create that collides with an existing object
  conflict,          // the object's state forbids the change (e.g. status transition)
  ambiguous,         // an ID prefix matches more than one object
  too_large,         // a body or value over a configured limit
  unauthorized,      // missing or wrong credentials
  corrupt,           // stored or received data failed a check (digest, CRC)
  io,                // the operating system refused (disk, network)
  unavailable,       // a remote service is unreachable or shutting down
  internal,          // a bug or an unexpected library failure
};

// The snake_case name used on the wire: {"error":{"code":"not_found",...}}.
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;

  // "code: message", for logs and the CLI.
  std::string to_string() const;
};

template <class T>
using Result = std::expected<T, Error>;

// Result<void> is spelled Status for readability.
using Status = std::expected<void, Error>;

inline std::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

inline std::unexpected<Error> make_error(Error e) {
  return std::unexpected<Error>(std::move(e));
}

// The outcome of r without its value: for a Result whose value is not needed.
template <class T>
Status status_of(const Result<T>& r) {
  if (!r)
    return std::unexpected(r.error());
  return {};
}

}  // namespace rh

// Propagates the error of a Result-returning expression; yields its value otherwise.
// RH_TRY_ASSIGN expands to several statements: always brace the body of an if/for around it,
// and keep each invocation on one line (it names a temporary after __LINE__).
#define RH_CONCAT_INNER(a, b) a##b
#define RH_CONCAT(a, b) RH_CONCAT_INNER(a, b)
#define RH_TRY_IMPL(var, lhs, expr)                   \
  auto var = (expr);                                  \
  if (!var)                                           \
    return ::std::unexpected(std::move(var).error()); \
  lhs = std::move(*var)
#define RH_TRY_ASSIGN(lhs, expr) RH_TRY_IMPL(RH_CONCAT(rh_try_, __LINE__), lhs, expr)
#define RH_TRY_CHECK(var, expr)                         \
  do {                                                  \
    auto var = (expr);                                  \
    if (!var)                                           \
      return ::std::unexpected(std::move(var).error()); \
  } while (0)
#define RH_TRY(expr) RH_TRY_CHECK(RH_CONCAT(rh_try_status_, __COUNTER__), expr)
