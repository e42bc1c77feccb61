// Task pipelines (ClearML's PipelineController), run by the server on the
// DAG runner (task_dag.h): each step clones an existing task (by ID, or the
// latest task of a name in a project) and overrides its parameters with
// values that may reference the pipeline's parameters and the steps before
// it, resolved when the step is enqueued:
//   ${pipeline.NAME}                 a pipeline parameter
//   ${STEP.id}                       the step's task ID
//   ${STEP.parameters.SECTION/NAME}  one of its parameters (after its overrides)
//   ${STEP.artifacts.NAME.url}       an artifact's blob, as /api/v1/blobs/<digest>
//   ${STEP.models.output.N.id}       its Nth output model's ID (N < 0 from the end)
// A reference to a step makes it a parent by itself; a reference to an
// unknown step, parameter or kind is refused when the pipeline is created.
//
// The run is a task of type controller (tag k_dag_tag) with its parameters
// in section `Pipeline` and the graph in configuration "dag"; each step a
// child task named after the step, waiting in `created` (runtime
// dag_overrides: the overrides as JSON, dag_base_task: what it cloned).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "roundhouse/store/metadata_store.h"
#include "roundhouse/util/json.h"

namespace rh::flow {

struct PipelineStep {
  std::string name;
  std::string base_task_id;  // or, when empty, the latest task named base_name in base_project
  std::string base_project, base_name;
  std::string queue;                             // empty: the pipeline's
  std::vector<std::string> parents;              // step names (references add their own)
  std::map<std::string, std::string> overrides;  // "Section/name" -> value, ${...} inside
  bool cache = false;  // reuse an earlier completed step with the same inputs
  int retries = 0;     // a failed step runs again up to this many times
  int time_limit = 0;  // seconds; a step running longer is aborted (0: none)
};

struct PipelineSpec {
  std::string name, project, queue;
  std::vector<std::pair<std::string, std::string>> parameters;  // name -> default value
  std::vector<PipelineStep> steps;
  int jobs = 0;                   // at most this many steps at once; 0: no limit
  bool abort_on_failure = false;  // the first failure aborts every step not ended yet
  std::string source;             // the definition as JSON (kept on the run)
};

// The REST body of POST /api/v1/pipelines (docs/api.md) as a spec; errors
// name the field ("body.steps[1].name").
Result<PipelineSpec> pipeline_spec_from_json(const Json& j);

// A ${...} reference inside a value.
struct Reference {
  size_t begin = 0, end = 0;  // the whole ${...} in the value
  std::string step;           // "pipeline" for a pipeline parameter
  std::string kind;           // "id", "parameters", "artifacts", "models", or "" (pipeline)
  std::string key;            // parameter "Section/name", artifact name, model index, pipeline name
};

// The references in `value`; invalid_argument naming `where` for a ${...}
// that is none of the forms above.
Result<std::vector<Reference>> references_in(const std::string& value, const std::string& where);

// The step cache: a step with `cache` whose inputs — its code (repository,
// commit, diff, entry point, script content, command line), its parameters
// after overrides (referenced artifacts appear there by digest) and its
// configurations — hash to the key of a completed earlier task of the same
// name in the project is not run: it ends completed at once ("cached:
// task X"), with X's artifacts and output models recorded on it and
// runtime cached_from = X. Steps without `cache` always run.
std::string step_cache_key(const Task& step);
// The earlier task to reuse, if any (runtime dag_cache_key matches).
Result<std::optional<Task>> cached_step(MetadataStore& store, const Task& step,
                                        const std::string& key);
// Ends `step` as a copy of `earlier` (artifacts, output models, the key).
Status reuse_step(MetadataStore& store, const Task& step, const Task& earlier);

// Checks the spec (unknown step or pipeline parameter, a step twice, a
// cycle, no queue), then creates the run and its steps and hands the run to
// the DAG runner. Returns the run's task. With `run_id`, that task (a draft
// controller: a clone of an earlier run, its `Pipeline` parameters perhaps
// edited) becomes the run instead of a new one; the definition comes from
// its configuration "pipeline" (the source of the run it was cloned from).
Result<Task> create_task_pipeline(MetadataStore& store, const PipelineSpec& spec,
                                  const std::string& run_id = "");

// A draft controller task holding a pipeline's definition (configuration
// "pipeline"), run with its own `Pipeline` parameters: what enqueueing a
// clone of a run does. nullopt when the task is no such draft.
Result<std::optional<Task>> start_cloned_pipeline(MetadataStore& store, const std::string& task_id);

// The step's parameters with its overrides resolved against the run and
// the steps before it (all completed); called just before it is enqueued.
// A reference to something a completed step does not have fails the step.
Result<std::vector<Hyperparameter>> resolved_overrides(MetadataStore& store, const Task& run,
                                                       const Task& step);

}  // namespace rh::flow
