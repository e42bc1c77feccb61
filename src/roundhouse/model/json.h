// The JSON form of the task record and its parts (model/task.h): used by the
// API (server side), the REST client (client side) and the SQLite backend's
// JSON columns, so all three agree by construction. Readers validate types
// and say where. The store's own records (queues, datasets) have theirs in
// store/store_json.h; the hot paths have compact forms of their own
// (api/scalar_body.h, api/file_list.h).
#pragma once

#include "roundhouse/model/task.h"
#include "roundhouse/util/json.h"

namespace rh {

Json to_json(const Script& s);
Json to_json(const Environment& e);
Json to_json(const Hyperparameter& h);
Json to_json(const Configuration& c);
// full = with hyperparameters, configurations and the script's diff/content.
Json to_json(const Task& t, bool full = true);
// The body of POST /api/v1/tasks.
Json to_json(const NewTask& t);
Json to_json(const Project& p);
Json to_json(const SeriesSummary& s);
Json to_json(const ConsoleLine& l);
Json to_json(const Artifact& a);
Json to_json(const Model& m);
Json to_json(const Plot& p);
Json string_map_to_json(const std::map<std::string, std::string>& m);

Status from_json(const Json& j, const std::string& where, Script& out);
Status from_json(const Json& j, const std::string& where, Environment& out);
Status from_json(const Json& j, const std::string& where, Hyperparameter& out);
Status from_json(const Json& j, const std::string& where, Configuration& out);
Status from_json(const Json& j, const std::string& where, Task& out);
Status from_json(const Json& j, const std::string& where, NewTask& out);
Status from_json(const Json& j, const std::string& where, TaskPatch& out);
Status from_json(const Json& j, const std::string& where, Project& out);
Status from_json(const Json& j, const std::string& where, SeriesSummary& out);
Status from_json(const Json& j, const std::string& where, ConsoleLine& out);
Status from_json(const Json& j, const std::string& where, Artifact& out);
Status from_json(const Json& j, const std::string& where, Model& out);
Status from_json(const Json& j, const std::string& where, Plot& out);

// Hyperparameters as {"Section": {"name": {"value","type","description"} | scalar}}.
Json hyperparameters_to_json(const std::vector<Hyperparameter>& params);
Status hyperparameters_from_json(const Json& j, const std::string& where,
                                 std::vector<Hyperparameter>& out);

// J is a parameter only so that this header needs no complete nlohmann::json.
template <class T, class J = Json>
Status list_from_json(const J& j, const std::string& where, std::vector<T>& out) {
  if (!j.is_array()) {
    return make_error(ErrorCode::invalid_argument,
                      where + " must be an array, got " + describe_json_type(j));
  }
  out.clear();
  for (size_t i = 0; i < j.size(); ++i) {
    T item;
    RH_TRY(from_json(j[i], where + "[" + std::to_string(i) + "]", item));
    out.push_back(std::move(item));
  }
  return {};
}

}  // namespace rh
