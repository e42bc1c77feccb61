#include "roundhouse/experiment/config.h"
#include "roundhouse/util/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <set>

#include "roundhouse/util/strings.h"

namespace rh::experiment {

namespace {

using search::Hyperparameter;

// Keys per section: read here, or accepted without effect (warned).
struct Keys {
  std::set<std::string> read;
  std::set<std::string> warned;
};

const Keys k_top{{"name", "description", "labels", "data", "entrypoint", "hyperparameters",
                  "searcher", "max_restarts", "checkpoint_storage", "resources", "environment",
                  "records_per_epoch", "min_validation_period", "reproducibility", "project"},
                 {"bind_mounts", "debug", "optimizations", "profiling", "scheduling_unit",
                  "perform_initial_validation", "min_checkpoint_period", "checkpoint_policy",
                  "log_policies", "integrations", "preemption_timeout", "workspace"}};
const Keys k_searcher{{"name", "metric", "smaller_is_better", "max_trials", "max_concurrent_trials",
                       "max_length", "time_metric", "max_time", "mode", "divisor", "max_rungs",
                       "bracket_rungs", "num_rungs", "stop_once", "source_trial_id", "sampler"},
                      {"source_checkpoint_uuid"}};
const Keys k_checkpoint_storage{
    {"save_experiment_best", "save_trial_best", "save_trial_latest"},
    {"type", "host_path", "storage_path", "container_path", "propagation", "bucket", "prefix",
     "access_key", "secret_key", "endpoint_url", "credentials", "account_url", "connection_string",
     "container"}};
const Keys k_resources{{"slots_per_trial", "resource_pool", "priority"},
                       {"max_slots", "weight", "shm_size", "devices", "is_single_node"}};
const Keys k_environment{{"environment_variables"},
                         {"image", "force_pull_image", "registry_auth", "pod_spec",
                          "add_capabilities", "drop_capabilities", "ports", "proxy_ports"}};
const Keys k_reproducibility{{"experiment_seed"}, {}};

class Reader {
 public:
  explicit Reader(std::string file) : m_file(std::move(file)) {}

  Error err(const YAML::Node& n, const std::string& path, const std::string& msg) const {
    int line = n.IsDefined() ? n.Mark().line + 1 : 0;
    std::string where = m_file + (line > 0 ? ":" + std::to_string(line) : "");
    return Error{ErrorCode::invalid_argument, where + ": " + path + ": " + msg};
  }
  void warn(const YAML::Node& n, const std::string& path, const std::string& msg) {
    m_warnings.push_back(m_file + ":" + std::to_string(n.Mark().line + 1) + ": " + path + ": " +
                         msg);
  }
  std::vector<std::string> take_warnings() { return std::move(m_warnings); }

  Status keys(const YAML::Node& map, const std::string& path, const Keys& keys) {
    if (!map.IsMap())
      return std::unexpected(err(map, path, "must be a mapping"));
    for (const auto& kv : map) {
      std::string k = kv.first.as<std::string>();
      std::string p = path.empty() ? k : path + "." + k;
      if (keys.warned.count(k)) {
        warn(kv.first, p, "accepted, but has no effect here");
      } else if (!keys.read.count(k)) {
        return std::unexpected(err(kv.first, p, "unknown key" + known(keys)));
      }
    }
    return {};
  }

  Result<std::string> str(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar())
      return std::unexpected(err(n, path, "must be a string"));
    return n.Scalar();
  }
  Result<int64_t> integer(const YAML::Node& n, const std::string& path) const {
    int64_t v = 0;
    const std::string s = n.IsScalar() ? n.Scalar() : "";
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!n.IsScalar() || n.Tag() == "!" || ec != std::errc() || p != s.data() + s.size())
      return std::unexpected(err(n, path, "must be a whole number, got " + shown(n)));
    return v;
  }
  Result<int64_t> count(const YAML::Node& n, const std::string& path, int64_t min) const {
    RH_TRY_ASSIGN(int64_t v, integer(n, path));
    if (v < min)
      return std::unexpected(err(n, path, "must be at least " + std::to_string(min)));
    return v;
  }
  Result<double> number(const YAML::Node& n, const std::string& path) const {
    if (n.IsScalar() && n.Tag() != "!") {
      if (auto v = parse_double(n.Scalar()))
        return *v;
    }
    return std::unexpected(err(n, path, "must be a number, got " + shown(n)));
  }
  Result<bool> boolean(const YAML::Node& n, const std::string& path) const {
    if (n.IsScalar() && n.Tag() != "!" && (n.Scalar() == "true" || n.Scalar() == "false"))
      return n.Scalar() == "true";
    return std::unexpected(err(n, path, "must be true or false, got " + shown(n)));
  }
  Result<std::vector<std::string>> strings(const YAML::Node& n, const std::string& path) const {
    if (!n.IsSequence())
      return std::unexpected(err(n, path, "must be a list of strings"));
    std::vector<std::string> out;
    for (size_t i = 0; i < n.size(); ++i) {
      RH_TRY_ASSIGN(std::string s, str(n[i], path + "[" + std::to_string(i) + "]"));
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  static std::string known(const Keys& k) {
    std::string out;
    for (const auto& s : k.read)
      out += (out.empty() ? "" : ", ") + s;
    return out.empty() ? "" : " (known: " + out + ")";
  }
  static std::string shown(const YAML::Node& n) {
    if (n.IsScalar())
      return "\"" + n.Scalar() + "\"";
    if (n.IsSequence())
      return "a list";
    if (n.IsMap())
      return "a mapping";
    return "nothing";
  }
  static std::optional<double> parse_double(const std::string& s) {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || s.empty())
      return std::nullopt;
    return v;
  }
  std::string m_file;
  std::vector<std::string> m_warnings;
};

Result<Hyperparameter> read_hp(Reader& r, const YAML::Node& n, const std::string& path);

Result<search::Space> read_space(Reader& r, const YAML::Node& n, const std::string& path) {
  if (!n.IsMap())
    return std::unexpected(r.err(n, path, "must be a mapping of names to hyperparameters"));
  search::Space out;
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    RH_TRY_ASSIGN(out[k], read_hp(r, kv.second, path + "." + k));
  }
  return out;
}

Result<Hyperparameter> read_hp(Reader& r, const YAML::Node& n, const std::string& path) {
  Hyperparameter h;
  if (!n.IsMap() || !n["type"]) {
    if (n.IsMap()) {  // a nested group
      h.kind = Hyperparameter::Kind::nested;
      RH_TRY_ASSIGN(h.nested, read_space(r, n, path));
      return h;
    }
    h.kind = Hyperparameter::Kind::constant;
    h.value = yaml_to_json(n);
    return h;
  }
  RH_TRY_ASSIGN(std::string type, r.str(n["type"], path + ".type"));
  auto allow = [&](std::set<std::string> keys) -> Status {
    keys.insert("type");
    for (const auto& kv : n) {
      std::string k = kv.first.as<std::string>();
      if (!keys.count(k)) {
        return std::unexpected(
            r.err(kv.first, path + "." + k, "is not a key of a " + type + " hyperparameter"));
      }
    }
    return {};
  };
  auto need = [&](const char* key) -> Result<YAML::Node> {
    YAML::Node v = n[key];
    if (!v)
      return std::unexpected(
          r.err(n, path, std::string("a ") + type + " hyperparameter needs `" + key + "`"));
    return v;
  };
  if (type == "const") {
    RH_TRY(allow({"val"}));
    RH_TRY_ASSIGN(YAML::Node v, need("val"));
    h.kind = Hyperparameter::Kind::constant;
    h.value = yaml_to_json(v);
    return h;
  }
  if (type == "categorical") {
    RH_TRY(allow({"vals"}));
    RH_TRY_ASSIGN(YAML::Node v, need("vals"));
    if (!v.IsSequence() || v.size() == 0)
      return std::unexpected(r.err(v, path + ".vals", "must be a non-empty list"));
    h.kind = Hyperparameter::Kind::categorical;
    for (const auto& x : v)
      h.vals.push_back(yaml_to_json(x));
    return h;
  }
  if (type != "int" && type != "double" && type != "log") {
    return std::unexpected(
        r.err(n["type"], path + ".type",
              "must be const, int, double, log or categorical; got \"" + type + "\""));
  }
  RH_TRY(allow(type == "log" ? std::set<std::string>{"minval", "maxval", "base", "count"}
                             : std::set<std::string>{"minval", "maxval", "count"}));
  RH_TRY_ASSIGN(YAML::Node lo, need("minval"));
  RH_TRY_ASSIGN(YAML::Node hi, need("maxval"));
  if (type == "int") {
    h.kind = Hyperparameter::Kind::integer;
    RH_TRY_ASSIGN(int64_t a, r.integer(lo, path + ".minval"));
    RH_TRY_ASSIGN(int64_t b, r.integer(hi, path + ".maxval"));
    h.minval = double(a);
    h.maxval = double(b);
  } else {
    h.kind = type == "log" ? Hyperparameter::Kind::log : Hyperparameter::Kind::real;
    RH_TRY_ASSIGN(h.minval, r.number(lo, path + ".minval"));
    RH_TRY_ASSIGN(h.maxval, r.number(hi, path + ".maxval"));
  }
  if (h.minval > h.maxval) {
    return std::unexpected(r.err(
        lo, path, "minval (" + lo.Scalar() + ") is greater than maxval (" + hi.Scalar() + ")"));
  }
  if (type == "log") {
    YAML::Node b = n["base"];
    if (b) {
      RH_TRY_ASSIGN(h.base, r.number(b, path + ".base"));
      if (!(h.base > 0) || h.base == 1)
        return std::unexpected(r.err(b, path + ".base", "must be positive and not 1"));
    }
  }
  if (YAML::Node c = n["count"]) {
    RH_TRY_ASSIGN(int64_t v, r.count(c, path + ".count", 1));
    h.count = v;
  }
  return h;
}

// searcher.max_length (0.37): a number, or {batches|epochs|records: N}.
Status read_length(Reader& r, const YAML::Node& n, Config& c) {
  if (n.IsMap()) {
    if (n.size() != 1)
      return std::unexpected(
          r.err(n, "searcher.max_length", "must name one unit: batches, epochs or records"));
    auto kv = *n.begin();
    std::string unit = kv.first.as<std::string>();
    if (unit != "batches" && unit != "epochs" && unit != "records") {
      return std::unexpected(r.err(kv.first, "searcher.max_length." + unit,
                                   "unknown unit (batches, epochs or records)"));
    }
    RH_TRY_ASSIGN(int64_t v, r.count(kv.second, "searcher.max_length." + unit, 1));
    c.length_unit = unit;
    c.searcher.max_length = uint64_t(v);
    return {};
  }
  RH_TRY_ASSIGN(int64_t v, r.count(n, "searcher.max_length", 1));
  c.searcher.max_length = uint64_t(v);
  return {};
}

Status read_searcher(Reader& r, const YAML::Node& n, Config& c) {
  RH_TRY(r.keys(n, "searcher", k_searcher));
  auto& s = c.searcher;
  if (!n["name"])
    return std::unexpected(r.err(n, "searcher.name", "is required"));
  RH_TRY_ASSIGN(s.name, r.str(n["name"], "searcher.name"));
  static const std::set<std::string> names{"single", "random", "grid", "async_halving",
                                           "adaptive_asha"};
  if (!names.count(s.name)) {
    return std::unexpected(r.err(n["name"], "searcher.name",
                                 "unknown searcher \"" + s.name +
                                     "\" (single, random, grid, async_halving, adaptive_asha)"));
  }
  if (!n["metric"])
    return std::unexpected(r.err(n, "searcher.metric", "is required: the validation metric"));
  RH_TRY_ASSIGN(s.metric, r.str(n["metric"], "searcher.metric"));
  if (auto v = n["smaller_is_better"]) {
    RH_TRY_ASSIGN(s.smaller_is_better, r.boolean(v, "searcher.smaller_is_better"));
  }
  bool needs_trials = s.name == "random" || s.name == "async_halving" || s.name == "adaptive_asha";
  if (auto v = n["max_trials"]) {
    RH_TRY_ASSIGN(s.max_trials, r.count(v, "searcher.max_trials", 1));
  } else if (needs_trials) {
    return std::unexpected(r.err(n, "searcher.max_trials", "is required for " + s.name));
  }
  if (auto v = n["max_concurrent_trials"]) {
    RH_TRY_ASSIGN(s.max_concurrent_trials, r.count(v, "searcher.max_concurrent_trials", 0));
  }
  YAML::Node ml = n["max_length"], tm = n["time_metric"], mt = n["max_time"];
  if (ml && (tm || mt)) {
    return std::unexpected(r.err(ml, "searcher.max_length",
                                 "give either max_length (Determined 0.37) or time_metric + "
                                 "max_time (0.38), not both"));
  }
  if (ml) {
    RH_TRY(read_length(r, ml, c));
  } else if (tm || mt) {
    if (!tm || !mt)
      return std::unexpected(r.err(tm ? tm : mt, tm ? "searcher.max_time" : "searcher.time_metric",
                                   "time_metric and max_time go together"));
    RH_TRY_ASSIGN(c.length_unit, r.str(tm, "searcher.time_metric"));
    RH_TRY_ASSIGN(int64_t v, r.count(mt, "searcher.max_time", 1));
    s.max_length = uint64_t(v);
    c.determined_038 = true;
  } else if (s.name == "async_halving" || s.name == "adaptive_asha") {
    return std::unexpected(
        r.err(n, "searcher.max_length",
              "is required for " + s.name + " (or time_metric + max_time, as Determined 0.38)"));
  }
  // Determined 0.38 has only stop-based ASHA; 0.37 promotes unless stop_once.
  s.stop_once = c.determined_038;
  if (auto v = n["stop_once"]) {
    RH_TRY_ASSIGN(s.stop_once, r.boolean(v, "searcher.stop_once"));
  }
  if (auto v = n["sampler"]) {
    RH_TRY_ASSIGN(s.sampler, r.str(v, "searcher.sampler"));
    if (s.sampler != "random" && s.sampler != "local" && s.sampler != "tpe")
      return std::unexpected(r.err(v, "searcher.sampler", "must be random, local or tpe"));
  }
  if (auto v = n["mode"]) {
    RH_TRY_ASSIGN(s.mode, r.str(v, "searcher.mode"));
    if (s.mode != "aggressive" && s.mode != "standard" && s.mode != "conservative")
      return std::unexpected(
          r.err(v, "searcher.mode", "must be aggressive, standard or conservative"));
  }
  if (auto v = n["divisor"]) {
    RH_TRY_ASSIGN(s.divisor, r.number(v, "searcher.divisor"));
    if (!(s.divisor > 1))
      return std::unexpected(r.err(v, "searcher.divisor", "must be greater than 1"));
  }
  if (auto v = n["max_rungs"]) {
    RH_TRY_ASSIGN(s.max_rungs, r.count(v, "searcher.max_rungs", 1));
  }
  if (auto v = n["num_rungs"]) {
    RH_TRY_ASSIGN(s.num_rungs, r.count(v, "searcher.num_rungs", 1));
  } else if (s.name == "async_halving") {
    return std::unexpected(r.err(n, "searcher.num_rungs", "is required for async_halving"));
  }
  if (auto v = n["bracket_rungs"]) {
    if (!v.IsSequence())
      return std::unexpected(r.err(v, "searcher.bracket_rungs", "must be a list of numbers"));
    for (size_t i = 0; i < v.size(); ++i) {
      RH_TRY_ASSIGN(int64_t x,
                    r.count(v[i], "searcher.bracket_rungs[" + std::to_string(i) + "]", 1));
      s.bracket_rungs.push_back(x);
    }
  }
  if (auto v = n["source_trial_id"]) {
    RH_TRY_ASSIGN(c.source_trial, r.str(v, "searcher.source_trial_id"));
  }
  return {};
}

Status read_env(Reader& r, const YAML::Node& n, Config& c) {
  RH_TRY(r.keys(n, "environment", k_environment));
  YAML::Node ev = n["environment_variables"];
  if (!ev)
    return {};
  auto add = [&](const YAML::Node& list, const std::string& path) -> Status {
    RH_TRY_ASSIGN(auto items, r.strings(list, path));
    for (size_t i = 0; i < items.size(); ++i) {
      auto eq = items[i].find('=');
      if (eq == std::string::npos || eq == 0)
        return std::unexpected(r.err(list[i], path + "[" + std::to_string(i) + "]",
                                     "must be NAME=value, got \"" + items[i] + "\""));
      c.environment_variables[items[i].substr(0, eq)] = items[i].substr(eq + 1);
    }
    return {};
  };
  if (ev.IsSequence())
    return add(ev, "environment.environment_variables");
  if (!ev.IsMap())
    return std::unexpected(r.err(ev, "environment.environment_variables",
                                 "must be a list of NAME=value, or one per cpu/cuda/rocm"));
  // Determined's per-device form: cpu first, then the GPU list's values win.
  for (const char* dev : {"cpu", "rocm", "cuda"}) {
    if (auto l = ev[dev]) {
      RH_TRY(add(l, std::string("environment.environment_variables.") + dev));
    }
  }
  for (const auto& kv : ev) {
    std::string k = kv.first.as<std::string>();
    if (k != "cpu" && k != "cuda" && k != "rocm")
      return std::unexpected(r.err(kv.first, "environment.environment_variables." + k,
                                   "unknown device (cpu, cuda, rocm)"));
  }
  return {};
}

Status read_entrypoint(Reader& r, const YAML::Node& n, Config& c) {
  if (n.IsSequence()) {
    RH_TRY_ASSIGN(c.entrypoint_argv, r.strings(n, "entrypoint"));
    if (c.entrypoint_argv.empty())
      return std::unexpected(r.err(n, "entrypoint", "must not be empty"));
    return {};
  }
  RH_TRY_ASSIGN(std::string s, r.str(n, "entrypoint"));
  std::string t(trim(s));
  if (t.empty())
    return std::unexpected(r.err(n, "entrypoint", "must not be empty"));
  // Determined's legacy form: a Trial class as module:Class.
  if (t.find(' ') == std::string::npos && t.find(':') != std::string::npos &&
      t.find('/') == std::string::npos) {
    return std::unexpected(
        r.err(n, "entrypoint",
              "\"" + t +
                  "\" names a Trial class (module:Class), which is not supported; wrap it in a "
                  "script that uses the Core API (from roundhouse import determined as det) "
                  "and give the command, e.g. entrypoint: python3 train.py"));
  }
  c.entrypoint_shell = t;
  return {};
}

Status apply_override(YAML::Node root, const std::string& o) {
  auto eq = o.find('=');
  if (eq == std::string::npos || eq == 0)
    return make_error(ErrorCode::invalid_argument, "--config " + o + ": must be key.path=value");
  std::vector<std::string> parts = split(o.substr(0, eq), '.');
  YAML::Node value;
  try {
    value = YAML::Load(o.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::invalid_argument, "--config " + o + ": " + e.msg);
  }
  // Walk with fresh handles: YAML::Node assignment would rebind, not set.
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (!next.IsMap()) {
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[parts[i]];
    }
    chain.push_back(next);
  }
  chain.back()[parts.back()] = value;
  return {};
}

}  // namespace

Result<Config> parse_config(std::string_view text, const std::string& file,
                            const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::invalid_argument,
                      file + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull())
    root = YAML::Node(YAML::NodeType::Map);
  for (const auto& o : overrides) {
    RH_TRY(apply_override(root, o));
  }
  Reader r(file);
  Config c;
  try {
    RH_TRY(r.keys(root, "", k_top));
    if (auto v = root["name"]) {
      RH_TRY_ASSIGN(c.name, r.str(v, "name"));
    }
    if (auto v = root["description"]) {
      RH_TRY_ASSIGN(c.description, r.str(v, "description"));
    }
    if (auto v = root["project"]) {
      RH_TRY_ASSIGN(c.project, r.str(v, "project"));
    }
    if (auto v = root["labels"]) {
      RH_TRY_ASSIGN(c.labels, r.strings(v, "labels"));
    }
    if (auto v = root["data"])
      c.data = yaml_to_json(v);
    if (!root["entrypoint"])
      return std::unexpected(r.err(root, "entrypoint", "is required: the command that trains"));
    RH_TRY(read_entrypoint(r, root["entrypoint"], c));
    if (auto v = root["hyperparameters"]) {
      RH_TRY_ASSIGN(c.hyperparameters, read_space(r, v, "hyperparameters"));
    }
    if (!root["searcher"])
      return std::unexpected(r.err(root, "searcher", "is required"));
    RH_TRY(read_searcher(r, root["searcher"], c));
    if (c.searcher.name == "grid") {
      if (auto st = search::check_grid(c.hyperparameters); !st)
        return std::unexpected(
            r.err(root["hyperparameters"], "hyperparameters", st.error().message));
    }
    if (auto v = root["max_restarts"]) {
      RH_TRY_ASSIGN(c.max_restarts, r.count(v, "max_restarts", 0));
    }
    if (auto v = root["records_per_epoch"]) {
      RH_TRY_ASSIGN(c.records_per_epoch, r.count(v, "records_per_epoch", 1));
    }
    if (auto v = root["min_validation_period"]) {
      if (v.IsMap() && v.size() == 1) {
        auto kv = *v.begin();
        c.min_validation_unit = kv.first.as<std::string>();
        RH_TRY_ASSIGN(int64_t p,
                      r.count(kv.second, "min_validation_period." + c.min_validation_unit, 1));
        c.min_validation_period = uint64_t(p);
      } else {
        RH_TRY_ASSIGN(int64_t p, r.count(v, "min_validation_period", 1));
        c.min_validation_period = uint64_t(p);
      }
    }
    if (auto v = root["checkpoint_storage"]) {
      RH_TRY(r.keys(v, "checkpoint_storage", k_checkpoint_storage));
      for (auto [key, out] : {std::pair{"save_experiment_best", &c.save_experiment_best},
                              std::pair{"save_trial_best", &c.save_trial_best},
                              std::pair{"save_trial_latest", &c.save_trial_latest}}) {
        if (auto x = v[key]) {
          RH_TRY_ASSIGN(*out, r.count(x, std::string("checkpoint_storage.") + key, 0));
        }
      }
    }
    if (auto v = root["resources"]) {
      RH_TRY(r.keys(v, "resources", k_resources));
      if (auto x = v["slots_per_trial"]) {
        RH_TRY_ASSIGN(c.slots_per_trial, r.count(x, "resources.slots_per_trial", 0));
      }
      if (auto x = v["resource_pool"]) {
        RH_TRY_ASSIGN(c.resource_pool, r.str(x, "resources.resource_pool"));
      }
      if (auto x = v["priority"]) {
        RH_TRY_ASSIGN(c.priority, r.integer(x, "resources.priority"));
      }
    }
    if (auto v = root["environment"]) {
      RH_TRY(read_env(r, v, c));
    }
    if (auto v = root["reproducibility"]) {
      RH_TRY(r.keys(v, "reproducibility", k_reproducibility));
      if (auto x = v["experiment_seed"]) {
        RH_TRY_ASSIGN(int64_t seed, r.count(x, "reproducibility.experiment_seed", 0));
        c.seed = uint64_t(seed);
      }
    }
  } catch (const YAML::Exception& e) {
    return make_error(ErrorCode::invalid_argument,
                      file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  c.warnings = r.take_warnings();
  return c;
}

}  // namespace rh::experiment
