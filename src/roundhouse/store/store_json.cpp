#include "roundhouse/store/store_json.h"

#include <nlohmann/json.hpp>

namespace rh {

Json to_json(const Queue& q) {
  return Json{{"id", q.id},
              {"name", q.name},
              {"created", q.created},
              {"requeue_on_lost", q.requeue_on_lost},
              {"waiting", q.waiting}};
}

Json to_json(const QueueEntry& e) {
  return Json{{"task_id", e.task_id},
              {"task_name", e.task_name},
              {"priority", e.priority},
              {"enqueued", e.enqueued}};
}

Json to_json(const Worker& w) {
  return Json{{"name", w.name},
              {"host", w.host},
              {"queues", w.queues},
              {"gpus", w.gpus},
              {"task_id", w.task_id},
              {"registered", w.registered},
              {"last_heartbeat", w.last_heartbeat}};
}

Status from_json(const Json& j, const std::string& w, Queue& q) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "id", w, q.id));
  RH_TRY(read_string(j, "name", w, q.name, true));
  RH_TRY(read_double(j, "created", w, q.created));
  if (auto it = j.find("requeue_on_lost"); it != j.end()) {
    if (!it->is_boolean())
      return make_error(ErrorCode::invalid_argument, w + ".requeue_on_lost must be true or false");
    q.requeue_on_lost = it->get<bool>();
  }
  RH_TRY(read_int(j, "waiting", w, q.waiting));
  return {};
}

Status from_json(const Json& j, const std::string& w, QueueEntry& e) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "task_id", w, e.task_id, true));
  RH_TRY(read_string(j, "task_name", w, e.task_name));
  RH_TRY(read_int(j, "priority", w, e.priority));
  RH_TRY(read_double(j, "enqueued", w, e.enqueued));
  return {};
}

Status from_json(const Json& j, const std::string& w, Worker& out) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "name", w, out.name));
  RH_TRY(read_string(j, "host", w, out.host));
  RH_TRY(read_string_list(j, "queues", w, out.queues));
  RH_TRY(read_string(j, "gpus", w, out.gpus));
  RH_TRY(read_string(j, "task_id", w, out.task_id));
  RH_TRY(read_double(j, "registered", w, out.registered));
  RH_TRY(read_double(j, "last_heartbeat", w, out.last_heartbeat));
  return {};
}

Json to_json(const DatasetFile& f) {
  return Json{{"path", f.path}, {"digest", f.digest}, {"size", f.size}, {"mode", f.mode}};
}

Json to_json(const DatasetSummary& s) {
  return Json{{"files", s.files},
              {"bytes", s.bytes},
              {"added", s.added},
              {"modified", s.modified},
              {"removed", s.removed},
              {"added_bytes", s.added_bytes},
              {"modified_bytes", s.modified_bytes},
              {"removed_bytes", s.removed_bytes}};
}

Json to_json(const DatasetVersion& v) {
  return Json{{"id", v.id},           {"project", v.project},
              {"name", v.name},       {"version", v.version},
              {"parents", v.parents}, {"state", to_string(v.state)},
              {"tags", v.tags},       {"manifest", v.manifest},
              {"task_id", v.task_id}, {"summary", to_json(v.summary)},
              {"created", v.created}, {"finalized", v.finalized}};
}

Status from_json(const Json& j, const std::string& w, DatasetFile& f) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "path", w, f.path, true));
  RH_TRY(read_string(j, "digest", w, f.digest, true));
  int64_t size = 0, mode = 0644;
  RH_TRY(read_int(j, "size", w, size));
  RH_TRY(read_int(j, "mode", w, mode));
  if (size < 0 || mode < 0 || mode > 07777)
    return make_error(ErrorCode::invalid_argument, w + ": size or mode out of range");
  f.size = static_cast<uint64_t>(size);
  f.mode = static_cast<uint32_t>(mode);
  return {};
}

Status from_json(const Json& j, const std::string& w, DatasetSummary& s) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_int(j, "files", w, s.files));
  RH_TRY(read_int(j, "bytes", w, s.bytes));
  RH_TRY(read_int(j, "added", w, s.added));
  RH_TRY(read_int(j, "modified", w, s.modified));
  RH_TRY(read_int(j, "removed", w, s.removed));
  RH_TRY(read_int(j, "added_bytes", w, s.added_bytes));
  RH_TRY(read_int(j, "modified_bytes", w, s.modified_bytes));
  RH_TRY(read_int(j, "removed_bytes", w, s.removed_bytes));
  return {};
}

Status from_json(const Json& j, const std::string& w, DatasetVersion& v) {
  RH_TRY(expect_object(j, w));
  RH_TRY(read_string(j, "id", w, v.id));
  RH_TRY(read_string(j, "project", w, v.project, true));
  RH_TRY(read_string(j, "name", w, v.name, true));
  RH_TRY(read_string(j, "version", w, v.version));
  RH_TRY(read_string_list(j, "parents", w, v.parents));
  std::string state = "draft";
  RH_TRY(read_string(j, "state", w, state));
  v.state = state == "final" ? DatasetState::final_ : DatasetState::draft;
  RH_TRY(read_string_list(j, "tags", w, v.tags));
  RH_TRY(read_string(j, "manifest", w, v.manifest));
  RH_TRY(read_string(j, "task_id", w, v.task_id));
  if (auto it = j.find("summary"); it != j.end()) {
    RH_TRY(from_json(*it, w + ".summary", v.summary));
  }
  RH_TRY(read_double(j, "created", w, v.created));
  RH_TRY(read_double(j, "finalized", w, v.finalized));
  return {};
}

Result<Task> clone_task(TaskStore& tasks, const std::string& id, const std::string& name,
                        const std::string& comment) {
  RH_TRY_ASSIGN(Task src, tasks.get(id));
  NewTask t = as_new_task(src);
  if (!name.empty())
    t.name = name;
  t.comment = comment.empty() ? "clone of " + src.id : comment;
  t.parent = src.id;
  return tasks.create(t);
}

}  // namespace rh
