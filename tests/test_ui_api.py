"""What the web UI needs from the server: the UI itself (embedded in rh),
value filters and extra columns on the task list, the names in use, and
long-polls that wake on changes and cost no thread."""
import json
import threading
import time
import urllib.request


from conftest import Server, make_task


def test_ui_is_served_with_routes_falling_back_to_index(server):
    s, body, h = server.request("GET", "/")
    assert s == 200 and h["Content-Type"].startswith("text/html")
    html = body.decode()
    assert "<div id=\"app\">" in html
    asset = html.split('src="/')[1].split('"')[0]
    assert asset.startswith("assets/") and asset.endswith(".js")
    s, js, h = server.request("GET", "/" + asset)
    assert s == 200 and h["Content-Type"].startswith("text/javascript") and len(js) > 10000
    assert "immutable" in h["Cache-Control"]
    # Every view's URL opens the app; HEAD works too.
    for path in ("/projects/x", "/tasks/abc/scalars", "/compare?ids=a,b"):
        s, body, h = server.request("GET", path)
        assert s == 200 and body.decode() == html and h["Cache-Control"] == "no-cache"
    assert server.request("HEAD", "/tasks/abc")[0] == 200
    # Missing bundles and unknown API paths are 404s, not the app.
    s, body, _ = server.request("GET", "/assets/missing-123.js")
    assert s == 404 and body["error"]["code"] == "not_found"
    s, body, _ = server.request("GET", "/api/v1/nope")
    assert s == 404 and body["error"]["code"] == "not_found"
    assert server.request("POST", "/projects/x", {})[0] == 404


def test_list_filters_and_columns(server):
    ids = {}
    for name, lr, acc in (("a", "0.1", 0.5), ("b", "0.01", 0.9), ("c", "0.001", None)):
        t = make_task(server, name=name, project="f", hyperparameters={"General": {"lr": lr, "opt": "adam"}})
        ids[name] = t["id"]
        if acc is not None:
            s, _, _ = server.request("POST", f"/api/v1/tasks/{t['id']}/scalars",
                                     {"series": [{"title": "acc", "series": "val", "iterations": [0, 1], "values": [0.0, acc]}]})
            assert s == 200

    def names(qs):
        s, page, _ = server.request("GET", "/api/v1/tasks?project=f&order_by=name&order=asc&" + qs)
        assert s == 200, page
        return [t["name"] for t in page["tasks"]]

    assert names("filter=param:General/lr%3E%3D0.01") == ["a", "b"]
    assert names("filter=param:General/lr%3C0.05&filter=param:General/opt=adam") == ["b", "c"]
    assert names("filter=metric:acc/val%3E0.6") == ["b"]
    assert names("filter=param:General/opt~da") == ["a", "b", "c"]
    s, page, _ = server.request("GET", "/api/v1/tasks?project=f&order_by=name&order=asc&param=General/lr&metric=acc/val")
    a, b, c = page["tasks"]
    assert a["hyperparameters"] == {"General": {"lr": {"value": "0.1", "type": "str", "description": ""}}}
    assert a["metrics"][0]["last_value"] == 0.5 and a["metrics"][0]["max_value"] == 0.5
    assert "metrics" not in c, "no column for a task without the metric"
    s, keys, _ = server.request("GET", "/api/v1/keys?project=f")
    assert keys == {"params": ["General/lr", "General/opt"], "metrics": ["acc/val"]}

    for bad, where in (("filter=lr%3E1", "param: or metric:"), ("filter=param:General/lr", "no operator"),
                       ("filter=metric:acc/val%3Ehigh", "number"), ("param=nolash", "<section>/<name>")):
        s, body, _ = server.request("GET", "/api/v1/tasks?" + bad)
        assert s == 400 and body["error"]["code"] == "invalid_argument", body
        assert where in body["error"]["message"]


def get_json(url, timeout=70):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def test_long_poll_wakes_on_a_change_of_its_task_only(server):
    a = make_task(server, name="a")["id"]
    b = make_task(server, name="b")["id"]
    v0 = get_json(f"{server.url}/api/v1/changes?task={a}")["version"]  # no since: at once
    got = {}

    def wait():
        start = time.monotonic()
        got["version"] = get_json(f"{server.url}/api/v1/changes?task={a}&since={v0}&timeout=30")["version"]
        got["took"] = time.monotonic() - start

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.5)
    # A write to another task does not wake it; one to its own does, at once.
    server.request("POST", f"/api/v1/tasks/{b}/console", {"lines": [{"text": "x"}]})
    time.sleep(0.5)
    assert t.is_alive()
    server.request("POST", f"/api/v1/tasks/{a}/console", {"lines": [{"text": "hello"}]})
    t.join(timeout=5)
    assert not t.is_alive() and got["version"] != v0 and 0.9 < got["took"] < 5
    # Timeout: the same version back.
    v1 = got["version"]
    start = time.monotonic()
    assert get_json(f"{server.url}/api/v1/changes?task={a}&since={v1}&timeout=1")["version"] == v1
    assert time.monotonic() - start >= 0.9
    # No task: any task's change.
    va = get_json(f"{server.url}/api/v1/changes")["version"]
    make_task(server, name="c")
    assert get_json(f"{server.url}/api/v1/changes?since={va}&timeout=10")["version"] != va
    s, body, _ = server.request("GET", "/api/v1/changes?timeout=61")
    assert s == 400 and "timeout" in body["error"]["message"]


def test_many_waiting_pages_do_not_block_the_server_and_shutdown_answers_them(tmp_path):
    server = Server(str(tmp_path / "d"), args=("--workers", "2"))
    try:
        tid = make_task(server, name="w")["id"]
        v = get_json(f"{server.url}/api/v1/changes?task={tid}")["version"]
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            get_json(f"{server.url}/api/v1/changes?task={tid}&since={v}&timeout=60")))
            for _ in range(40)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        # 40 parked long-polls, 2 worker threads: other requests are still answered at once.
        start = time.monotonic()
        for _ in range(20):
            assert server.request("GET", f"/api/v1/tasks/{tid}")[0] == 200
        assert time.monotonic() - start < 2.0
        assert not results
        # SIGTERM answers the parked polls instead of waiting out their 60 s.
        start = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - start < 10
        for t in threads:
            t.join(timeout=5)
        assert len(results) == 40
    finally:
        server.stop()


def test_token_in_a_cookie_opens_the_api_for_the_ui(tmp_path):
    server = Server(str(tmp_path / "d"), env={"RH_API_TOKEN": "s3cret"})
    try:
        assert server.request("GET", "/")[0] == 200, "the UI's page itself needs no token"
        assert server.request("GET", "/api/v1/projects")[0] == 401
        assert server.request("GET", "/api/v1/projects", headers={"Cookie": "a=b; rh_token=wrong"})[0] == 401
        assert server.request("GET", "/api/v1/projects", headers={"Cookie": "a=b; rh_token=s3cret"})[0] == 200
    finally:
        server.stop()
