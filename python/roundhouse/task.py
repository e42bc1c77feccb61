"""Task: one recorded run. `Task.init()` creates it (or, under an agent,
attaches to the task named by RH_TASK_ID) and records the run automatically;
the class methods read recorded tasks back."""
import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
import traceback

from . import _backend, _capture, _console, _frameworks, _offline, artifact
from ._blobs import upload_file
from ._http import RoundhouseError, quote
from ._parameters import RecordingDict, flatten, from_text, plain, to_text, unflatten_into
from ._reporter import Reporter
from .artifact import Artifact
from .logger import Logger

_current = None
_FRAMEWORKS = ("matplotlib", "pytorch")


class Task:
    def __init__(self, client, record):
        self._client = client
        self._record = record
        self._reporter = None
        self._tees = None
        self._closed = False
        self._remote = False
        self._exit_code = None
        self._exception = None
        self._frameworks = dict.fromkeys(_FRAMEWORKS, False)
        self._auto_args = False

    # -- properties --------------------------------------------------------
    @property
    def id(self):
        return self._record["id"]

    @property
    def name(self):
        return self._record["name"]

    @property
    def project(self):
        return self._record["project"]

    @property
    def status(self):
        return self._refresh()["status"]

    @property
    def data(self):
        """The task record as the server holds it (a dict)."""
        return self._refresh()

    def _refresh(self):
        self._record = self._client.request("GET", f"/api/v1/tasks/{quote(self.id)}")
        return self._record

    def _path(self, sub=""):
        return f"/api/v1/tasks/{quote(self.id)}{sub}"

    # -- creating and attaching -------------------------------------------
    @classmethod
    def init(cls, project=None, name=None, tags=None, task_type="training", server=None,
             capture_console=True, auto_connect_frameworks=True, auto_connect_arg_parser=True):
        """Starts recording this process as a task and returns it; a second
        call returns the same task. Under an agent (RH_TASK_ID set) it attaches
        to that task, and connect()/argparse hand the code the task's values.

        auto_connect_frameworks: True, False, or a dict such as
        {"matplotlib": False} (a framework not named stays on, as in ClearML):
        "matplotlib" records figures saved or shown, "pytorch" records
        torch.save files as output models. auto_connect_arg_parser: False
        stops recording argparse results as the "Args" parameters."""
        global _current
        if _current is not None and not _current._closed:
            return _current
        frameworks = _framework_flags(auto_connect_frameworks)
        client = _backend.connect(server)
        if client is not None and not os.environ.get("RH_OFFLINE"):
            try:
                client.request("GET", "/api/v1/health")
            except RoundhouseError:
                client = None
        if client is None or os.environ.get("RH_OFFLINE"):
            # The run goes on: recorded to a folder for `rh import` later.
            client = _offline.OfflineClient(os.path.join(_backend.data_dir(), "offline"))
            sys.__stderr__.write(f"roundhouse: no server reachable; recording offline to {client.dir} "
                                 f"(upload later with: rh import {client.dir})\n")
        task_id = os.environ.get("RH_TASK_ID") if not isinstance(client, _offline.OfflineClient) else None
        if task_id:
            record = client.request("GET", f"/api/v1/tasks/{quote(task_id)}")
            task = cls(client, record)
            task._remote = True
            if record["status"] in ("created", "queued"):
                task._record = client.request("POST", task._path("/status"), {"status": "running"})
        else:
            script = _capture.capture_script()
            body = {"project": project or "default",
                    "name": name or (script["entry_point"] or "python"),
                    "type": task_type, "tags": list(tags or []), "script": script,
                    "environment": _capture.capture_environment()}
            task = cls(client, client.request("POST", "/api/v1/tasks", body))
            task._record = client.request("POST", task._path("/status"), {"status": "running"})
        task._frameworks = frameworks
        task._auto_args = bool(auto_connect_arg_parser)
        task._start(capture_console)
        _current = task
        return task

    def _framework_enabled(self, name):
        return self._frameworks.get(name, False)

    def _start(self, capture_console):
        self._reporter = Reporter(self._client, self.id)
        # Under `rh run` or an agent the parent process records the console already.
        if capture_console and not os.environ.get("RH_SUPERVISED"):
            self._tees = _console.install(self._reporter)
        # Listing distributions takes a moment; it runs beside the user's code
        # and is waited for at the end of the run.
        self._requirements_thread = threading.Thread(target=self._record_requirements,
                                                     args=(_capture.script_path(),), daemon=True)
        self._requirements_thread.start()
        for parser, namespace in _frameworks.pending_args():
            if self._auto_args:
                self._connect_args(parser, namespace)
        _install_hooks()
        _frameworks.install()
        atexit.register(self._at_exit)

    def _record_requirements(self, script):
        try:
            reqs, freeze = _capture.requirements_and_freeze(script)
            env = dict(self._record.get("environment") or {})
            if self._remote and env.get("requirements"):
                reqs = env["requirements"]  # what the agent installed stays the record
            env.update({"requirements": reqs, "freeze": freeze})
            self._client.request("PATCH", self._path(), {"environment": env})
        except Exception as e:  # recording must never break the run
            sys.__stderr__.write(f"roundhouse: could not record installed packages: {e}\n")

    @classmethod
    def current_task(cls):
        return _current

    # -- parameters ----------------------------------------------------------
    def connect(self, obj, name="General"):
        """Records a dict's (or an object's public attributes') values as the
        parameters of section `name`. For a dict it returns a connected copy
        holding the values the task holds (under an agent, the edited ones;
        the dict given is updated too): every later write to it, at any
        depth, is recorded again, as with ClearML. An object's attributes are
        set to the task's values and the object returned."""
        if isinstance(obj, dict):
            values = self._sync_section(name, flatten(obj))
            unflatten_into(obj, values)
            connected = RecordingDict(plain(obj), lambda: self._record_section(name, connected))
            return connected
        attrs = {k: v for k, v in vars(obj).items() if not k.startswith("_") and not callable(v)}
        values = self._sync_section(name, attrs)
        for k, v in values.items():
            setattr(obj, k, v)
        return obj

    def _sync_section(self, section, values):
        """The one path for parameters: record the code's values, or under an
        agent take the task's; returns {name: value} typed like the code's."""
        if self._remote:
            stored = self._refresh().get("hyperparameters", {}).get(section)
            if stored:
                out = dict(values)
                missing = {}
                for k, v in values.items():
                    if k in stored:
                        out[k] = from_text(stored[k]["value"], type(v))
                    else:
                        missing[k] = {"value": to_text(v), "type": type(v).__name__}
                if missing:  # parameters the edited task did not have are recorded as they are
                    self._client.request("PUT", self._path("/hyperparameters"),
                                         {"hyperparameters": {section: missing}})
                return out
        params = {k: {"value": to_text(v), "type": type(v).__name__} for k, v in values.items()}
        self._client.request("PUT", self._path("/hyperparameters"),
                             {"hyperparameters": {section: params}, "replace_sections": True})
        return dict(values)

    def _record_section(self, section, connected):
        """A connected dict changed: the section becomes what it now holds.
        A failure is reported and the user's code goes on."""
        if self._closed:
            return
        values = flatten(plain(connected))
        params = {k: {"value": to_text(v), "type": type(v).__name__} for k, v in values.items()}
        try:
            self._client.request("PUT", self._path("/hyperparameters"),
                                 {"hyperparameters": {section: params}, "replace_sections": True})
        except RoundhouseError as e:
            sys.__stderr__.write(f"roundhouse: could not record a change to parameters {section}: {e}\n")

    def _connect_args(self, parser, namespace):
        values = {a.dest: getattr(namespace, a.dest) for a in parser._actions
                  if a.dest != "help" and hasattr(namespace, a.dest)}
        for k, v in self._sync_section("Args", values).items():
            setattr(namespace, k, v)

    def connect_configuration(self, configuration, name=None, description=""):
        """Records a configuration file (path) or dict; returns the path or
        dict holding what the task holds (under an agent: the edited text)."""
        is_path = isinstance(configuration, (str, os.PathLike))
        if is_path:
            path = os.fspath(configuration)
            name = name or os.path.basename(path)
            with open(path, encoding="utf-8") as f:
                text = f.read()
        else:
            name = name or "General"
            text = json.dumps(configuration, indent=2, sort_keys=True, default=str)
        if self._remote:
            stored = self._refresh().get("configurations", {}).get(name)
            if stored is not None:
                text = stored["value"]
                if is_path:
                    out = os.path.join(tempfile.mkdtemp(prefix="rh-config-"), os.path.basename(path))
                    with open(out, "w", encoding="utf-8") as f:
                        f.write(text)
                    return out
                configuration.clear()
                configuration.update(json.loads(text))
                return configuration
        self._client.request("PUT", self._path(f"/configurations/{quote(name)}"),
                             {"value": text, "description": description})
        return configuration

    def get_parameters(self):
        """{"Section/name": value text}."""
        hp = self._refresh().get("hyperparameters", {})
        return {f"{s}/{n}": p["value"] for s, params in hp.items() for n, p in params.items()}

    def set_parameters(self, params):
        """Sets {"Section/name": value} on the task (a draft, or this run). A
        value given as text keeps the parameter's recorded type."""
        recorded = self._refresh().get("hyperparameters", {})
        sections = {}
        for key, v in params.items():
            section, _, pname = key.partition("/")
            if not pname:
                section, pname = "General", section
            old = recorded.get(section, {}).get(pname)
            kind = old["type"] if (old and isinstance(v, str)) else type(v).__name__
            sections.setdefault(section, {})[pname] = {"value": to_text(v), "type": kind,
                                                       "description": old["description"] if old else ""}
        self._client.request("PUT", self._path("/hyperparameters"), {"hyperparameters": sections})

    # -- remote execution ----------------------------------------------------
    @classmethod
    def clone(cls, source_task=None, name=None, comment=None, server=None):
        """A draft copy of source_task (a Task or an ID): the same code,
        environment, parameters and configurations, parent = the source.
        Edit it with set_parameters(), then Task.enqueue() it."""
        src = source_task if isinstance(source_task, Task) else cls.get_task(task_id=source_task, server=server)
        rec = src._client.request("POST", src._path("/clone"), {"name": name or "", "comment": comment or ""})
        return cls(src._client, rec)

    @staticmethod
    def enqueue(task, queue_name=None, priority=0):
        """Puts a draft in a queue for an agent to run; returns the task's record."""
        queue_name = queue_name or "default"  # there on every server, as in ClearML
        t = task if isinstance(task, Task) else Task.get_task(task_id=task)
        t._record = t._client.request("POST", t._path("/enqueue"), {"queue": queue_name, "priority": int(priority)})
        return t._record

    @staticmethod
    def dequeue(task):
        """Takes a queued task out of its queue (a draft again)."""
        t = task if isinstance(task, Task) else Task.get_task(task_id=task)
        t._record = t._client.request("POST", t._path("/dequeue"), {})
        return t._record

    def mark_stopped(self, status_message="aborted from the SDK"):
        """Aborts the task; an agent running it stops the process."""
        self._record = self._client.request("POST", self._path("/status"),
                                            {"status": "aborted", "message": status_message})
        return self._record

    # -- reporting -----------------------------------------------------------
    def get_logger(self):
        return Logger(self)

    def upload_artifact(self, name, artifact_object, metadata=None):
        """Stores an object as the named artifact: a file or folder path, a
        dict (JSON), a pandas DataFrame (CSV), a numpy array (.npy), a PIL
        image (PNG) or anything that pickles (see roundhouse.artifact)."""
        kind, content_type, path, cleanup = artifact.encode(artifact_object)
        try:
            digest, _ = upload_file(self._client, path)
            meta = {str(k): str(v) for k, v in (metadata or {}).items()}
            return self._client.request("POST", self._path("/artifacts"),
                                        {"name": name, "digest": digest, "type": kind,
                                         "content_type": content_type, "metadata": meta})
        finally:
            if cleanup:
                shutil.rmtree(cleanup, ignore_errors=True)

    @property
    def artifacts(self):
        arts = self._client.request("GET", self._path("/artifacts"))["artifacts"]
        return {a["name"]: Artifact(self, a) for a in arts}

    # -- reading -------------------------------------------------------------
    def get_reported_scalars(self, max_points=0, as_dataframe=False):
        """{title: {series: {"x": iterations, "y": values, "time": times}}}; with
        as_dataframe, a pandas DataFrame with one row a point: title, series,
        iteration, value, time. max_points (>= 4) reduces long series on the
        server, keeping each bucket's extremes."""
        if as_dataframe:
            import pandas as pd  # only when asked for: the SDK itself needs no pandas
            rows = {"title": [], "series": [], "iteration": [], "value": [], "time": []}
            for title, by_series in self.get_reported_scalars(max_points).items():
                for series, d in by_series.items():
                    rows["title"] += [title] * len(d["x"])
                    rows["series"] += [series] * len(d["x"])
                    rows["iteration"] += d["x"]
                    rows["value"] += d["y"]
                    rows["time"] += d["time"]
            return pd.DataFrame(rows)
        out = {}
        for s in self._client.request("GET", self._path("/scalars"))["scalars"]:
            data = self._client.request(
                "GET", self._path(f"/scalars/series?title={quote(s['title'])}&series={quote(s['series'])}"
                                  f"&max_points={int(max_points)}"))
            out.setdefault(s["title"], {})[s["series"]] = {
                "x": data["iterations"], "y": [_num(v) for v in data["values"]], "time": data["times"]}
        return out

    def get_last_scalar_metrics(self):
        """{title: {series: {"last", "min", "max"}}}"""
        out = {}
        for s in self._client.request("GET", self._path("/scalars"))["scalars"]:
            out.setdefault(s["title"], {})[s["series"]] = {
                "last": _num(s["last_value"]), "min": _num(s["min_value"]), "max": _num(s["max_value"])}
        return out

    def get_reported_console_output(self):
        return [l["text"] for l in self._client.request("GET", self._path("/console?limit=100000"))["lines"]]

    @classmethod
    def get_task(cls, task_id=None, project_name=None, task_name=None, server=None):
        client = _backend.connect(server, start=False)
        if client is None:
            raise RoundhouseError("unavailable", "no rh server to read from")
        if task_id:
            return cls(client, client.request("GET", f"/api/v1/tasks/{quote(task_id)}"))
        # The server's name filter matches a part of the name: the newest task
        # whose whole name is task_name is the one (pages read until found).
        q = f"/api/v1/tasks?limit=200&project={quote(project_name or '')}&name={quote(task_name or '')}"
        cursor = None
        while True:
            page = client.request("GET", q + (f"&cursor={quote(cursor)}" if cursor else ""))
            exact = [t for t in page["tasks"] if task_name is None or t["name"] == task_name]
            if exact:
                return cls(client, client.request("GET", f"/api/v1/tasks/{quote(exact[0]['id'])}"))
            cursor = page.get("next_cursor")
            if not cursor:
                raise RoundhouseError("not_found", f"no task named {task_name!r} in project {project_name!r}")

    @classmethod
    def query(cls, project=None, tags=None, status=None, name=None, server=None, limit=1000):
        client = _backend.connect(server, start=False)
        if client is None:
            raise RoundhouseError("unavailable", "no rh server to read from")
        q = [f"limit={int(limit)}"]
        if project:
            q.append("project=" + quote(project))
        for t in tags or []:
            q.append("tag=" + quote(t))
        for s in ([status] if isinstance(status, str) else status or []):
            q.append("status=" + quote(s))
        if name:
            q.append("name=" + quote(name))
        return [cls(client, t) for t in client.request("GET", "/api/v1/tasks?" + "&".join(q))["tasks"]]

    def flush(self, wait_for_uploads=True):
        """Sends the scalars, console lines and plots buffered so far now, instead
        of at the next background round. True when nothing is left pending."""
        if self._reporter is None:
            return True
        return self._reporter.flush()

    # -- ending --------------------------------------------------------------
    def mark_failed(self, message=""):
        self._finish("failed", message)

    def close(self):
        """Sends everything still buffered and marks the run completed."""
        self._finish("completed", "")

    def _finish(self, status, message, runtime=None):
        if self._closed:
            return
        self._closed = True
        thread = getattr(self, "_requirements_thread", None)
        if thread is not None:
            thread.join(timeout=60)
        if self._tees:
            _console.uninstall(self._tees)
        if self._reporter and not self._reporter.close():
            sys.__stderr__.write("roundhouse: some console lines or scalars could not be sent\n")
        try:
            if runtime:
                self._client.request("PATCH", self._path(), {"runtime": runtime})
            # Under `rh run` or an agent the supervisor records a normal end
            # itself, after the last console lines are in; failures (with
            # their traceback) and aborts are still recorded here.
            supervised = os.environ.get("RH_SUPERVISED") and status == "completed"
            if not supervised and self._refresh()["status"] in ("running", "paused"):
                self._client.request("POST", self._path("/status"), {"status": status, "message": message})
        except RoundhouseError as e:
            sys.__stderr__.write(f"roundhouse: could not record the end of task {self.id}: {e}\n")
        if isinstance(self._client, _offline.OfflineClient):
            self._client.close()

    def _at_exit(self):
        if self._closed:
            return
        exc = self._exception
        if exc is not None and issubclass(exc[0], KeyboardInterrupt):
            self._finish("aborted", "KeyboardInterrupt")
        elif exc is not None:
            tb = "".join(traceback.format_exception(*exc))
            last = traceback.format_exception_only(exc[0], exc[1])[-1].strip()
            self._finish("failed", last, {"traceback": tb})
        elif self._exit_code not in (None, 0):
            self._finish("failed", f"exit code {self._exit_code}", {"exit_code": str(self._exit_code)})
        else:
            self._finish("completed", "", {"exit_code": "0"})


# -- helpers -------------------------------------------------------------------
def _num(v):
    return float(v) if isinstance(v, str) else v


def _framework_flags(value):
    """init's auto_connect_frameworks as {framework: on}."""
    if isinstance(value, dict):  # ClearML names more frameworks; those not recorded here are ignored
        return {k: bool(value.get(k, True)) for k in _FRAMEWORKS}
    return dict.fromkeys(_FRAMEWORKS, bool(value))


# -- process hooks ---------------------------------------------------------------
_hooks_installed = False


def _install_hooks():
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    previous_hook = sys.excepthook

    def excepthook(etype, value, tb):
        if _current is not None:
            _current._exception = (etype, value, tb)
        previous_hook(etype, value, tb)

    sys.excepthook = excepthook
    original_exit = sys.exit

    def exit(code=0):
        if _current is not None:
            _current._exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        original_exit(code)

    sys.exit = exit
