"""A small keep-alive HTTP client for the rh server's REST API (standard
library only). One connection per thread; errors from the server become
RoundhouseError with the server's code and message."""
import json
import threading
import http.client
import urllib.parse


class RoundhouseError(Exception):
    """An error answered by the server ({"error": {"code", "message"}}) or a
    transport failure (code "unavailable")."""

    def __init__(self, code, message, status=0):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class HttpClient:
    def __init__(self, base_url, token=None, timeout=60.0):
        u = urllib.parse.urlsplit(base_url)
        if u.scheme != "http" or not u.hostname:
            raise RoundhouseError("invalid_argument", f"server URL must be http://host:port, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self._host = u.hostname
        self._port = u.port or 80
        self._token = token
        self._timeout = timeout
        self._local = threading.local()

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            c = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.conn = c
        return c

    def request(self, method, path, body=None, content_type="application/json", headers=None, raw=False):
        """Sends a request; returns parsed JSON (or bytes when raw). Retries
        once on a connection the server closed while idle."""
        data = body
        streamed = hasattr(body, "read")  # a file: sent as it is read
        if body is not None and not streamed and not isinstance(body, (bytes, bytearray, memoryview)):
            data = json.dumps(body, allow_nan=False, default=_json_default).encode()
        hdrs = {"Content-Type": content_type} if data is not None else {}
        if self._token:
            hdrs["Authorization"] = "Bearer " + self._token
        hdrs.update(headers or {})
        for attempt in (0, 1):
            conn = self._conn()
            if streamed:
                body.seek(0)
            try:
                conn.request(method, path, body=data, headers=hdrs)
                resp = conn.getresponse()
                payload = resp.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                conn.close()
                self._local.conn = None
                if attempt == 1:
                    raise RoundhouseError("unavailable", f"cannot reach rh server at {self.base_url}: {e}") from None
        if resp.status >= 400:
            try:
                err = json.loads(payload)["error"]
                raise RoundhouseError(err.get("code", "internal"), err.get("message", ""), resp.status)
            except (ValueError, KeyError, TypeError):
                raise RoundhouseError("internal", f"{method} {path} answered HTTP {resp.status}", resp.status) from None
        if raw:
            return payload
        return json.loads(payload) if payload else None

    def exists(self, path):
        """True when HEAD path answers 200, False on 404."""
        try:
            self.request("HEAD", path, raw=True)
            return True
        except RoundhouseError as e:
            if e.status == 404:
                return False
            raise

    def close(self):
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None


def quote(s):
    return urllib.parse.quote(str(s), safe="")


def _json_default(o):
    # numpy scalars and the like, without importing numpy.
    for attr in ("item", "tolist"):
        if hasattr(o, attr):
            return getattr(o, attr)()
    return str(o)
