"""Task: one recorded run. `Task.init()` creates it (or, under an agent,
attaches to the task named by RH_TASK_ID) and records the run automatically;
the class methods read recorded tasks back."""
import argparse
import atexit
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import threading
import traceback

from . import _backend, _capture, _console, _imports, _offline, _safe_paths
from ._blobs import upload_file
from ._http import RoundhouseError, quote
from ._reporter import Reporter
from .logger import Logger

_current = None
_last_args = []  # (parser, namespace) parsed before init()


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
             capture_console=True):
        """Starts recording this process as a task and returns it; a second
        call returns the same task. Under an agent (RH_TASK_ID set) it attaches
        to that task, and connect()/argparse hand the code the task's values."""
        global _current
        if _current is not None and not _current._closed:
            return _current
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
        task._start(capture_console)
        _current = task
        return task

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
        for parser, namespace in _last_args:
            self._connect_args(parser, namespace)
        _install_hooks()
        _imports.when_imported("matplotlib.figure", _patch_matplotlib)
        _imports.when_imported("torch", _patch_torch)
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
        parameters of section `name`, and returns the object holding the
        values the task holds: under an agent, the edited ones."""
        if isinstance(obj, dict):
            flat = _flatten(obj)
            values = self._sync_section(name, flat)
            _unflatten_into(obj, values)
            return obj
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
                        out[k] = _from_text(stored[k]["value"], type(v))
                    else:
                        missing[k] = {"value": _to_text(v), "type": type(v).__name__}
                if missing:  # parameters the edited task did not have are recorded as they are
                    self._client.request("PUT", self._path("/hyperparameters"),
                                         {"hyperparameters": {section: missing}})
                return out
        params = {k: {"value": _to_text(v), "type": type(v).__name__} for k, v in values.items()}
        self._client.request("PUT", self._path("/hyperparameters"),
                             {"hyperparameters": {section: params}, "replace_sections": True})
        return dict(values)

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
            sections.setdefault(section, {})[pname] = {"value": _to_text(v), "type": kind,
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
        """Stores a file, a folder (as .tar.gz), a dict (JSON), a pandas
        DataFrame (CSV) or a numpy array (.npy) as the named artifact."""
        kind, content_type, path, cleanup = _artifact_file(artifact_object)
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


class OutputModel:
    """A model file a task produced: stored as a blob and listed on the task."""

    def __init__(self, task=None, name=None, framework=""):
        self._task = task or _current
        if self._task is None:
            raise RoundhouseError("invalid_argument", "OutputModel needs a task (call roundhouse.init first)")
        self.name = name
        self.framework = framework
        self.id = None

    def update_weights(self, weights_filename):
        client = self._task._client
        digest, _ = upload_file(client, weights_filename)
        rec = client.request("POST", self._task._path("/models"),
                             {"name": self.name or os.path.basename(weights_filename), "direction": "output",
                              "digest": digest, "framework": self.framework,
                              "metadata": {"file": os.path.basename(weights_filename)}})
        self.id = rec["id"]
        return rec


class Artifact:
    def __init__(self, task, record):
        self._task = task
        self.name = record["name"]
        self.digest = record["digest"]
        self.size = record["size"]
        self.type = record["type"]
        self.metadata = record.get("metadata", {})

    def get_local_copy(self):
        """A read-only cached copy (a folder artifact is extracted); the
        digest is checked on download."""
        cache = os.path.join(_backend.data_dir(), "cache", "artifacts")
        os.makedirs(cache, exist_ok=True)
        hexd = self.digest.split(":", 1)[1]
        path = os.path.join(cache, hexd)
        if not os.path.exists(path):
            data = self._task._client.request("GET", f"/api/v1/blobs/{self.digest}", raw=True)
            if "sha256:" + hashlib.sha256(data).hexdigest() != self.digest:
                raise RoundhouseError("corrupt", f"artifact {self.name} does not match its digest")
            tmp = path + f".tmp{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, path)
        if self.type == "folder":
            out = path + ".d"
            if not os.path.isdir(out):
                tmp = out + f".tmp{os.getpid()}"
                shutil.rmtree(tmp, ignore_errors=True)
                # Every member checked here, whatever this Python's tarfile filters.
                _safe_paths.extract_tar(path, tmp, f"folder artifact {self.name}")
                os.replace(tmp, out)
            return out
        return path

    def get(self):
        """The artifact as an object: dicts from JSON, else the local path."""
        path = self.get_local_copy()
        if self.type == "json":
            with open(path) as f:
                return json.load(f)
        return path


# -- helpers -------------------------------------------------------------------
def _num(v):
    return float(v) if isinstance(v, str) else v


def _to_text(v):
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, default=str)
    return str(v)


def _from_text(text, typ):
    try:
        if typ is bool:
            return text.strip().lower() in ("true", "1", "yes", "on")
        if typ in (int, float):
            return typ(text)
        if typ in (list, tuple, dict):
            return typ(json.loads(text))
        if typ is type(None):
            return None if text in ("None", "") else text
    except (ValueError, TypeError):
        pass
    return text


def _flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, key + "/"))
        else:
            out[key] = v
    return out


def _unflatten_into(d, flat):
    for key, v in flat.items():
        parts = key.split("/")
        node = d
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = v


def _artifact_file(obj):
    """(type, content type, path, folder to remove afterwards)"""
    tmp = tempfile.mkdtemp(prefix="rh-artifact-")
    if isinstance(obj, (str, os.PathLike)) and os.path.isdir(obj):
        path = os.path.join(tmp, "folder.tar.gz")
        with tarfile.open(path, "w:gz") as tar:
            tar.add(os.fspath(obj), arcname=".")
        return "folder", "application/gzip", path, tmp
    if isinstance(obj, (str, os.PathLike)) and os.path.isfile(obj):
        shutil.rmtree(tmp)
        return "file", "application/octet-stream", os.fspath(obj), None
    if isinstance(obj, dict):
        path = os.path.join(tmp, "artifact.json")
        with open(path, "w") as f:
            json.dump(obj, f, indent=2, default=str)
        return "json", "application/json", path, tmp
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(obj, pd.DataFrame):
        path = os.path.join(tmp, "artifact.csv")
        obj.to_csv(path)
        return "csv", "text/csv", path, tmp
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        path = os.path.join(tmp, "artifact.npy")
        np.save(path, obj)
        return "npy", "application/octet-stream", path, tmp
    shutil.rmtree(tmp)
    raise RoundhouseError("invalid_argument", f"cannot store a {type(obj).__name__} as an artifact "
                                              "(give a file or folder path, a dict, a DataFrame or an ndarray)")


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


_figure_counter = [0]


def _patch_matplotlib(figure_module):
    """Figures shown or saved are reported as debug images."""
    Figure = figure_module.Figure
    original_savefig = Figure.savefig
    reporting = threading.local()

    def report(fig):
        task = _current
        if task is None or task._closed or getattr(reporting, "active", False):
            return
        title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
        if not title:
            titles = [ax.get_title() for ax in fig.get_axes() if ax.get_title()]
            title = titles[0] if titles else "matplotlib"
        _figure_counter[0] += 1
        reporting.active = True
        try:
            task.get_logger().report_matplotlib_figure(title, f"figure {fig.number if hasattr(fig, 'number') else ''}".strip(),
                                                       fig, iteration=_figure_counter[0] - 1)
        finally:
            reporting.active = False

    def savefig(self, *args, **kwargs):
        out = original_savefig(self, *args, **kwargs)
        report(self)
        return out

    Figure.savefig = savefig
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        return
    original_show = plt.show

    def show(*args, **kwargs):
        for num in plt.get_fignums():
            report(plt.figure(num))
        return original_show(*args, **kwargs)

    plt.show = show


def _patch_torch(torch):
    """Files written with torch.save are registered as output models."""
    original = torch.save

    def save(obj, f, *args, **kwargs):
        out = original(obj, f, *args, **kwargs)
        task = _current
        if task is None or task._closed:
            return out
        if isinstance(f, (str, os.PathLike)):
            path = os.fspath(f)
        else:  # an open file: registered by its name once what torch wrote is flushed
            path = getattr(f, "name", None)
            if not isinstance(path, str) or not os.path.isfile(path):
                return out
            try:
                f.flush()
            except (OSError, ValueError, AttributeError):
                return out
        try:
            OutputModel(task, framework="pytorch").update_weights(path)
        except Exception as e:
            sys.__stderr__.write(f"roundhouse: could not register {path} as a model: {e}\n")
        return out

    torch.save = save


def _patch_argparse():
    original = argparse.ArgumentParser.parse_known_args

    def parse_known_args(self, args=None, namespace=None):
        ns, rest = original(self, args, namespace)
        if _current is not None and not _current._closed:
            _current._connect_args(self, ns)
        else:
            _last_args.append((self, ns))
        return ns, rest

    argparse.ArgumentParser.parse_known_args = parse_known_args


_patch_argparse()
