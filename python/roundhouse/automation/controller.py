"""ClearML's PipelineController over Roundhouse's task pipelines: the server
runs the DAG (no controller process), so `start()` defines the pipeline on
the server and returns, `wait()` follows it. Each step clones an existing
task (`base_task_id`, or the latest task named `base_task_name` in
`base_task_project`) with `parameter_override` values that may reference
`${pipeline.NAME}`, `${STEP.id}`, `${STEP.parameters.Section/name}`,
`${STEP.artifacts.NAME.url}` and `${STEP.models.output.-1.id}`; a reference
adds the parent by itself, an unknown one is refused by `start()`."""
import time
import warnings

from .. import _backend
from .._http import RoundhouseError, quote

_FINAL = ("completed", "failed", "aborted")


class PipelineController:
    def __init__(self, name, project, version=None, pool_frequency=0.2, add_pipeline_tags=False,
                 target_project=None, auto_version_bump=None, abort_on_failure=False, add_run_number=True,
                 retry_on_failure=None, **kwargs):
        self._name = name
        self._project = project
        self._version = version
        self._parameters = {}
        self._steps = []
        self._queue = None
        self._run_id = None
        self._abort_on_failure = bool(abort_on_failure)
        self._retry_on_failure = retry_on_failure if isinstance(retry_on_failure, int) else 0
        ignored = [k for k, v in (("target_project", target_project), ("auto_version_bump", auto_version_bump),
                                  ("retry_on_failure", retry_on_failure if callable(retry_on_failure) else None))
                   if v]
        ignored += sorted(kwargs)
        if ignored:
            warnings.warn(f"PipelineController: arguments without effect here: {', '.join(ignored)}")
        self._client = _backend.connect(start=False)
        if self._client is None:
            raise RoundhouseError("unavailable", "no rh server: set RH_SERVER or start rh server")

    @property
    def id(self):
        return self._run_id

    def add_parameter(self, name, default=None, description=None, param_type=None):
        self._parameters[name] = "" if default is None else str(default)

    def set_default_execution_queue(self, default_execution_queue):
        self._queue = default_execution_queue

    def add_step(self, name, base_task_id=None, parents=None, parameter_override=None, execution_queue=None,
                 base_task_project=None, base_task_name=None, configuration_overrides=None, task_overrides=None,
                 time_limit=None, continue_on_fail=False, cache_executed_step=False, retry_on_failure=None,
                 **kwargs):
        if not base_task_id and not (base_task_project and base_task_name):
            raise ValueError(f"step {name!r}: give base_task_id, or base_task_project and base_task_name")
        ignored = [k for k, v in (("configuration_overrides", configuration_overrides),
                                  ("task_overrides", task_overrides),
                                  ("continue_on_fail", continue_on_fail or None),
                                  ("retry_on_failure", retry_on_failure if callable(retry_on_failure) else None))
                   if v]
        ignored += sorted(kwargs)
        if ignored:
            warnings.warn(f"add_step({name!r}): arguments without effect here: {', '.join(ignored)}")
        step = {"name": name, "parents": list(parents or []),
                "parameter_override": {k: v if isinstance(v, str) else str(v)
                                       for k, v in (parameter_override or {}).items()}}
        if base_task_id:
            step["base_task_id"] = base_task_id
        else:
            step["base_task_project"] = base_task_project
            step["base_task_name"] = base_task_name
        if execution_queue:
            step["execution_queue"] = execution_queue
        if cache_executed_step:
            step["cache_executed_step"] = True
        retries = retry_on_failure if isinstance(retry_on_failure, int) else self._retry_on_failure
        if retries:
            step["retry_on_failure"] = int(retries)
        if time_limit:
            step["time_limit"] = int(time_limit)
        self._steps.append(step)
        return True

    def start(self, queue=None, step_task_created_callback=None, step_task_completed_callback=None, wait=False):
        """Defines the pipeline on the server, which runs it; `queue` (ClearML:
        the controller's own queue) is the steps' default queue when none
        was set."""
        body = {"name": self._name, "project": self._project, "queue": self._queue or queue or "",
                "parameters": self._parameters, "steps": self._steps,
                "abort_on_failure": self._abort_on_failure}
        run = self._client.request("POST", "/api/v1/pipelines", body)
        self._run_id = run["id"]
        if wait:
            self.wait()
        return True

    def start_locally(self, run_pipeline_steps_locally=False):
        """The same as start() then wait(): the server drives the steps, agents run them."""
        if run_pipeline_steps_locally:
            warnings.warn("start_locally: steps run on the agents of their queues, not in this process")
        self.start(wait=True)

    def _state(self):
        return self._client.request("GET", f"/api/v1/pipelines/{quote(self._run_id)}")

    def wait(self, timeout=None):
        """Until the run ends (or `timeout` minutes, as ClearML counts them); True when it completed."""
        end = None if timeout is None else time.time() + 60 * timeout
        while True:
            state = self._state()
            if state["status"] in _FINAL:
                return state["status"] == "completed"
            if end is not None and time.time() > end:
                return False
            time.sleep(0.5)

    def get_processed_nodes(self):
        return [s["name"] for s in self._state()["steps"] if s["status"] in _FINAL]

    def get_running_nodes(self):
        return [s["name"] for s in self._state()["steps"] if s["status"] in ("queued", "running")]

    def stop(self, timeout=None, mark_failed=False, mark_aborted=False):
        """Aborts the steps not ended yet, then the run."""
        for s in self._state()["steps"]:
            if s["status"] not in _FINAL:
                self._client.request("POST", f"/api/v1/tasks/{quote(s['id'])}/status", {"status": "aborted"})
        self._client.request("POST", f"/api/v1/tasks/{quote(self._run_id)}/status",
                             {"status": "failed" if mark_failed else "aborted"})
