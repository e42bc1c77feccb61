"""ClearML's PipelineController over Roundhouse's task pipelines: the server
runs the DAG (no controller process), so `start()` defines the pipeline on
the server and returns, `wait()` follows it. Each step clones an existing
task (`base_task_id`, or the latest task named `base_task_name` in
`base_task_project`) with `parameter_override` values that may reference
`${pipeline.NAME}`, `${STEP.id}`, `${STEP.parameters.Section/name}`,
`${STEP.artifacts.NAME.url}` and `${STEP.models.output.-1.id}`; a reference
adds the parent by itself, an unknown one is refused by `start()`."""
import inspect
import textwrap
import time
import warnings

from .. import _backend
from .._http import RoundhouseError, quote

_FINAL = ("completed", "failed", "aborted")

# The script a function step runs: the function's source (and its helpers'),
# its arguments from the step's parameters (section "kwargs"; those in
# "kwargs_artifacts" are blob paths of earlier steps' pickled return values),
# its return values uploaded as pickled artifacts named by function_return.
_FUNCTION_RUNNER = """
import pickle as _pickle
import roundhouse as _rh
from roundhouse import _backend as _rh_backend

_task = _rh.Task.init(project={project!r}, name={name!r}, task_type={task_type!r})
_kwargs = _task.connect({kwargs!r}, name="kwargs")
_refs = _task.connect({refs!r}, name="kwargs_artifacts")
_client = _rh_backend.connect(start=False)
for _k, _url in _refs.items():
    _kwargs[_k] = _pickle.loads(_client.request("GET", _url, raw=True))
_result = {function}(**_kwargs)
_names = {returns!r}
_values = (_result,) if len(_names) == 1 else tuple(_result or ())
for _n, _v in zip(_names, _values):
    with open(_n + ".pkl", "wb") as _f:
        _pickle.dump(_v, _f)
    _task.upload_artifact(_n, _n + ".pkl")
"""


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

    def add_function_step(self, name, function, function_kwargs=None, function_return=None, project_name=None,
                          task_name=None, task_type=None, packages=None, helper_functions=None, parents=None,
                          execution_queue=None, time_limit=None, cache_executed_step=False, retry_on_failure=None,
                          **kwargs):
        """A step that runs `function`: its source (and `helper_functions`')
        becomes a script task in `project_name` (default: the pipeline's);
        `function_kwargs` values are its arguments, where "${step.name}"
        passes the return value `name` of an earlier function step;
        `function_return` names its return values, stored as artifacts."""
        ignored = sorted(k for k, v in kwargs.items() if v)
        if ignored:
            warnings.warn(f"add_function_step({name!r}): arguments without effect here: {', '.join(ignored)}")
        plain, refs, overrides = {}, {}, {}
        for k, v in (function_kwargs or {}).items():
            if isinstance(v, str) and v.startswith("${") and v.endswith("}") and v.count(".") == 1 \
                    and not v.endswith(".id}"):
                step, ret = v[2:-1].split(".")
                refs[k] = ""
                overrides[f"kwargs_artifacts/{k}"] = "${" + f"{step}.artifacts.{ret}.url" + "}"
            else:
                plain[k] = v
        sources = [textwrap.dedent(inspect.getsource(f)) for f in (helper_functions or [])]
        sources.append(textwrap.dedent(inspect.getsource(function)))
        project = project_name or self._project
        script = "\n\n".join(sources) + _FUNCTION_RUNNER.format(
            project=project, name=task_name or name, task_type=task_type or "data_processing", kwargs=plain,
            refs=refs, function=function.__name__, returns=list(function_return or []))
        body = {"project": project, "name": task_name or name, "type": task_type or "data_processing",
                "script": {"entry_point": f"{name}.py", "argv": ["python", f"{name}.py"], "content": script},
                "hyperparameters": {"kwargs": {k: str(v) for k, v in plain.items()},
                                    "kwargs_artifacts": {k: "" for k in refs}}}
        if packages:
            body["environment"] = {"requirements": "\n".join(packages) + "\n"}
        base = self._client.request("POST", "/api/v1/tasks", body)
        return self.add_step(name, base_task_id=base["id"], parents=parents, parameter_override=overrides,
                             execution_queue=execution_queue, time_limit=time_limit,
                             cache_executed_step=cache_executed_step, retry_on_failure=retry_on_failure)

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
