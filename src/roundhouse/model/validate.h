// Validation of names and values coming from outside (API bodies, CLI
// flags), with messages that say what is wrong and where.
#pragma once

#include <string>
#include <string_view>

#include "roundhouse/model/task.h"

namespace rh {

// Non-empty, at most `max` bytes, valid UTF-8, no control characters.
Status validate_name(std::string_view what, std::string_view value, size_t max = 256);
// A relative path with '/' between its parts (a name as validate_name
// checks it, at most 1 KiB): not absolute, no backslash, no empty, "." or
// ".." part. Errors begin with `what` and the path.
Status validate_relative_path(std::string_view what, std::string_view path);
// Artifact names are relative paths.
Status validate_artifact_name(std::string_view name);
Status validate_tag(std::string_view tag);
Status validate_text(std::string_view what, std::string_view value);
Status validate_new_task(const NewTask& t);
Status validate_hyperparameter(const Hyperparameter& h);
Status validate_scalar_series(const ScalarSeries& s);
// Idempotency keys: empty (none), or 1..128 printable ASCII characters.
Status validate_request_key(std::string_view key);

}  // namespace rh
