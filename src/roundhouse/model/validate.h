// Validation of names and values coming from outside (API bodies, CLI
// flags), with messages that say what is wrong and where.
#pragma once

#include <string>
#include <string_view>

#include "roundhouse/model/task.h"

namespace rh {

// Non-empty, at most `max` bytes, valid UTF-8, no control characters.
Status validate_name(std::string_view what, std::string_view value, size_t max = 256);
// Artifact names are relative paths: no "..", no leading "/", no empty parts,
// no NUL/control characters.
Status validate_artifact_name(std::string_view name);
Status validate_tag(std::string_view tag);
Status validate_text(std::string_view what, std::string_view value);
Status validate_new_task(const NewTask& t);
Status validate_hyperparameter(const Hyperparameter& h);
Status validate_scalar_series(const ScalarSeries& s);
// Idempotency keys: empty (none), or 1..128 printable ASCII characters.
Status validate_request_key(std::string_view key);

}  // namespace rh
