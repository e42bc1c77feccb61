"""Versioned datasets from Python, after ClearML Data: a version is its
parents' files plus a delta; contents are stored once by SHA-256; local
copies are read-only hard links into a cache. The same store and cache as
`rh data` (docs/api.md "Datasets"), standard library only."""
import atexit
import errno
import fnmatch
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from . import _backend, _safe_paths
from ._http import RoundhouseError

_WORKERS = min(16, (os.cpu_count() or 2) * 2)

# The blob batch format of POST /blobs/batch and /blobs/fetch (docs/api.md):
# "RHB1", then per blob its 71-byte digest, its size (u64 LE), its bytes.
_BATCH_MAGIC = b"RHB1"
_BATCH_SIZE = struct.Struct("<Q")
_SMALL = 4 << 20         # smaller blobs go many to a request
_SMALL_FILE = 1 << 20    # files added up to this size are read whole
_BATCH_BYTES = 16 << 20  # the server's limits for one batch
_BATCH_COUNT = 2000
_FETCH_ALONE = 1 << 20   # fetched by a GET each; smaller ones through /blobs/fetch


def _read_batch(body):
    """(digest, bytes) pairs of an RHB1 batch."""
    if not body.startswith(_BATCH_MAGIC):
        raise RoundhouseError("internal", "the server's blob batch does not start with RHB1")
    pos, view = len(_BATCH_MAGIC), memoryview(body)
    while pos < len(body):
        if pos + 71 + 8 > len(body):
            raise RoundhouseError("internal", f"the server's blob batch is cut short at byte {pos}")
        digest = bytes(view[pos:pos + 71]).decode()
        (size,) = _BATCH_SIZE.unpack_from(body, pos + 71)
        pos += 79
        if pos + size > len(body):
            raise RoundhouseError("internal", f"the server's blob batch is cut short in {digest}")
        yield digest, bytes(view[pos:pos + size])
        pos += size


def _units(digests, sizes, alone, count, nbytes):
    """The requests for these blobs: each blob of `alone` bytes or more by
    itself, the others in groups of at most `count` blobs and `nbytes` bytes."""
    out = [[d] for d in digests if sizes[d] >= alone]
    cur, cur_bytes = [], 0
    for d in digests:
        if sizes[d] >= alone:
            continue
        if cur and (len(cur) >= count or cur_bytes + sizes[d] > nbytes):
            out.append(cur)
            cur, cur_bytes = [], 0
        cur.append(d)
        cur_bytes += sizes[d]
    if cur:
        out.append(cur)
    return out


def _each_in_threads(fn, items, workers, done=None):
    """fn(item) for every item on `workers` plain threads; done(result) in
    the calling thread as results come; the first error stops the rest and
    is raised. (Not a ThreadPoolExecutor: it refuses work once the
    interpreter begins to exit, when a background upload may still run.)"""
    items, lock, results = list(items), threading.Lock(), []
    state = {"next": 0, "error": None}
    ready = threading.Condition(lock)

    def work():
        while True:
            with lock:
                i = state["next"]
                if i >= len(items) or state["error"] is not None:
                    return
                state["next"] = i + 1
            try:
                r = fn(items[i])
            except BaseException as e:
                with lock:
                    state["error"] = state["error"] or e
                    ready.notify()
                return
            with lock:
                results.append(r)
                ready.notify()

    threads = [threading.Thread(target=work, daemon=False) for _ in range(max(1, min(workers, len(items))))]
    for t in threads:
        t.start()
    taken = 0
    while True:
        with lock:
            while taken == len(results) and taken < len(items) and state["error"] is None:
                ready.wait()
            new, taken = results[taken:], len(results)
            stop = taken >= len(items) or state["error"] is not None
        for r in new:
            if done:
                done(r)
        if stop:
            break
    for t in threads:
        t.join()
    if state["error"] is not None:
        raise state["error"]


class _Cache:
    """The local content cache (<data dir>/cache/blobs, laid out as the
    server's blob folder: ab/cdef...) and the stat cache that spares
    re-reading unchanged files."""

    def __init__(self):
        base = _backend.data_dir()
        self.root = os.path.join(base, "cache", "blobs")
        os.makedirs(os.path.join(self.root, "tmp"), exist_ok=True)
        self.datasets = os.path.join(base, "datasets")
        os.makedirs(self.datasets, exist_ok=True)
        self._stat_path = os.path.join(base, "statcache.bin")

    def path(self, digest):
        hexd = digest.split(":", 1)[1]
        return os.path.join(self.root, hexd[:2], hexd[2:])

    def has(self, digest, size=None):
        try:
            st = os.stat(self.path(digest))
        except OSError:
            return False
        return size is None or st.st_size == size

    def put_file(self, src):
        """Copies src into the cache while hashing it; returns (digest, size)."""
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=os.path.join(self.root, "tmp"))
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            digest = "sha256:" + h.hexdigest()
            self._place(tmp, digest)
            return digest, size
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def put_small(self, data):
        """Stores a file's bytes, read whole; returns the digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self._store(digest, data)
        return digest

    def put_bytes(self, data, expected):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest != expected:
            raise RoundhouseError("corrupt", f"downloaded content does not match {expected} (got {digest})")
        self._store(digest, data)

    _unnamed = hasattr(os, "O_TMPFILE")  # cleared where the file system or /proc lacks it

    def _store(self, digest, data):
        """data under its digest's name, unless a whole copy is there. Written
        unnamed (O_TMPFILE) and linked into place, as the rh CLI does, so no
        partial object ever has the name; else through a named temporary file."""
        final = self.path(digest)
        try:
            if os.stat(final).st_size == len(data):
                return
            os.unlink(final)  # damaged: replaced
        except FileNotFoundError:
            pass
        folder = os.path.dirname(final)
        if _Cache._unnamed:
            try:
                fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o444)
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
                return self._store(digest, data)
            except OSError as e:
                if e.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise  # not "no O_TMPFILE here": a real error, the caller names it
                _Cache._unnamed = False
            else:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    # An absolute path with a dir_fd makes Python call linkat, which follows
                    # /proc/self/fd/N to the unnamed file (link() would not).
                    os.link(f"/proc/self/fd/{fd}", final, dst_dir_fd=self._any_dir_fd(), follow_symlinks=True)
                    return
                except FileExistsError:
                    return  # another writer's whole copy
                except OSError as e:
                    if e.errno not in (errno.ENOENT, errno.EXDEV, errno.EPERM):
                        raise
                    _Cache._unnamed = False  # no /proc to link through
                finally:
                    os.close(fd)
        fd, tmp = tempfile.mkstemp(dir=os.path.join(self.root, "tmp"))
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            self._place(tmp, digest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    _any_dir = None  # a descriptor for os.link's dst_dir_fd (the path it gets is absolute)
    _any_dir_lock = threading.Lock()

    @classmethod
    def _any_dir_fd(cls):
        with cls._any_dir_lock:
            if cls._any_dir is None:
                cls._any_dir = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            return cls._any_dir

    def _place(self, tmp, digest):
        final = self.path(digest)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.chmod(tmp, 0o444)
        try:
            os.link(tmp, final)  # the first complete copy wins
        except FileExistsError:
            pass

    # The stat cache file shared with the rh CLI (src/roundhouse/data/stat_cache.h):
    # "RHSTAT1\n", then 64-byte records: dev, ino (u64), size, mtime ns (i64), raw SHA-256,
    # sorted by (dev, ino) so the CLI can search it as it is.
    _STAT_MAGIC = b"RHSTAT1\n"
    _STAT_RECORD = struct.Struct("<QQqq32s")

    def load_stat_cache(self):
        """{(dev, ino): (size, mtime_ns, digest)}; empty when absent or not a stat cache."""
        try:
            with open(self._stat_path, "rb") as f:
                data = f.read()
        except OSError:
            return {}
        body = data[len(self._STAT_MAGIC):]
        if not data.startswith(self._STAT_MAGIC) or len(body) % self._STAT_RECORD.size:
            return {}
        return {(dev, ino): (size, mtime, "sha256:" + sha.hex())
                for dev, ino, size, mtime, sha in self._STAT_RECORD.iter_unpack(body)}

    def save_stat_cache(self, known, new):
        """Rewrites the cache with the new (dev, ino, size, mtime_ns, digest) entries
        (temporary file + rename; a lost update only costs hashing again)."""
        if not new:
            return
        for dev, ino, size, mtime, digest in new:
            known[(dev, ino)] = (size, mtime, digest)
        out = bytearray(self._STAT_MAGIC)
        for (dev, ino), (size, mtime, digest) in sorted(known.items()):
            out += self._STAT_RECORD.pack(dev, ino, size, mtime, bytes.fromhex(digest.split(":", 1)[1]))
        tmp = f"{self._stat_path}.tmp.{os.getpid()}"
        try:
            with open(tmp, "wb") as f:
                f.write(out)
            os.replace(tmp, self._stat_path)
        except OSError:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _find_versions(client, limit, project, name, version, tags, only_completed):
    """GET /datasets, newest first; a None filter is left out (an empty project or name is sent)."""
    q = [f"limit={limit}"]
    for key, value in (("project", project), ("name", name), ("version", version or None)):
        if value is not None:
            q.append(f"{key}={quote(value)}")
    q += [f"tag={quote(t)}" for t in tags or []]
    if only_completed:
        q.append("final=1")
    return client.request("GET", "/api/v1/datasets?" + "&".join(q))["datasets"]


class Dataset:
    """One dataset version. Create with Dataset.create(), fetch with Dataset.get()."""

    def __init__(self, client, record):
        self._client = client
        self._record = record
        self._cache = _Cache()

    # -- properties --------------------------------------------------------
    id = property(lambda self: self._record["id"])
    name = property(lambda self: self._record["name"])
    project = property(lambda self: self._record["project"])
    version = property(lambda self: self._record["version"])
    tags = property(lambda self: list(self._record["tags"]))
    is_final = property(lambda self: self._record["state"] == "final")

    def _path(self, sub=""):
        return f"/api/v1/datasets/{self.id}{sub}"

    def _refresh(self):
        self._record = self._client.request("GET", self._path())
        return self._record

    # -- creating and finding ----------------------------------------------
    @classmethod
    def create(cls, dataset_name=None, dataset_project=None, dataset_tags=None, parent_datasets=None,
               dataset_version=None, use_current_task=False, server=None):
        """A new draft version; with parents it starts as their files."""
        if not dataset_name or not dataset_project:
            raise RoundhouseError("invalid_argument", "Dataset.create needs dataset_name and dataset_project")
        client = _backend.connect(server)
        if client is None:
            raise RoundhouseError("unavailable", "Dataset.create needs a server (RH_SERVER or a local rh)")
        from . import task as _task
        parents = [p.id if isinstance(p, Dataset) else p for p in (parent_datasets or [])]
        current = _task._current if use_current_task else None
        if current is None:
            # Like ClearML, a version has a task of its own: its logger, its provenance.
            t = client.request("POST", "/api/v1/tasks", {"project": dataset_project, "type": "data_processing",
                                                         "name": f"{dataset_name} (dataset)"})
            task_id = t["id"]
        else:
            task_id = current.id
        rec = client.request("POST", "/api/v1/datasets", {
            "project": dataset_project, "name": dataset_name, "version": dataset_version or "",
            "parents": parents, "tags": list(dataset_tags or []), "task_id": task_id})
        return cls(client, rec)

    @classmethod
    def get(cls, dataset_id=None, dataset_project=None, dataset_name=None, dataset_version=None,
            dataset_tags=None, only_completed=True, auto_create=False, writable_copy=False, server=None):
        """A version by ID, or the newest (final) one by project + name (+ version, tags).
        writable_copy: a new draft whose parent is that version. auto_create:
        a new draft when none exists. Records the version on the current task
        as an input."""
        client = _backend.connect(server)
        if client is None:
            raise RoundhouseError("unavailable", "Dataset.get needs a server (RH_SERVER or a local rh)")
        if dataset_id:
            rec = client.request("GET", f"/api/v1/datasets/{quote(dataset_id)}")
        else:
            found = _find_versions(client, 1, dataset_project or "", dataset_name or "", dataset_version,
                                   dataset_tags, only_completed)
            if not found:
                if auto_create:
                    return cls.create(dataset_name=dataset_name, dataset_project=dataset_project,
                                      dataset_tags=dataset_tags, server=server)
                raise RoundhouseError("not_found", f"no {'final ' if only_completed else ''}version of dataset "
                                                   f"{dataset_project}/{dataset_name}")
            rec = found[0]
        ds = cls(client, rec)
        from . import task as _task
        current = _task._current
        if current is not None and not current._closed:
            try:
                client.request("PATCH", current._path(), {"runtime": {
                    f"input_dataset:{ds.project}/{ds.name}": f"{ds.id} ({ds.version})"}})
            except RoundhouseError:
                pass
        if writable_copy:
            return cls.create(dataset_name=ds.name, dataset_project=ds.project, parent_datasets=[ds.id],
                              server=server)
        return ds

    @staticmethod
    def list_datasets(dataset_project=None, partial_name=None, tags=None, only_completed=False, server=None):
        client = _backend.connect(server)
        out = _find_versions(client, 10000, dataset_project or None, None, None, tags, only_completed)
        return [d for d in out if not partial_name or partial_name in d["name"]]

    # -- changing a draft ----------------------------------------------------
    def add_files(self, path, wildcard=None, dataset_path=None, recursive=True):
        """Adds a file or a folder's files (by their path inside it); returns how many."""
        files = self._collect(path, wildcard, dataset_path, recursive)
        self._put(files)
        return len(files)

    def remove_files(self, dataset_path):
        """Removes files by path, folder or glob; returns how many."""
        return self._client.request("POST", self._path("/remove"), {"pattern": dataset_path})["removed"]

    def sync_folder(self, local_path, dataset_path=None):
        """Mirrors a folder: (removed, added, modified) counts."""
        prefix = (dataset_path.strip("/") + "/") if dataset_path else ""
        before = {f["path"]: f for f in self._all_files() if f["path"].startswith(prefix)}
        now = {f["path"]: f for f in self._collect(local_path, None, dataset_path, True, before)}
        changed = [f for p, f in now.items() if p not in before or before[p]["digest"] != f["digest"]]
        added = sum(1 for p in now if p not in before)
        self._put(changed)
        removed = [p for p in before if p not in now]
        for i in range(0, len(removed), 50000):  # exact paths: a name like "a[1].png" is not a glob here
            self._client.request("POST", self._path("/remove"), {"paths": removed[i:i + 50000]})
        return len(removed), added, len(changed) - added

    def upload(self, show_progress=False, max_workers=None, wait=True):
        """Sends the files the server does not have yet (several requests at
        once; small files many to a request); returns how many. With
        wait=False it returns None at once and sends in a background thread:
        finalize() and wait_for_upload() wait for it and raise what it met,
        and the interpreter does not exit before it ends."""
        self._join_upload()  # one upload of a version at a time; this one sends what that one did not
        if wait:
            return self._upload(show_progress, max_workers)
        box = {}

        def run():
            try:
                box["sent"] = self._upload(show_progress, max_workers)
            except BaseException as e:  # handed to whoever waits
                box["error"] = e

        thread = threading.Thread(target=run, name=f"rh-upload-{self.id[:12]}")
        self._pending = (thread, box)
        if not getattr(self, "_reports_at_exit", False):
            atexit.register(self._report_unwaited)
            self._reports_at_exit = True
        thread.start()
        return None

    def wait_for_upload(self):
        """Waits for an upload(wait=False); returns how many files it sent
        (0 when none was running) or raises its error."""
        box = self._join_upload()
        if "error" in box:
            raise box["error"]
        return box.get("sent", 0)

    def _join_upload(self):
        """The outcome of the background upload, once it ended ({} if none)."""
        pending, self._pending = getattr(self, "_pending", None), None
        if pending is None:
            return {}
        pending[0].join()
        return pending[1]

    def _report_unwaited(self):
        pending = getattr(self, "_pending", None)
        if pending is not None and not pending[0].is_alive() and "error" in pending[1]:
            sys.stderr.write(f"rh: the background upload of dataset version {self.id} failed: "
                             f"{pending[1]['error']}\n")

    def _upload(self, show_progress, max_workers):
        sizes = {f["digest"]: f["size"] for f in self._all_files()}
        digests = sorted(sizes)
        missing = []
        for i in range(0, len(digests), 50000):
            missing += self._client.request("POST", "/api/v1/blobs/missing",
                                            {"digests": digests[i:i + 50000]})["missing"]
        units = _units(missing, sizes, _SMALL, _BATCH_COUNT, _BATCH_BYTES)

        def cached(d):
            try:
                return open(self._cache.path(d), "rb")
            except FileNotFoundError:
                raise RoundhouseError("not_found", f"{d} of dataset version {self.id} is not in the local cache "
                                                   f"{self._cache.root}: add its files on this machine") from None

        def send(unit):
            if sizes[unit[0]] >= _SMALL:  # alone, streamed; the server checks the digest
                with cached(unit[0]) as f:
                    self._client.request("PUT", f"/api/v1/blobs/{unit[0]}", f,
                                         content_type="application/octet-stream",
                                         headers={"Content-Length": str(os.fstat(f.fileno()).st_size)})
                return 1
            body = bytearray(_BATCH_MAGIC)
            for d in unit:
                with cached(d) as f:
                    data = f.read()
                body += d.encode() + _BATCH_SIZE.pack(len(data)) + data
            self._client.request("POST", "/api/v1/blobs/batch", bytes(body), content_type="application/x-rh-blobs")
            return len(unit)

        sent = 0

        def progress(n):
            nonlocal sent
            sent += n
            if show_progress:
                sys.stderr.write(f"\ruploading {sent}/{len(missing)}")

        _each_in_threads(send, units, max_workers or 4, progress)
        if show_progress and missing:
            sys.stderr.write("\n")
        return len(missing)

    def finalize(self, auto_upload=False):
        """Makes the draft final: uploads first when asked, then the manifest, then the row."""
        self._flush_log()
        if auto_upload:
            self.upload()  # after a background one, and sends what it did not
        else:
            self.wait_for_upload()
        files = self._all_files()
        text = "".join(json.dumps({"path": f["path"], "digest": f["digest"], "size": f["size"],
                                   "mode": f["mode"]}, separators=(",", ":")) + "\n" for f in files).encode()
        digest = "sha256:" + hashlib.sha256(text).hexdigest()
        self._client.request("PUT", f"/api/v1/blobs/{digest}", text, content_type="application/octet-stream")
        missing = self._client.request("POST", "/api/v1/blobs/missing",
                                       {"digests": sorted({f["digest"] for f in files})})["missing"]
        if missing:
            raise RoundhouseError("conflict", f"{len(missing)} file content(s) are not on the server yet; "
                                              "call upload() or finalize(auto_upload=True)")
        self._record = self._client.request("POST", self._path("/finalize"), {"manifest": digest})
        self._complete_own_task()
        return True

    def _complete_own_task(self):
        """The task Dataset.create made for this version ends with it, as
        ClearML's does; a user's own task (use_current_task) is left alone."""
        tid = self._record.get("task_id")
        if not tid:
            return
        t = self._client.request("GET", f"/api/v1/tasks/{quote(tid)}")
        if t.get("type") != "data_processing" or t.get("name") != f"{self.name} (dataset)":
            return
        path = f"/api/v1/tasks/{quote(tid)}/status"
        if t.get("status") == "created":
            self._client.request("POST", path, {"status": "running"})
        if t.get("status") in ("created", "running"):
            self._client.request("POST", path, {"status": "completed"})

    # -- reading -------------------------------------------------------------
    def list_files(self, dataset_path=None):
        files = [f["path"] for f in self._all_files()]
        return [p for p in files if not dataset_path or fnmatch.fnmatch(p, dataset_path)
                or p.startswith(dataset_path.rstrip("/") + "/")]

    def _parent_union(self):
        base = {}
        for p in self._refresh()["parents"]:
            for f in Dataset(self._client, self._client.request("GET", f"/api/v1/datasets/{p}"))._all_files():
                base[f["path"]] = f["digest"]
        return base

    def list_added_files(self):
        base = self._parent_union()
        return [f["path"] for f in self._all_files() if f["path"] not in base]

    def list_modified_files(self):
        base = self._parent_union()
        return [f["path"] for f in self._all_files() if f["path"] in base and base[f["path"]] != f["digest"]]

    def list_removed_files(self):
        now = {f["path"] for f in self._all_files()}
        return sorted(p for p in self._parent_union() if p not in now)

    def get_local_copy(self):
        """A read-only folder with the version's files (hard links into the cache), made once."""
        target = os.path.join(self._cache.datasets, self.id)
        if os.path.exists(target + ".complete") and os.path.isdir(target) and self.is_final:
            return target
        return self._materialise(target, writable=False)

    def get_mutable_local_copy(self, target_folder, overwrite=False):
        if os.path.exists(target_folder) and os.listdir(target_folder) and not overwrite:
            raise RoundhouseError("already_exists", f"{target_folder} is not empty (pass overwrite=True)")
        return self._materialise(target_folder, writable=True)

    def get_logger(self):
        """The logger of the version's task: plots and tables attached to the version."""
        from ._reporter import Reporter
        from .logger import Logger
        from .task import Task
        from . import task as _task
        task_id = self._record.get("task_id")
        if not task_id:
            raise RoundhouseError("not_found", "this version has no task to log to")
        current = _task._current
        if current is not None and current.id == task_id and not current._closed:
            return current.get_logger()
        if getattr(self, "_log_task", None) is None:
            t = Task(self._client, self._client.request("GET", f"/api/v1/tasks/{task_id}"))
            t._reporter = Reporter(self._client, task_id)  # sent in the background, flushed below
            self._log_task = t
            atexit.register(self._flush_log)
        return Logger(self._log_task)

    def _flush_log(self):
        t = getattr(self, "_log_task", None)
        if t is not None and t._reporter is not None:
            t._reporter.close()
            t._reporter = None

    # -- internals -------------------------------------------------------------
    def _all_files(self):
        out, after = [], ""
        while True:
            page = self._client.request("GET", self._path(f"/files?limit=50000&after={quote(after)}"))["files"]
            out += page
            if len(page) < 50000:
                return out
            after = page[-1]["path"]

    def _collect(self, path, wildcard, dataset_path, recursive, rows=None):
        """The files under path as rows, their contents stored in the cache.
        rows: the version's rows by path; a file the stat cache knows with
        the digest its row has needs nothing more (not even a look in the
        cache: the version has that content already)."""
        rows = rows or {}
        if not os.path.exists(path):
            raise RoundhouseError("not_found", f"cannot add {path}: no such file or folder")
        root = os.path.realpath(path)
        found = []
        if os.path.isfile(path):
            found.append((path, os.path.basename(path)))
        else:
            for d, dirs, names in os.walk(path):
                dirs.sort()
                if not recursive:
                    dirs[:] = []
                under = os.path.relpath(d, path).replace(os.sep, "/")
                under = "" if under == "." else under + "/"
                for n in sorted(names):
                    full = os.path.join(d, n)
                    if os.path.islink(full):
                        real = os.path.realpath(full)
                        if not (real == root or real.startswith(root + os.sep)):
                            raise RoundhouseError("invalid_argument",
                                                  f"symlink {full} points to {real}, outside {root}")
                    found.append((full, under + n))
        if wildcard:
            found = [(a, r) for a, r in found if fnmatch.fnmatch(os.path.basename(r), wildcard)]
        prefix = dataset_path.strip("/") + "/" if dataset_path else ""
        known = self._cache.load_stat_cache()

        def one(item):
            abs_path, rel = item
            data = None
            try:
                st = os.stat(abs_path)
                hit = known.get((st.st_dev, st.st_ino))
                row = rows.get(prefix + rel)
                if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns and (
                        (row is not None and row["digest"] == hit[2]) or self._cache.has(hit[2], st.st_size)):
                    return ({"path": prefix + rel, "digest": hit[2], "size": st.st_size,
                             "mode": st.st_mode & 0o777}, None)
                if st.st_size <= _SMALL_FILE:  # read whole, hashed in memory, stored without a second read
                    with open(abs_path, "rb", buffering=0) as f:
                        data = f.readall()
            except OSError as e:
                raise RoundhouseError("io", f"cannot read {abs_path}: {e.strerror}") from None
            try:
                if data is not None:
                    if len(data) != st.st_size:
                        raise RoundhouseError("conflict", f"{abs_path} changed while it was read; add it again")
                    digest, size = self._cache.put_small(data), len(data)
                else:
                    digest, size = self._cache.put_file(abs_path)  # streamed: reads and writes
            except OSError as e:
                raise RoundhouseError("io", f"cannot add {abs_path}: {e.filename or self._cache.root}: "
                                            f"{e.strerror}") from None
            return ({"path": prefix + rel, "digest": digest, "size": size, "mode": st.st_mode & 0o777},
                    (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, digest))

        def some(chunk):  # a few hundred files a task: less pool overhead per file
            return [one(item) for item in chunk]

        with ThreadPoolExecutor(_WORKERS) as pool:
            results = [r for part in pool.map(some, [found[i:i + 256] for i in range(0, len(found), 256)])
                       for r in part]
        new = [r[1] for r in results if r[1]]
        if new:
            os.sync()  # every new object durable before a row points to it (as rh data add's syncfs)
        self._cache.save_stat_cache(known, new)
        return [r[0] for r in results]

    def _put(self, files):
        for i in range(0, len(files), 20000):
            self._client.request("POST", self._path("/files"), {"files": files[i:i + 20000]})

    def _materialise(self, target, writable):
        files = self._all_files()
        for f in files:  # the rows come from the server: nothing may land outside target
            _safe_paths.relative_path("dataset path", f["path"])
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", f.get("digest") or ""):
                raise RoundhouseError("invalid_argument", f"dataset file {f['path']!r} has a malformed digest")

        sizes = {f["digest"]: f["size"] for f in files}
        need = [d for d in sizes if not self._cache.has(d, sizes[d])]

        def fetch(unit):  # each digest checked as it is stored (put_bytes)
            if sizes[unit[0]] >= _FETCH_ALONE:
                self._cache.put_bytes(self._client.request("GET", f"/api/v1/blobs/{unit[0]}", raw=True), unit[0])
                return
            body = self._client.request("POST", "/api/v1/blobs/fetch", {"digests": unit}, raw=True)
            got = list(_read_batch(body))
            if [d for d, _ in got] != unit:
                raise RoundhouseError("internal", f"the server answered {len(got)} blobs for {len(unit)} asked")
            for d, data in got:
                self._cache.put_bytes(data, d)

        units = _units(need, sizes, _FETCH_ALONE, 1000, 32 << 20)
        with ThreadPoolExecutor(_WORKERS) as pool:
            list(pool.map(fetch, units))
        partial = target.rstrip("/") + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        made, link = set(), not writable
        for f in files:
            parent, _, name = f["path"].rpartition("/")
            folder = os.path.join(partial, parent) if parent else partial
            if folder not in made:  # each folder once, not a mkdir a file
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            dst = os.path.join(folder, name)
            src = self._cache.path(f["digest"])
            if link:
                try:
                    os.link(src, dst)
                    continue
                except OSError as e:
                    link = e.errno != errno.EXDEV  # across file systems: copies from now on
            shutil.copyfile(src, dst)
            os.chmod(dst, f["mode"] | 0o200 if writable else f["mode"] & 0o555)
        if os.path.exists(target):
            shutil.rmtree(target)
        os.rename(partial, target)
        if not writable and self.is_final:
            open(target + ".complete", "w").close()  # a final version's copy is made once
        return target
