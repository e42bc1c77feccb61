"""The background sender: buffers scalars (column by column, in `array`s)
and console lines, and sends them in batches from one thread, so logging in
a training loop costs about a microsecond a point. A batch that fails is
retried unchanged under its Idempotency-Key, so nothing is lost or doubled."""
import os
import shutil
import struct
import sys
import threading
import time
import uuid
from array import array

from ._blobs import upload_file
from ._http import RoundhouseError, quote

FLUSH_SECONDS = 1.0
FLUSH_POINTS = 200_000


def encode_scalars(batch):
    """The application/x-rh-scalars body (docs/api.md)."""
    parts = [b"RHS1", struct.pack("<I", len(batch))]
    for (title, series), (steps, values, times) in batch:
        t, s = title.encode(), series.encode()
        parts += [struct.pack("<H", len(t)), t, struct.pack("<H", len(s)), s, struct.pack("<I", len(steps))]
        if sys.byteorder != "little":  # pragma: no cover
            for a in (steps, values, times):
                a.byteswap()
        parts += [steps.tobytes(), values.tobytes(), times.tobytes()]
    return b"".join(parts)


class Reporter:
    def __init__(self, client, task_id):
        self._client = client
        self._task = task_id
        self._lock = threading.Lock()
        self._scalars = {}
        self._lines = []
        self._pending = 0
        self._wake = threading.Event()
        self._stop = False
        self._retry_scalars = None  # (key, body)
        self._retry_lines = None    # (key, lines)
        self._plots = []            # (plot body, image file or None), sent in order
        self._warned = False
        self._send_lock = threading.Lock()  # one sender at a time: the thread or a user's flush()
        self._thread = threading.Thread(target=self._loop, name="roundhouse-reporter", daemon=True)
        self._thread.start()

    def scalar(self, title, series, value, iteration, now=time.time):
        with self._lock:
            cols = self._scalars.get((title, series))
            if cols is None:
                cols = self._scalars[(title, series)] = (array("q"), array("d"), array("d"))
            cols[0].append(iteration)
            cols[1].append(value)
            cols[2].append(now())
            self._pending += 1
            if self._pending >= FLUSH_POINTS:
                self._wake.set()

    def line(self, stream, text):
        with self._lock:
            self._lines.append({"stream": stream, "text": text, "time": time.time()})

    def plot(self, body, image_path=None):
        with self._lock:
            self._plots.append((body, image_path))

    def _send_plots(self):
        while True:
            with self._lock:
                if not self._plots:
                    return True
                body, image = self._plots[0]
            try:
                if image is not None:
                    digest, _ = upload_file(self._client, image)
                    body = dict(body, digest=digest)
                self._client.request("POST", f"/api/v1/tasks/{quote(self._task)}/plots", body)
            except RoundhouseError as e:
                if not self._failed(e):
                    return False
            except OSError as e:
                sys.__stderr__.write(f"roundhouse: cannot read image {image}: {e}\n")
            with self._lock:
                self._plots.pop(0)
            if image is not None and os.path.basename(os.path.dirname(image)).startswith("rh-image-"):
                shutil.rmtree(os.path.dirname(image), ignore_errors=True)

    def _loop(self):
        while not self._stop:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            self.flush()

    def flush(self):
        """Sends what is buffered; returns False if something is still pending."""
        with self._send_lock:
            return self._flush_locked()

    def _flush_locked(self):
        with self._lock:
            if self._retry_scalars is None and self._scalars:
                batch, self._scalars, self._pending = list(self._scalars.items()), {}, 0
                self._retry_scalars = (uuid.uuid4().hex, encode_scalars(batch))
            if self._retry_lines is None and self._lines:
                lines, self._lines = self._lines, []
                self._retry_lines = (uuid.uuid4().hex, lines)
        ok = True
        if self._retry_scalars is not None:
            key, body = self._retry_scalars
            try:
                self._client.request("POST", f"/api/v1/tasks/{quote(self._task)}/scalars", body,
                                     content_type="application/x-rh-scalars", headers={"Idempotency-Key": key})
                self._retry_scalars = None
            except RoundhouseError as e:
                ok = self._failed(e)
        if self._retry_lines is not None:
            key, lines = self._retry_lines
            try:
                self._client.request("POST", f"/api/v1/tasks/{quote(self._task)}/console", {"lines": lines},
                                     headers={"Idempotency-Key": key})
                self._retry_lines = None
            except RoundhouseError as e:
                ok = self._failed(e)
        ok = self._send_plots() and ok
        return ok and self._retry_scalars is None and self._retry_lines is None

    def _failed(self, e):
        if e.code in ("invalid_argument", "not_found", "too_large"):
            # The server refused the data itself; retrying cannot help.
            sys.__stderr__.write(f"roundhouse: dropped a batch the server refused: {e}\n")
            self._retry_scalars = self._retry_lines = None
            return True
        if not self._warned:
            sys.__stderr__.write(f"roundhouse: cannot reach the server yet ({e.message}); retrying\n")
            self._warned = True
        return False

    def close(self, timeout=30.0):
        """Stops the thread and sends everything, retrying until timeout."""
        self._stop = True
        self._wake.set()
        self._thread.join()
        deadline = time.time() + timeout
        delay = 0.1
        while True:
            with self._lock:
                empty = not self._scalars and not self._lines and not self._plots
            if self.flush() and empty and self._retry_scalars is None and self._retry_lines is None:
                return True
            if time.time() > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
