"""The REST API as clients use it, including every kind of bad input:
each gets a 4xx with {"error":{"code","message"}}, nothing half-written,
and the server keeps serving."""
import hashlib
import json
import math
import os
import socket
import struct
import threading
import time

import pytest

from conftest import Server, make_task, wait_for


def error_of(resp):
    status, body, _ = resp
    assert isinstance(body, dict) and "error" in body, body
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return status, body["error"]["code"], body["error"]["message"]


def test_task_lifecycle(server):
    t = make_task(server, name="train", tags=["b", "a"], type="training",
                  hyperparameters={"Args": {"lr": 0.1, "epochs": 3}},
                  configurations={"cfg.yaml": "a: 1\n"},
                  script={"repository": "r", "commit": "c", "diff": "d", "argv": ["x"]})
    assert t["status"] == "created" and t["tags"] == ["a", "b"]
    assert t["hyperparameters"]["Args"]["lr"] == {"value": "0.1", "type": "float", "description": ""}
    tid = t["id"]
    s, got, _ = server.request("GET", f"/api/v1/tasks/{tid[:10]}")
    assert s == 200 and got["id"] == tid and got["configurations"]["cfg.yaml"]["value"] == "a: 1\n"
    s, got, _ = server.request("POST", f"/api/v1/tasks/{tid}/status", {"status": "running"})
    assert s == 200 and got["started"] > 0
    s, got, _ = server.request("PATCH", f"/api/v1/tasks/{tid}", {"runtime": {"exit_code": 0}})
    assert got["runtime"] == {"exit_code": "0"}
    s, got, _ = server.request("POST", f"/api/v1/tasks/{tid}/status", {"status": "completed"})
    assert got["status"] == "completed" and got["completed"] >= got["started"]
    s, got, _ = server.request("POST", f"/api/v1/tasks/{tid}/tags", {"add": ["best"], "remove": ["a"]})
    assert got["tags"] == ["b", "best"]
    s, page, _ = server.request("GET", "/api/v1/tasks?project=p&status=completed&tag=best")
    assert [x["id"] for x in page["tasks"]] == [tid] and page["next_cursor"] is None
    assert "diff" not in page["tasks"][0]["script"], "listings carry summaries"
    s, projects, _ = server.request("GET", "/api/v1/projects")
    assert projects["projects"][0]["name"] == "p" and projects["projects"][0]["task_count"] == 1
    s, _, _ = server.request("DELETE", f"/api/v1/tasks/{tid}")
    assert s == 200
    assert server.request("GET", f"/api/v1/tasks/{tid}")[0] == 404


def test_paging(server):
    ids = [make_task(server, name=f"n{i}")["id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        q = "/api/v1/tasks?limit=3" + (f"&cursor={cursor}" if cursor else "")
        s, page, _ = server.request("GET", q)
        seen += [t["id"] for t in page["tasks"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


def test_scalars_json_and_binary_nan_inf(server):
    tid = make_task(server)["id"]
    body = {"series": [{"title": "loss", "series": "train", "iterations": [0, 1, 2, 3],
                        "values": [1.5, "NaN", "Infinity", "-Infinity"], "times": [10, 11, 12, 13]}]}
    s, r, _ = server.request("POST", f"/api/v1/tasks/{tid}/scalars", body)
    assert s == 200 and r == {"points": 4}
    # Binary body: the SDK's format.
    title, series = b"acc", b"val"
    n = 3
    raw = (b"RHS1" + struct.pack("<I", 1) + struct.pack("<H", 3) + title + struct.pack("<H", 3) + series
           + struct.pack("<I", n) + struct.pack("<3q", 0, 1, 2) + struct.pack("<3d", 0.5, 0.75, 0.9)
           + struct.pack("<3d", 0, 0, 0))
    s, r, _ = server.request("POST", f"/api/v1/tasks/{tid}/scalars", raw=raw,
                             headers={"Content-Type": "application/x-rh-scalars"})
    assert s == 200 and r == {"points": 3}, r
    s, data, _ = server.request("GET", f"/api/v1/tasks/{tid}/scalars/series?title=loss&series=train")
    assert data["iterations"] == [0, 1, 2, 3]
    assert data["values"] == [1.5, "NaN", "Infinity", "-Infinity"]
    assert data["times"] == [10, 11, 12, 13]
    s, sums, _ = server.request("GET", f"/api/v1/tasks/{tid}/scalars")
    by = {(x["title"], x["series"]): x for x in sums["scalars"]}
    assert by[("loss", "train")]["max_value"] == "Infinity"
    assert by[("loss", "train")]["min_value"] == "-Infinity"
    assert by[("acc", "val")]["last_value"] == 0.9 and by[("acc", "val")]["count"] == 3


def test_downsampled_series(server):
    tid = make_task(server)["id"]
    n = 50000
    vals = [math.sin(i / 50.0) for i in range(n)]
    vals[31337] = 99.0
    body = {"series": [{"title": "m", "series": "s", "iterations": list(range(n)), "values": vals}]}
    assert server.request("POST", f"/api/v1/tasks/{tid}/scalars", body)[0] == 200
    s, d, _ = server.request("GET", f"/api/v1/tasks/{tid}/scalars/series?title=m&series=s&max_points=1000")
    assert s == 200 and 100 < len(d["values"]) <= 1002
    assert 99.0 in d["values"] and d["iterations"][0] == 0 and d["iterations"][-1] == n - 1


def test_console_roundtrip(server):
    tid = make_task(server)["id"]
    s, r, _ = server.request("POST", f"/api/v1/tasks/{tid}/console",
                             {"lines": [{"text": "hello"}, {"text": "oops", "stream": "stderr"}]})
    assert r == {"last_seq": 2}
    s, r, _ = server.request("GET", f"/api/v1/tasks/{tid}/console?after=1")
    assert [(l["seq"], l["stream"], l["text"]) for l in r["lines"]] == [(2, "stderr", "oops")]


def test_blob_and_artifact(server):
    tid = make_task(server)["id"]
    data = os.urandom(300000)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    wrong = "sha256:" + hashlib.sha256(b"other").hexdigest()
    status, code, msg = error_of(server.request("PUT", f"/api/v1/blobs/{wrong}", raw=data))
    assert status == 422 and code == "corrupt"
    assert server.request("GET", f"/api/v1/blobs/{wrong}")[0] == 404
    s, r, _ = server.request("PUT", f"/api/v1/blobs/{digest}", raw=data)
    assert s == 201 and r["size"] == len(data)
    s, got, hdrs = server.request("GET", f"/api/v1/blobs/{digest}")
    assert s == 200 and got == data
    s, a, _ = server.request("POST", f"/api/v1/tasks/{tid}/artifacts",
                             {"name": "out/model.bin", "digest": digest, "type": "file"})
    assert s == 201 and a["size"] == len(data)
    s, got, hdrs = server.request("GET", f"/api/v1/tasks/{tid}/artifacts/out/model.bin?download=1")
    assert got == data and "model.bin" in hdrs["Content-Disposition"]
    # A row never points at a missing blob.
    status, code, msg = error_of(server.request(
        "POST", f"/api/v1/tasks/{tid}/artifacts", {"name": "x", "digest": wrong}))
    assert status == 400 and "upload it first" in msg


BAD_INPUT = [
    # (method, path template, body or raw bytes, status, code, words in message)
    ("POST", "/api/v1/tasks", b"{not json", 400, "invalid_argument", "not valid JSON"),
    ("POST", "/api/v1/tasks", b"[1,2]", 400, "invalid_argument", "must be a JSON object"),
    ("POST", "/api/v1/tasks", {"project": 5, "name": "x"}, 400, "invalid_argument", "body.project must be a string"),
    ("POST", "/api/v1/tasks", {"name": "x"}, 400, "invalid_argument", "body.project is required"),
    ("POST", "/api/v1/tasks", {"project": "p", "name": "x", "tags": [1]}, 400, "invalid_argument", "body.tags[0]"),
    ("POST", "/api/v1/tasks", {"project": "p", "name": "x", "type": "nope"}, 400, "invalid_argument", "task type"),
    ("POST", "/api/v1/tasks", b'{"project":"p","name":"\xff\xfe"}', 400, "invalid_argument", "UTF-8"),
    ("POST", "/api/v1/tasks", {"project": "p", "name": "x", "script": {"diff": 3}}, 400, "invalid_argument", "body.script.diff"),
    ("GET", "/api/v1/tasks/ffffffffffffffffffffffffffffffff", None, 404, "not_found", "no task"),
    ("GET", "/api/v1/tasks/zz", None, 400, "invalid_argument", "not a task ID"),
    ("POST", "/api/v1/tasks/{id}/status", {"status": "completed"}, 409, "conflict", "cannot go from created to completed"),
    ("POST", "/api/v1/tasks/{id}/status", {"status": "finished"}, 400, "invalid_argument", "unknown status"),
    ("POST", "/api/v1/tasks/{id}/status", {}, 400, "invalid_argument", "body.status is required"),
    ("POST", "/api/v1/tasks/{id}/scalars", {"series": [{"title": "a", "series": "b", "iterations": [1, 2], "values": [1]}]},
     400, "invalid_argument", "same length"),
    ("POST", "/api/v1/tasks/{id}/scalars", {"series": [{"title": "a", "series": "b", "iterations": [1], "values": ["x"]}]},
     400, "invalid_argument", "body.series[0].values[0]"),
    ("POST", "/api/v1/tasks/{id}/scalars", {"series": [{"title": "a", "iterations": [1], "values": [1]}]},
     400, "invalid_argument", "body.series[0].series is required"),
    ("POST", "/api/v1/tasks/{id}/scalars", b"RHS1\x01\x00\x00\x00\x05", 400, "invalid_argument", "truncated"),
    ("POST", "/api/v1/tasks/{id}/console", {"lines": [{"stream": "stdxxx", "text": "a"}]}, 400, "invalid_argument", "body.lines[0].stream"),
    ("PATCH", "/api/v1/tasks/{id}", {"status": "running"}, 400, "invalid_argument", "own endpoints"),
    ("POST", "/api/v1/tasks/{id}/artifacts", {"name": "../../etc/passwd", "digest": "sha256:" + "0" * 64}, 400, "invalid_argument", ".."),
    ("POST", "/api/v1/tasks/{id}/artifacts", {"name": "/etc/passwd", "digest": "sha256:" + "0" * 64}, 400, "invalid_argument", "absolute"),
    ("POST", "/api/v1/tasks/{id}/artifacts", {"name": "ok", "digest": "md5:abc"}, 400, "invalid_argument", "digest"),
    ("GET", "/api/v1/tasks?limit=0", None, 400, "invalid_argument", "limit"),
    ("GET", "/api/v1/tasks?order_by=bogus", None, 400, "invalid_argument", "order by"),
    ("GET", "/api/v1/nothing-here", None, 404, "not_found", "no route"),
]


@pytest.mark.parametrize("method,path,body,status,code,words", BAD_INPUT,
                         ids=[f"{i}-{c[4]}" for i, c in enumerate(BAD_INPUT)])
def test_bad_input_gets_clear_4xx(server, method, path, body, status, code, words):
    tid = make_task(server, name="victim")["id"]
    before = server.request("GET", f"/api/v1/tasks/{tid}")[1]
    kw = {"raw": body} if isinstance(body, bytes) else {"body": body}
    if isinstance(body, bytes) and body.startswith(b"RHS1"):
        kw["headers"] = {"Content-Type": "application/x-rh-scalars"}
    got_status, got_code, msg = error_of(server.request(method, path.replace("{id}", tid), **kw))
    assert (got_status, got_code) == (status, code), msg
    assert words in msg, msg
    # Nothing half-written, and the server still answers.
    after = server.request("GET", f"/api/v1/tasks/{tid}")[1]
    assert after == before
    assert server.request("GET", f"/api/v1/tasks/{tid}/scalars")[1] == {"scalars": []}
    assert server.request("GET", "/api/v1/health")[0] == 200


def test_ambiguous_prefix(server):
    ids = [make_task(server)["id"] for _ in range(2)]
    common = os.path.commonprefix(ids)
    if len(common) >= 4:
        status, code, msg = error_of(server.request("GET", f"/api/v1/tasks/{common}"))
        assert (status, code) == (409, "ambiguous") and "give more digits" in msg


def test_body_over_limit(tmp_path):
    s = Server(str(tmp_path / "d"), args=["--max-body-mb", "1"])
    try:
        tid = make_task(s)["id"]
        big = {"lines": [{"text": "x" * 1000}] * 2000}
        status, code, msg = error_of(s.request("POST", f"/api/v1/tasks/{tid}/console", big))
        assert status == 413 and code == "too_large" and "1048576" in msg
        assert s.request("GET", f"/api/v1/tasks/{tid}/console")[1] == {"lines": []}
        assert s.request("GET", "/api/v1/health")[0] == 200
    finally:
        assert s.stop() == 0


def test_token_auth(tmp_path):
    s = Server(str(tmp_path / "d"), env={"RH_API_TOKEN": "s3cret"})
    try:
        status, code, _ = error_of(s.request("GET", "/api/v1/tasks"))
        assert (status, code) == (401, "unauthorized")
        assert s.request("GET", "/api/v1/tasks", token="wrong")[0] == 401
        assert s.request("GET", "/api/v1/tasks", token="s3cret")[0] == 200
        assert s.request("POST", "/api/v1/tasks", {"project": "p", "name": "n"})[0] == 401
        assert s.request("GET", "/api/v1/tasks", token="s3cret")[1]["tasks"] == []
    finally:
        assert s.stop() == 0


def test_sigterm_finishes_in_flight_request(tmp_path):
    """A batch sent just before SIGTERM is answered and durable; then the server exits 0."""
    data = str(tmp_path / "d")
    s = Server(data)
    tid = make_task(s)["id"]
    n = 200000
    body = json.dumps({"series": [{"title": "m", "series": "s", "iterations": list(range(n)),
                                   "values": [0.5] * n}]}).encode()
    host, port = s.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"POST /api/v1/tasks/{tid}/scalars HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    time.sleep(0.05)
    s.proc.send_signal(15)
    reply = b""
    while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    assert s.proc.wait(timeout=15) == 0
    s2 = Server(data)
    try:
        assert s2.request("GET", f"/api/v1/tasks/{tid}/scalars")[1]["scalars"][0]["count"] == n
    finally:
        assert s2.stop() == 0


def test_missing_blobs_as_json_and_as_lines(server):
    have = os.urandom(1000)
    d_have = "sha256:" + hashlib.sha256(have).hexdigest()
    assert server.request("PUT", f"/api/v1/blobs/{d_have}", raw=have)[0] == 201
    lacking = ["sha256:" + hashlib.sha256(str(i).encode()).hexdigest() for i in range(300)]
    asked = lacking[:150] + [d_have] + lacking[150:]
    s, r, _ = server.request("POST", "/api/v1/blobs/missing", {"digests": asked})
    assert s == 200 and r == {"missing": lacking}
    s, text, hdrs = server.request("POST", "/api/v1/blobs/missing", raw="\n".join(asked).encode(),
                                   headers={"Content-Type": "text/plain"})
    assert s == 200 and hdrs["Content-Type"].startswith("text/plain")
    assert text.decode().splitlines() == lacking
    bad = "\n".join([d_have, "sha256:XYZ"]).encode()
    status, code, msg = error_of(server.request("POST", "/api/v1/blobs/missing", raw=bad,
                                                headers={"Content-Type": "text/plain"}))
    assert (status, code) == (400, "invalid_argument") and "line 2" in msg


def _raw_exchange(server, request, read_replies=1):
    """Sends raw bytes on one connection; returns the replies' status lines and bodies."""
    host, port = server.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port))) as c:
        c.sendall(request)
        c.settimeout(30)
        got, replies = b"", []
        while len(replies) < read_replies:
            chunk = c.recv(65536)
            if not chunk:
                break
            got += chunk
            while b"\r\n\r\n" in got:
                head, rest = got.split(b"\r\n\r\n", 1)
                length = int(next((l.split(b":")[1] for l in head.split(b"\r\n")
                                   if l.lower().startswith(b"content-length:")), b"0"))
                if len(rest) < length:
                    break
                replies.append((head.split(b"\r\n")[0].decode(), json.loads(rest[:length] or b"null")))
                got = rest[length:]
        return replies


def test_streamed_blob_bodies(server):
    """Blob uploads are streamed to disk and hashed as they arrive: bodies larger than the
    server's read piece, chunked ones, a request pipelined behind one, and a client that
    stops halfway all end as they should."""
    tmp_dir = os.path.join(server.data_dir, "blobs", "tmp")
    big = os.urandom((5 << 20) + 12345)  # several 1 MiB pieces and a ragged end
    digest = "sha256:" + hashlib.sha256(big).hexdigest()
    s, r, _ = server.request("PUT", f"/api/v1/blobs/{digest}", raw=big)
    assert s == 201 and r == {"digest": digest, "size": len(big)}
    assert server.request("GET", f"/api/v1/blobs/{digest}")[1] == big
    # The wrong digest for a large body: refused, nothing stored under either name.
    other = os.urandom(3 << 20)
    wrong = "sha256:" + hashlib.sha256(b"not this").hexdigest()
    status, code, msg = error_of(server.request("PUT", f"/api/v1/blobs/{wrong}", raw=other))
    assert (status, code) == (422, "corrupt") and hashlib.sha256(other).hexdigest() in msg
    assert server.request("GET", f"/api/v1/blobs/{wrong}")[0] == 404
    # Chunked transfer encoding (no length up front), then a pipelined request on the same connection.
    data = os.urandom(70000)
    d2 = "sha256:" + hashlib.sha256(data).hexdigest()
    chunks = b"".join(b"%x\r\n" % len(data[i:i + 30000]) + data[i:i + 30000] + b"\r\n"
                      for i in range(0, len(data), 30000)) + b"0\r\n\r\n"
    req = (f"PUT /api/v1/blobs/{d2} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode() + chunks)
    small = b"tiny blob"
    d3 = "sha256:" + hashlib.sha256(small).hexdigest()
    req += f"PUT /api/v1/blobs/{d3} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(small)}\r\n\r\n".encode() + small
    replies = _raw_exchange(server, req, read_replies=2)
    assert [st for st, _ in replies] == ["HTTP/1.1 201 Created"] * 2, replies
    assert replies[0][1]["size"] == len(data) and replies[1][1] == {"digest": d3, "size": len(small)}
    assert server.request("GET", f"/api/v1/blobs/{d2}")[1] == data
    assert server.request("GET", f"/api/v1/blobs/{d3}")[1] == small
    # A client that promises 4 MiB, sends 1.5 MiB and goes away: nothing stored, no staged file left.
    cut = os.urandom(4 << 20)
    d4 = "sha256:" + hashlib.sha256(cut).hexdigest()
    host, port = server.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port))) as c:
        c.sendall(f"PUT /api/v1/blobs/{d4} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(cut)}\r\n\r\n".encode()
                  + cut[: 3 << 19])
    wait_for(lambda: not [f for f in os.listdir(tmp_dir) if f.endswith(".body")], timeout=10)
    assert server.request("GET", f"/api/v1/blobs/{d4}")[0] == 404
    assert server.request("GET", "/api/v1/health")[0] == 200


def test_keeps_serving_after_garbage(server):
    host, port = server.url.split("//")[1].split(":")
    for junk in [b"\x00\x01\x02garbage\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                 b"POST /api/v1/tasks HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"]:
        with socket.create_connection((host, int(port))) as c:
            c.sendall(junk)
            c.shutdown(socket.SHUT_WR)
            c.settimeout(5)
            try:
                c.recv(1000)
            except OSError:
                pass
    assert server.request("GET", "/api/v1/health")[0] == 200


def test_concurrent_batches_all_land(server):
    tid = make_task(server)["id"]
    errors = []

    def worker(w):
        for r in range(10):
            body = {"series": [{"title": "m", "series": f"w{w}", "iterations": list(range(r * 1000, r * 1000 + 1000)),
                                "values": [float(w)] * 1000}]}
            st = server.request("POST", f"/api/v1/tasks/{tid}/scalars", body)[0]
            if st != 200:
                errors.append(st)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    sums = server.request("GET", f"/api/v1/tasks/{tid}/scalars")[1]["scalars"]
    assert sorted(x["count"] for x in sums) == [10000] * 4


def test_idempotency_key_makes_retries_safe(server):
    tid = make_task(server)["id"]
    body = {"series": [{"title": "m", "series": "s", "iterations": [1, 2, 3], "values": [1, 2, 3]}]}
    for _ in range(3):
        s, r, _ = server.request("POST", f"/api/v1/tasks/{tid}/scalars", body, headers={"Idempotency-Key": "b-17"})
        assert s == 200, r
    assert server.request("GET", f"/api/v1/tasks/{tid}/scalars")[1]["scalars"][0]["count"] == 3
    lines = {"lines": [{"text": "once"}]}
    answers = [server.request("POST", f"/api/v1/tasks/{tid}/console", lines, headers={"Idempotency-Key": "c-1"})[1]
               for _ in range(2)]
    assert answers == [{"last_seq": 1}, {"last_seq": 1}]
    other = make_task(server)["id"]
    status, code, msg = error_of(server.request("POST", f"/api/v1/tasks/{other}/scalars", body,
                                                headers={"Idempotency-Key": "b-17"}))
    assert (status, code) == (400, "invalid_argument") and "another task" in msg
