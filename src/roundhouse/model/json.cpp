#include "roundhouse/model/json.h"

#include <nlohmann/json.hpp>

namespace rh {

Json string_map_to_json(const std::map<std::string, std::string>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m)
    j[k] = v;
  return j;
}

namespace {

Json configurations_to_json(const std::vector<Configuration>& configs) {
  Json out = Json::object();
  for (const auto& c : configs)
    out[c.name] = Json{{"value", c.value}, {"description", c.description}};
  return out;
}

}  // namespace

Json to_json(const Script& s) {
  return Json{{"repository", s.repository},   {"branch", s.branch},
              {"commit", s.commit},           {"diff", s.diff},
              {"entry_point", s.entry_point}, {"working_dir", s.working_dir},
              {"content", s.content},         {"argv", s.argv}};
}

Json to_json(const Environment& e) {
  return Json{{"interpreter", e.interpreter},
              {"os", e.os},
              {"host", e.host},
              {"requirements", e.requirements},
              {"freeze", e.freeze}};
}

Json to_json(const Hyperparameter& h) {
  return Json{{"section", h.section},
              {"name", h.name},
              {"value", h.value},
              {"type", h.type},
              {"description", h.description}};
}

Json to_json(const Configuration& c) {
  return Json{{"name", c.name}, {"value", c.value}, {"description", c.description}};
}

Json hyperparameters_to_json(const std::vector<Hyperparameter>& params) {
  Json j = Json::object();
  for (const auto& h : params) {
    j[h.section][h.name] =
        Json{{"value", h.value}, {"type", h.type}, {"description", h.description}};
  }
  return j;
}

Json to_json(const Task& t, bool full) {
  Json j{{"id", t.id},
         {"project", t.project},
         {"name", t.name},
         {"type", to_string(t.type)},
         {"status", to_string(t.status)},
         {"status_message", t.status_message},
         {"comment", t.comment},
         {"tags", t.tags},
         {"parent", t.parent},
         {"created", t.created},
         {"started", t.started},
         {"completed", t.completed},
         {"last_update", t.last_update},
         {"runtime", string_map_to_json(t.runtime)}};
  Json script = to_json(t.script);
  Json env = to_json(t.environment);
  if (full) {
    j["hyperparameters"] = hyperparameters_to_json(t.hyperparameters);
    j["configurations"] = configurations_to_json(t.configurations);
  } else {
    script.erase("diff");
    script.erase("content");
    env.erase("freeze");
    env.erase("requirements");
    if (!t.hyperparameters.empty())  // the columns a listing asked for
      j["hyperparameters"] = hyperparameters_to_json(t.hyperparameters);
  }
  if (!t.metrics.empty()) {
    Json m = Json::array();
    for (const auto& s : t.metrics)
      m.push_back(to_json(s));
    j["metrics"] = std::move(m);
  }
  j["script"] = std::move(script);
  j["environment"] = std::move(env);
  return j;
}

Json to_json(const NewTask& t) {
  return Json{{"project", t.project},
              {"name", t.name},
              {"type", to_string(t.type)},
              {"comment", t.comment},
              {"tags", t.tags},
              {"parent", t.parent},
              {"script", to_json(t.script)},
              {"environment", to_json(t.environment)},
              {"hyperparameters", hyperparameters_to_json(t.hyperparameters)},
              {"configurations", configurations_to_json(t.configurations)}};
}

Json to_json(const Project& p) {
  return Json{{"id", p.id},
              {"name", p.name},
              {"description", p.description},
              {"created", p.created},
              {"task_count", p.task_count}};
}

Json to_json(const SeriesSummary& s) {
  return Json{{"title", s.title},
              {"series", s.series},
              {"count", s.count},
              {"last_iteration", s.last_step},
              {"last_value", double_to_json(s.last_value)},
              {"last_time", s.last_time},
              {"min_value", double_to_json(s.min_value)},
              {"max_value", double_to_json(s.max_value)}};
}

Json to_json(const ConsoleLine& l) {
  return Json{{"seq", l.seq},
              {"time", l.time},
              {"stream", l.stream == ConsoleStream::stderr_stream ? "stderr" : "stdout"},
              {"text", l.text}};
}

Json to_json(const Artifact& a) {
  return Json{{"name", a.name},
              {"digest", a.digest},
              {"size", a.size},
              {"type", a.type},
              {"content_type", a.content_type},
              {"metadata", string_map_to_json(a.metadata)},
              {"members", a.members},
              {"created", a.created}};
}

Json to_json(const Model& m) {
  return Json{{"id", m.id},
              {"task_id", m.task_id},
              {"name", m.name},
              {"direction", to_string(m.direction)},
              {"digest", m.digest},
              {"size", m.size},
              {"framework", m.framework},
              {"metadata", string_map_to_json(m.metadata)},
              {"created", m.created}};
}

Json to_json(const Plot& p) {
  Json data = Json::parse(p.data, nullptr, /*allow_exceptions=*/false);
  return Json{
      {"id", p.id},     {"title", p.title}, {"series", p.series}, {"iteration", p.iteration},
      {"kind", p.kind}, {"data", data},     {"digest", p.digest}, {"created", p.created}};
}

Status from_json(const Json& j, const std::string& w, Plot& p) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_int(j, "id", w, p.id));
  RH_TRY(read_string(j, "title", w, p.title, true));
  RH_TRY(read_string(j, "series", w, p.series));
  RH_TRY(read_int(j, "iteration", w, p.iteration));
  RH_TRY(read_string(j, "kind", w, p.kind, true));
  RH_TRY(read_string(j, "digest", w, p.digest));
  RH_TRY(read_double(j, "created", w, p.created));
  auto it = j.find("data");
  if (it != j.end() && !it->is_null()) {
    if (!it->is_object()) {
      return make_error(ErrorCode::invalid_argument,
                        w + ".data must be a JSON object, got " + describe_json_type(*it));
    }
    p.data = it->dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return {};
}

Status from_json(const Json& j, const std::string& w, Script& s) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "repository", w, s.repository));
  RH_TRY(read_string(j, "branch", w, s.branch));
  RH_TRY(read_string(j, "commit", w, s.commit));
  RH_TRY(read_string(j, "diff", w, s.diff));
  RH_TRY(read_string(j, "entry_point", w, s.entry_point));
  RH_TRY(read_string(j, "working_dir", w, s.working_dir));
  RH_TRY(read_string(j, "content", w, s.content));
  RH_TRY(read_string_list(j, "argv", w, s.argv));
  return {};
}

Status from_json(const Json& j, const std::string& w, Environment& e) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "interpreter", w, e.interpreter));
  RH_TRY(read_string(j, "os", w, e.os));
  RH_TRY(read_string(j, "host", w, e.host));
  RH_TRY(read_string(j, "requirements", w, e.requirements));
  RH_TRY(read_string(j, "freeze", w, e.freeze));
  return {};
}

Status from_json(const Json& j, const std::string& w, Hyperparameter& h) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "section", w, h.section, true));
  RH_TRY(read_string(j, "name", w, h.name, true));
  RH_TRY(read_string(j, "value", w, h.value));
  RH_TRY(read_string(j, "type", w, h.type));
  RH_TRY(read_string(j, "description", w, h.description));
  return {};
}

Status hyperparameters_from_json(const Json& j, const std::string& w,
                                 std::vector<Hyperparameter>& out) {
  if (j.is_array())
    return list_from_json(j, w, out);
  RH_TRY(expect_object(j, w));
  out.clear();
  for (auto sec = j.begin(); sec != j.end(); ++sec) {
    std::string sw = w + "." + sec.key();
    RH_TRY(expect_object(*sec, sw));
    for (auto p = sec->begin(); p != sec->end(); ++p) {
      Hyperparameter h;
      h.section = sec.key();
      h.name = p.key();
      std::string pw = sw + "." + p.key();
      if (p->is_object()) {
        RH_TRY(read_string(*p, "type", pw, h.type));
        RH_TRY(read_string(*p, "description", pw, h.description));
        auto v = p->find("value");
        if (v != p->end() && !v->is_null()) {
          if (v->is_string()) {
            h.value = v->get<std::string>();
          } else if (v->is_number() || v->is_boolean()) {
            h.value = v->dump();
          } else {
            return make_error(
                ErrorCode::invalid_argument,
                pw + ".value must be a string, number or boolean, got " + describe_json_type(*v));
          }
        }
      } else if (p->is_string()) {
        h.value = p->get<std::string>();
        h.type = "str";
      } else if (p->is_number_integer() || p->is_number_unsigned()) {
        h.value = p->dump();
        h.type = "int";
      } else if (p->is_number_float()) {
        h.value = p->dump();
        h.type = "float";
      } else if (p->is_boolean()) {
        h.value = p->dump();
        h.type = "bool";
      } else if (p->is_null()) {
        h.type = "none";
      } else {
        h.value = p->dump();
        h.type = p->is_array() ? "list" : "json";
      }
      out.push_back(std::move(h));
    }
  }
  return {};
}

Status from_json(const Json& j, const std::string& w, Configuration& c) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "name", w, c.name, true));
  RH_TRY(read_string(j, "value", w, c.value));
  RH_TRY(read_string(j, "description", w, c.description));
  return {};
}

namespace {

Status configurations_from_json(const Json& j, const std::string& w,
                                std::vector<Configuration>& out) {
  if (j.is_array())
    return list_from_json(j, w, out);
  RH_TRY(expect_object(j, w));
  out.clear();
  for (auto it = j.begin(); it != j.end(); ++it) {
    Configuration c;
    c.name = it.key();
    std::string cw = w + "." + it.key();
    if (it->is_string()) {
      c.value = it->get<std::string>();
    } else {
      RH_TRY(expect_object(*it, cw));
      RH_TRY(read_string(*it, "value", cw, c.value));
      RH_TRY(read_string(*it, "description", cw, c.description));
    }
    out.push_back(std::move(c));
  }
  return {};
}

// The fields Task and NewTask share: code, environment, parameters, configurations.
Status read_recorded_fields(const Json& j, const std::string& w, Script& script, Environment& env,
                            std::vector<Hyperparameter>& params,
                            std::vector<Configuration>& configs) {
  if (auto it = j.find("script"); it != j.end())
    RH_TRY(from_json(*it, w + ".script", script));
  if (auto it = j.find("environment"); it != j.end()) {
    RH_TRY(from_json(*it, w + ".environment", env));
  }
  if (auto it = j.find("hyperparameters"); it != j.end()) {
    RH_TRY(hyperparameters_from_json(*it, w + ".hyperparameters", params));
  }
  if (auto it = j.find("configurations"); it != j.end()) {
    RH_TRY(configurations_from_json(*it, w + ".configurations", configs));
  }
  return {};
}

}  // namespace

Status from_json(const Json& j, const std::string& w, Task& t) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "id", w, t.id, true));
  RH_TRY(read_string(j, "project", w, t.project));
  RH_TRY(read_string(j, "name", w, t.name));
  std::string type = "training", status = "created";
  RH_TRY(read_string(j, "type", w, type));
  RH_TRY(read_string(j, "status", w, status));
  RH_TRY_ASSIGN(t.type, parse_task_type(type));
  RH_TRY_ASSIGN(t.status, parse_task_status(status));
  RH_TRY(read_string(j, "status_message", w, t.status_message));
  RH_TRY(read_string(j, "comment", w, t.comment));
  RH_TRY(read_string_list(j, "tags", w, t.tags));
  RH_TRY(read_string(j, "parent", w, t.parent));
  RH_TRY(read_double(j, "created", w, t.created));
  RH_TRY(read_double(j, "started", w, t.started));
  RH_TRY(read_double(j, "completed", w, t.completed));
  RH_TRY(read_double(j, "last_update", w, t.last_update));
  RH_TRY(read_string_map(j, "runtime", w, t.runtime));
  if (auto it = j.find("metrics"); it != j.end()) {
    RH_TRY(list_from_json(*it, w + ".metrics", t.metrics));
  }
  return read_recorded_fields(j, w, t.script, t.environment, t.hyperparameters, t.configurations);
}

Status from_json(const Json& j, const std::string& w, NewTask& t) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "project", w, t.project, true));
  RH_TRY(read_string(j, "name", w, t.name, true));
  std::string type = "training";
  RH_TRY(read_string(j, "type", w, type));
  RH_TRY_ASSIGN(t.type, parse_task_type(type));
  RH_TRY(read_string(j, "comment", w, t.comment));
  RH_TRY(read_string_list(j, "tags", w, t.tags));
  RH_TRY(read_string(j, "parent", w, t.parent));
  return read_recorded_fields(j, w, t.script, t.environment, t.hyperparameters, t.configurations);
}

Status from_json(const Json& j, const std::string& w, TaskPatch& p) {
  RH_TRY(expect_object(j, w));
  static const char* known[] = {"name", "comment", "script", "environment", "runtime"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* k : known)
      ok = ok || it.key() == k;
    if (!ok) {
      return make_error(ErrorCode::invalid_argument,
                        w + "." + it.key() +
                            " cannot be changed this way (allowed: name, comment, script, "
                            "environment, runtime; status, tags, hyperparameters and "
                            "configurations have their own endpoints)");
    }
  }
  if (j.contains("name")) {
    std::string v;
    RH_TRY(read_string(j, "name", w, v, true));
    p.name = v;
  }
  if (j.contains("comment")) {
    std::string v;
    RH_TRY(read_string(j, "comment", w, v, true));
    p.comment = v;
  }
  if (auto it = j.find("script"); it != j.end()) {
    Script s;
    RH_TRY(from_json(*it, w + ".script", s));
    p.script = s;
  }
  if (auto it = j.find("environment"); it != j.end()) {
    Environment e;
    RH_TRY(from_json(*it, w + ".environment", e));
    p.environment = e;
  }
  if (j.contains("runtime")) {
    std::map<std::string, std::string> m;
    RH_TRY(read_string_map(j, "runtime", w, m, true));
    p.runtime = m;
  }
  return {};
}

Status from_json(const Json& j, const std::string& w, Project& p) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "id", w, p.id));
  RH_TRY(read_string(j, "name", w, p.name, true));
  RH_TRY(read_string(j, "description", w, p.description));
  RH_TRY(read_double(j, "created", w, p.created));
  RH_TRY(read_int(j, "task_count", w, p.task_count));
  return {};
}

Status from_json(const Json& j, const std::string& w, SeriesSummary& s) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "title", w, s.title, true));
  RH_TRY(read_string(j, "series", w, s.series, true));
  RH_TRY(read_int(j, "count", w, s.count));
  RH_TRY(read_int(j, "last_iteration", w, s.last_step));
  RH_TRY(read_double(j, "last_value", w, s.last_value));
  RH_TRY(read_double(j, "last_time", w, s.last_time));
  RH_TRY(read_double(j, "min_value", w, s.min_value));
  RH_TRY(read_double(j, "max_value", w, s.max_value));
  return {};
}

Status from_json(const Json& j, const std::string& w, ConsoleLine& l) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_int(j, "seq", w, l.seq));
  RH_TRY(read_double(j, "time", w, l.time));
  std::string stream = "stdout";
  RH_TRY(read_string(j, "stream", w, stream));
  if (stream == "stdout") {
    l.stream = ConsoleStream::stdout_stream;
  } else if (stream == "stderr") {
    l.stream = ConsoleStream::stderr_stream;
  } else {
    return make_error(ErrorCode::invalid_argument,
                      w + ".stream must be \"stdout\" or \"stderr\", got \"" + stream + "\"");
  }
  RH_TRY(read_string(j, "text", w, l.text, true));
  return {};
}

Status from_json(const Json& j, const std::string& w, Artifact& a) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "name", w, a.name, true));
  RH_TRY(read_string(j, "digest", w, a.digest, true));
  int64_t size = 0;
  RH_TRY(read_int(j, "size", w, size));
  if (size < 0)
    return make_error(ErrorCode::invalid_argument, w + ".size must not be negative");
  a.size = static_cast<uint64_t>(size);
  RH_TRY(read_string(j, "type", w, a.type));
  RH_TRY(read_string(j, "content_type", w, a.content_type));
  RH_TRY(read_string_map(j, "metadata", w, a.metadata));
  RH_TRY(read_string_list(j, "members", w, a.members));
  RH_TRY(read_double(j, "created", w, a.created));
  return {};
}

Status from_json(const Json& j, const std::string& w, Model& m) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "id", w, m.id));
  RH_TRY(read_string(j, "task_id", w, m.task_id));
  RH_TRY(read_string(j, "name", w, m.name, true));
  std::string dir = "output";
  RH_TRY(read_string(j, "direction", w, dir));
  RH_TRY_ASSIGN(m.direction, parse_model_direction(dir));
  RH_TRY(read_string(j, "digest", w, m.digest));
  int64_t size = 0;
  RH_TRY(read_int(j, "size", w, size));
  if (size < 0)
    return make_error(ErrorCode::invalid_argument, w + ".size must not be negative");
  m.size = static_cast<uint64_t>(size);
  RH_TRY(read_string(j, "framework", w, m.framework));
  RH_TRY(read_string_map(j, "metadata", w, m.metadata));
  RH_TRY(read_double(j, "created", w, m.created));
  return {};
}

}  // namespace rh
