#include "roundhouse/model/validate.h"

#include <cmath>

#include "roundhouse/util/strings.h"

namespace rh {

namespace {

Status bad(std::string message) {
  return make_error(ErrorCode::invalid_argument, std::move(message));
}

}  // namespace

Status validate_text(std::string_view what, std::string_view value) {
  size_t pos = first_invalid_utf8(value);
  if (pos != std::string_view::npos) {
    return bad(std::string(what) + " is not valid UTF-8 (first bad byte at offset " +
               std::to_string(pos) + ")");
  }
  return {};
}

Status validate_name(std::string_view what, std::string_view value, size_t max) {
  if (value.empty())
    return bad(std::string(what) + " must not be empty");
  if (value.size() > max) {
    return bad(std::string(what) + " is " + std::to_string(value.size()) +
               " bytes long; the limit is " + std::to_string(max));
  }
  RH_TRY(validate_text(what, value));
  for (size_t i = 0; i < value.size(); ++i) {
    auto c = static_cast<unsigned char>(value[i]);
    if (c < 0x20 || c == 0x7F) {
      return bad(std::string(what) + " contains a control character at offset " +
                 std::to_string(i));
    }
  }
  return {};
}

Status validate_relative_path(std::string_view what, std::string_view path) {
  RH_TRY(validate_name(what, path, 1024));
  std::string quoted = std::string(what) + " \"" + std::string(path) + "\"";
  if (path.front() == '/')
    return bad(quoted + " is an absolute path; use a relative one");
  if (path.find('\\') != std::string_view::npos)
    return bad(quoted + " contains a backslash");
  for (const auto& part : split(path, '/')) {
    if (part.empty() || part == "." || part == "..")
      return bad(quoted + " has an empty, \".\" or \"..\" path component");
  }
  return {};
}

Status validate_artifact_name(std::string_view name) {
  return validate_relative_path("artifact name", name);
}

Status validate_tag(std::string_view tag) {
  RH_TRY(validate_name("tag", tag, 128));
  if (tag.front() == '+' || tag.front() == '-') {
    return bad("tag \"" + std::string(tag) + "\" must not start with '+' or '-'");
  }
  return {};
}

Status validate_hyperparameter(const Hyperparameter& h) {
  RH_TRY(validate_name("hyperparameter section", h.section));
  RH_TRY(validate_name("hyperparameter name in section " + h.section, h.name, 512));
  RH_TRY(validate_text("value of hyperparameter " + h.section + "/" + h.name, h.value));
  RH_TRY(validate_text("type of hyperparameter " + h.section + "/" + h.name, h.type));
  RH_TRY(validate_text("description of hyperparameter " + h.section + "/" + h.name, h.description));
  return {};
}

Status validate_new_task(const NewTask& t) {
  RH_TRY(validate_name("project", t.project));
  RH_TRY(validate_name("task name", t.name, 1024));
  RH_TRY(validate_text("comment", t.comment));
  for (const auto& tag : t.tags)
    RH_TRY(validate_tag(tag));
  for (const auto& h : t.hyperparameters)
    RH_TRY(validate_hyperparameter(h));
  for (const auto& c : t.configurations) {
    RH_TRY(validate_name("configuration name", c.name));
    RH_TRY(validate_text("configuration " + c.name, c.value));
  }
  const Script& s = t.script;
  for (auto [what, v] :
       {std::pair<const char*, const std::string*>{"script.repository", &s.repository},
        {"script.branch", &s.branch},
        {"script.commit", &s.commit},
        {"script.diff", &s.diff},
        {"script.entry_point", &s.entry_point},
        {"script.working_dir", &s.working_dir},
        {"script.content", &s.content}}) {
    RH_TRY(validate_text(what, *v));
  }
  return {};
}

Status validate_request_key(std::string_view key) {
  if (key.size() > 128)
    return bad("request key is longer than 128 characters");
  for (char c : key) {
    if (c <= 0x20 || c > 0x7E)
      return bad("request key must be printable ASCII without spaces");
  }
  return {};
}

Status validate_scalar_series(const ScalarSeries& s) {
  RH_TRY(validate_name("scalar title", s.title, 512));
  RH_TRY(validate_name("scalar series of " + s.title, s.series, 512));
  if (s.steps.size() != s.values.size() ||
      (!s.times.empty() && s.times.size() != s.values.size())) {
    return bad("scalar " + s.title + "/" + s.series + ": iterations, values and times must have " +
               "the same length (got " + std::to_string(s.steps.size()) + ", " +
               std::to_string(s.values.size()) + ", " + std::to_string(s.times.size()) + ")");
  }
  for (size_t i = 0; i < s.times.size(); ++i) {
    if (!std::isfinite(s.times[i])) {
      return bad("scalar " + s.title + "/" + s.series + ": time at index " + std::to_string(i) +
                 " is not a finite number");
    }
  }
  return {};
}

}  // namespace rh
