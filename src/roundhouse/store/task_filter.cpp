// Text form of task filters, shared by the REST API, its client and the CLI.
#include <array>

#include "roundhouse/store/metadata_store.h"

namespace rh {

Result<TaskFilter> parse_task_filter(std::string_view text) {
  TaskFilter f;
  std::string_view rest;
  if (text.starts_with("param:")) {
    f.kind = TaskFilter::Kind::param;
    rest = text.substr(6);
  } else if (text.starts_with("metric:")) {
    f.kind = TaskFilter::Kind::metric;
    rest = text.substr(7);
  } else {
    return make_error(ErrorCode::invalid_argument,
                      "filter \"" + std::string(text) +
                          "\" must start with param: or metric: (e.g. param:General/lr>=0.01)");
  }
  // The first operator character ends the name; two-character operators first.
  size_t at = rest.find_first_of("=!<>~");
  if (at == std::string_view::npos) {
    return make_error(
        ErrorCode::invalid_argument,
        "filter \"" + std::string(text) + "\" has no operator (=, !=, <, <=, >, >=, ~)");
  }
  static constexpr std::array<std::string_view, 7> ops{">=", "<=", "!=", "=", "<", ">", "~"};
  std::string_view op;
  for (auto o : ops) {
    if (rest.substr(at).starts_with(o)) {
      op = o;
      break;
    }
  }
  if (op.empty()) {
    return make_error(
        ErrorCode::invalid_argument,
        "filter \"" + std::string(text) + "\" has no operator (=, !=, <, <=, >, >=, ~)");
  }
  std::string_view name = rest.substr(0, at);
  size_t slash = name.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == name.size()) {
    return make_error(
        ErrorCode::invalid_argument,
        "filter \"" + std::string(text) + "\" must name " +
            (f.kind == TaskFilter::Kind::param ? "<section>/<name>" : "<title>/<series>"));
  }
  f.group = std::string(name.substr(0, slash));
  f.key = std::string(name.substr(slash + 1));
  f.op = std::string(op);
  f.value = std::string(rest.substr(at + op.size()));
  if (f.kind == TaskFilter::Kind::metric && f.op != "~") {
    char* end = nullptr;
    std::string v = f.value;
    std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size()) {
      return make_error(ErrorCode::invalid_argument,
                        "filter \"" + std::string(text) + "\": a metric is compared with a number");
    }
  }
  if (f.kind == TaskFilter::Kind::metric && f.op == "~") {
    return make_error(ErrorCode::invalid_argument, "filter \"" + std::string(text) +
                                                       "\": ~ (contains) works on parameters only");
  }
  return f;
}

std::string to_string(const TaskFilter& f) {
  return std::string(f.kind == TaskFilter::Kind::param ? "param:" : "metric:") + f.group + "/" +
         f.key + f.op + f.value;
}

}  // namespace rh
