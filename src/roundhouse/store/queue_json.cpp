#include "roundhouse/store/queue_json.h"

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

Result<Task> clone_task(TaskStore& tasks, const std::string& id, const std::string& name,
                        const std::string& comment) {
  RH_TRY_ASSIGN(Task src, tasks.get(id));
  NewTask t;
  t.project = src.project;
  t.name = name.empty() ? src.name : name;
  t.type = src.type;
  t.comment = comment.empty() ? "clone of " + src.id : comment;
  t.tags = src.tags;
  t.parent = src.id;
  t.script = src.script;
  t.environment = src.environment;
  t.hyperparameters = src.hyperparameters;
  t.configurations = src.configurations;
  return tasks.create(t);
}

}  // namespace rh
