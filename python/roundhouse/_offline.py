"""Offline recording: when no server can be reached, the SDK talks to this
client instead. It answers like the server would and writes every request to
a journal in ~/.roundhouse/offline/<id>/ (blob bodies as files beside it), so
`rh import DIR` can replay the run into a server later, complete.

Journal format (journal.jsonl, one request a line):
  {"method", "path", "content_type", "headers": {}, "json": <body> | "file": "<name in DIR>"}
Paths name the task by its offline ID; the import maps it to the new one."""
import json
import os
import shutil
import threading
import time
import uuid

from ._http import RoundhouseError


class OfflineClient:
    def __init__(self, root):
        self.task_id = uuid.uuid4().hex
        self.dir = os.path.join(root, self.task_id)
        os.makedirs(os.path.join(self.dir, "files"), exist_ok=True)
        self.base_url = "offline:" + self.dir
        self._journal = open(os.path.join(self.dir, "journal.jsonl"), "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._record = None
        self._files = 0

    def _write(self, entry):
        with self._lock:
            self._journal.write(json.dumps(entry) + "\n")
            self._journal.flush()

    def exists(self, path):
        return False

    def request(self, method, path, body=None, content_type="application/json", headers=None, raw=False):
        entry = {"method": method, "path": path, "content_type": content_type, "headers": dict(headers or {})}
        entry["headers"].pop("Content-Length", None)
        if method == "GET":
            if self._record is not None and path.rstrip("/").endswith(self.task_id):
                return self._record
            raise RoundhouseError("unavailable", "recording offline: the server cannot be read")
        if hasattr(body, "read") or isinstance(body, (bytes, bytearray, memoryview)):
            with self._lock:
                self._files += 1
                name = f"files/{self._files:06d}"
            with open(os.path.join(self.dir, name), "wb") as f:
                if hasattr(body, "read"):
                    body.seek(0)
                    shutil.copyfileobj(body, f)
                else:
                    f.write(body)
            entry["file"] = name
        elif body is not None:
            entry["json"] = body
        self._write(entry)
        return self._answer(method, path, body)

    def _answer(self, method, path, body):
        now = time.time()
        if method == "POST" and path == "/api/v1/tasks":
            self._record = dict(body, id=self.task_id, status="created", status_message="", created=now,
                                started=0, completed=0, last_update=now, parent="", comment="",
                                runtime={}, hyperparameters={}, configurations={})
            self._record.setdefault("tags", [])
            return self._record
        if path.endswith("/status") and self._record is not None:
            self._record.update(status=body["status"], status_message=body.get("message", ""))
            return self._record
        if method == "PATCH" and self._record is not None:
            for k, v in body.items():
                if k == "runtime":
                    self._record["runtime"].update(v)
                else:
                    self._record[k] = v
            return self._record
        if path.endswith("/hyperparameters") and self._record is not None:
            for section, params in body["hyperparameters"].items():
                self._record["hyperparameters"].setdefault(section, {}).update(params)
            return {"hyperparameters": self._record["hyperparameters"]}
        if path.endswith("/console"):
            return {"last_seq": 0}
        if path.endswith("/scalars"):
            return {"points": 0}
        if method == "PUT" and "/blobs/" in path:
            return {"digest": path.rsplit("/", 1)[1], "size": 0}
        return {"id": uuid.uuid4().hex, "name": (body or {}).get("name", ""), "created": now}

    def close(self):
        with self._lock:
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._journal.close()
