"""ClearML's HyperParameterOptimizer over a Roundhouse experiment: the
same arguments, an experiment whose trials are clones of `base_task_id`
with the sampled values set (the search runs in the server, the clones on
the agents of `execution_queue`), ranked by the scalar
(objective_metric_title, objective_metric_series).

optimizer_class: RandomSearch (random), GridSearch (every combination of
the ranges' to_list(), as ClearML's), and the early-stopping ones,
OptimizerBOHB and OptimizerOptuna, both run as Roundhouse's stop-based
adaptive ASHA over iterations (min/max_iteration_per_job): a clone that is
not in the top 1/eta of its rung is aborted, as ClearML's pruners abort.
optimization_time_limit and compute_time_limit are in minutes, as ClearML;
the first is kept by wait(), the second is not enforced (a warning says so)."""
import json
import time
import warnings

from .. import _backend
from .._http import RoundhouseError, quote


class SearchStrategy(object):
    """The strategies are markers: the search itself runs in the server."""
    searcher = "random"

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class RandomSearch(SearchStrategy):
    searcher = "random"


class GridSearch(SearchStrategy):
    searcher = "grid"


class OptimizerBOHB(SearchStrategy):
    searcher = "adaptive_asha"


class OptimizerOptuna(SearchStrategy):
    searcher = "adaptive_asha"


def _nest(name, space, into):
    """"Args/lr" -> into["Args"]["lr"] (a name with no section goes to General)."""
    section, _, rest = name.partition("/")
    if not rest:
        section, rest = "General", name
    into.setdefault(section, {})[rest] = space


def _yaml(value, indent=0):
    """A small YAML writer for the config: JSON is YAML."""
    return json.dumps(value)


class HyperParameterOptimizer(object):
    _tag = "optimization"

    def __init__(self, base_task_id, hyper_parameters, objective_metric_title, objective_metric_series,
                 objective_metric_sign="min", optimizer_class=RandomSearch, max_number_of_concurrent_tasks=10,
                 execution_queue="default", optimization_time_limit=None, compute_time_limit=None,
                 auto_connect_task=True, always_create_task=False, spawn_project=None, save_top_k_tasks_only=None,
                 **optimizer_kwargs):
        if not isinstance(objective_metric_title, str) or not isinstance(objective_metric_series, str):
            raise ValueError("multi-objective optimization is not supported: give one objective_metric_title "
                             "and one objective_metric_series")
        if objective_metric_sign not in ("min", "max", "min_global", "max_global"):
            raise ValueError(f"objective_metric_sign {objective_metric_sign!r}: expected min, max, min_global or "
                             "max_global")
        self.base_task_id = base_task_id
        self.hyper_parameters = list(hyper_parameters)
        self.objective_metric_title = objective_metric_title
        self.objective_metric_series = objective_metric_series
        self.objective_metric_sign = objective_metric_sign
        self.max_number_of_concurrent_tasks = int(max_number_of_concurrent_tasks)
        self.execution_queue = execution_queue
        self.optimization_timeout = optimization_time_limit * 60 if optimization_time_limit else None
        self._spawn_project = spawn_project
        cls = optimizer_class if isinstance(optimizer_class, type) else type(optimizer_class)
        if not issubclass(cls, SearchStrategy):
            raise ValueError(f"optimizer_class {cls.__name__}: use RandomSearch, GridSearch, OptimizerBOHB or "
                             "OptimizerOptuna from roundhouse.automation")
        self._optimizer_class = cls
        self._kwargs = dict(optimizer_kwargs)
        known = {"total_max_jobs", "min_iteration_per_job", "max_iteration_per_job", "pool_period_min",
                 "time_limit_per_job", "eta", "num_samples", "seed"}
        unknown = sorted(set(self._kwargs) - known)
        if unknown:
            warnings.warn(f"HyperParameterOptimizer: arguments without effect here: {', '.join(unknown)}")
        if compute_time_limit or self._kwargs.get("time_limit_per_job"):
            warnings.warn("HyperParameterOptimizer: compute_time_limit and time_limit_per_job are not enforced")
        self._client = _backend.connect(start=False)
        if self._client is None:
            raise RoundhouseError("unavailable", "no rh server: set RH_SERVER or start rh server")
        self._experiment_id = None
        self._started = None

    # The experiment config this optimizer amounts to.
    def _config(self):
        grid = self._optimizer_class.searcher == "grid"
        space = {}
        for p in self.hyper_parameters:
            _nest(p.name, p._grid_space() if grid else p._space(), space)
        max_jobs = int(self._kwargs.get("total_max_jobs") or 0)
        max_iter = int(self._kwargs.get("max_iteration_per_job") or 0)
        searcher = {"name": self._optimizer_class.searcher,
                    "metric": f"{self.objective_metric_title}/{self.objective_metric_series}",
                    "smaller_is_better": self.objective_metric_sign.startswith("min"),
                    "max_concurrent_trials": self.max_number_of_concurrent_tasks,
                    "max_length": max_iter or 1}
        if searcher["name"] == "random":
            searcher["max_trials"] = max_jobs or 10
        if searcher["name"] == "adaptive_asha":
            if not max_iter:
                raise ValueError(f"{self._optimizer_class.__name__} needs max_iteration_per_job (its rungs are "
                                 "counted in iterations)")
            searcher["max_trials"] = max_jobs or 10
            searcher["stop_once"] = True
            searcher["divisor"] = float(self._kwargs.get("eta", 3))
            min_iter = int(self._kwargs.get("min_iteration_per_job") or 0)
            if min_iter:
                rungs = 1
                while max_iter / (searcher["divisor"] ** rungs) >= min_iter:
                    rungs += 1
                searcher["max_rungs"] = rungs
        cfg = {"name": "optimization", "entrypoint": f"clone of task {self.base_task_id}",
               "hyperparameters": space, "searcher": searcher}
        seed = self._kwargs.get("seed")
        if seed is not None:
            cfg["reproducibility"] = {"experiment_seed": int(seed)}
        return "\n".join(f"{k}: {_yaml(v)}" for k, v in cfg.items()) + "\n"

    def start(self, job_complete_callback=None):
        """Creates the experiment; the server runs it. Returns True."""
        if job_complete_callback is not None:
            warnings.warn("job_complete_callback is not called: poll get_top_experiments() instead")
        body = {"config": self._config(), "file": "HyperParameterOptimizer", "queue": self.execution_queue,
                "base_task": self.base_task_id, "objective_title": self.objective_metric_title,
                "objective_series": self.objective_metric_series}
        if self._spawn_project:
            body["project"] = self._spawn_project
        exp = self._client.request("POST", "/api/v1/experiments", body)
        self._experiment_id = exp["id"]
        self._started = time.time()
        return True

    def start_locally(self, job_complete_callback=None):
        return self.start(job_complete_callback)

    @property
    def id(self):
        return self._experiment_id

    def _experiment(self):
        if not self._experiment_id:
            raise RoundhouseError("invalid_argument", "the optimization has not started: call start()")
        return self._client.request("GET", f"/api/v1/experiments/{quote(self._experiment_id)}")

    def is_active(self):
        return self._experiment_id is not None and self._experiment()["state"] in ("running", "paused")

    def is_running(self):
        return self.is_active()

    def wait(self, timeout=None):
        """Until the search ends, or timeout minutes pass (False then)."""
        deadline = None if timeout is None else time.time() + timeout * 60
        while self.is_active():
            if self.reached_time_limit():
                self.stop()
                return True
            if deadline is not None and time.time() > deadline:
                return False
            time.sleep(1)
        return True

    def stop(self, timeout=None, wait_for_reporter=True):
        """Ends the search: every trial still running is aborted."""
        if self._experiment_id and self.is_active():
            self._client.request("POST", f"/api/v1/experiments/{quote(self._experiment_id)}/kill", {})

    def set_time_limit(self, in_minutes=None, specific_time=None):
        if specific_time:
            self.optimization_timeout = specific_time.timestamp() - (self._started or time.time())
        else:
            self.optimization_timeout = in_minutes * 60 if in_minutes else None

    def get_time_limit(self):
        return self.optimization_timeout

    def elapsed(self):
        return -1.0 if not self._started else (time.time() - self._started) / 60.0

    def reached_time_limit(self):
        return bool(self._started and self.optimization_timeout and
                    time.time() - self._started > self.optimization_timeout)

    def get_num_active_experiments(self):
        return sum(t["state"] in ("queued", "running") for t in self._experiment()["trials"])

    def get_active_experiments(self):
        from ..task import Task
        return [Task.get_task(task_id=t["task_id"]) for t in self._experiment()["trials"]
                if t["state"] in ("queued", "running")]

    def _ranked(self):
        smaller = self.objective_metric_sign.startswith("min")
        key = "best_metric" if self.objective_metric_sign.endswith("_global") else "last_metric"
        done = [t for t in self._experiment()["trials"] if key in t]
        return sorted(done, key=lambda t: t[key] if smaller else -t[key]), key

    def get_top_experiments_id_metrics_pair(self, top_k, all_metrics=False, only_completed=False):
        ranked, key = self._ranked()
        if only_completed:
            ranked = [t for t in ranked if t["state"] == "completed"]
        return [(t["task_id"], {self.objective_metric_title: {self.objective_metric_series: {
            "value": t[key], "min": t["best_metric"] if key == "best_metric" else None}}}) for t in ranked[:top_k]]

    def get_top_experiments(self, top_k):
        """The top_k trial tasks by the objective (last value; the best one with a *_global sign)."""
        from ..task import Task
        ranked, _ = self._ranked()
        return [Task.get_task(task_id=t["task_id"]) for t in ranked[:top_k]]

    def get_top_experiments_details(self, top_k, all_metrics=False, all_hyper_parameters=False,
                                    only_completed=False):
        ranked, key = self._ranked()
        if only_completed:
            ranked = [t for t in ranked if t["state"] == "completed"]
        return [{"task_id": t["task_id"], "hyper_parameters": t["hparams"],
                 "metrics": {self.objective_metric_title: {self.objective_metric_series: t[key]}}}
                for t in ranked[:top_k]]

    def set_report_period(self, report_period_minutes):
        pass  # the experiment page is live


__all__ = ["HyperParameterOptimizer", "SearchStrategy", "RandomSearch", "GridSearch", "OptimizerBOHB",
           "OptimizerOptuna"]
