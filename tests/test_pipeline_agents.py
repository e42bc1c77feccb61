"""`rh repro --queue` on a real server and two real `rh agent` processes:
the stages that must run become tasks of one run, in dependency order and
in parallel where the graph allows; each agent fetches only the deps its
kept cache lacks, runs the stage, pushes its outs; the submitter writes
each stage's lock entry and checks its outs out as it completes, so the
workspace ends up as a local repro would leave it. A second run moves only
what changed; outs without cache come back too; --no-wait and --collect;
a failed stage aborts what needs it."""
import json
import os
import subprocess

import pytest

from conftest import rh, wait_for
from test_agent import Agent


def git(repo, *args):
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo, check=True,
                   capture_output=True)


RH_YAML = """\
stages:
  split:
    cmd: mkdir -p part && head -c 1000000 "raw data/données.bin" > part/a.bin && echo split
    deps: [raw data]
    outs: [part]
  left:
    cmd: sleep 2 && cat left.txt part/a.bin | wc -c > left.out
    deps: [part, left.txt]
    outs: [left.out]
  right:
    cmd: sleep 2 && cat right.txt part/a.bin | wc -c > right.out
    deps: [part, right.txt]
    outs: [right.out]
  total:
    cmd: 'echo "{\\"bytes\\": $(( $(cat left.out) + $(cat right.out) ))}" > metrics.json'
    deps: [left.out, right.out]
    metrics:
      - metrics.json:
          cache: false
"""


@pytest.fixture
def agents(server, tmp_path):
    assert server.request("POST", "/api/v1/queues", {"name": "q"})[0] in (200, 201)
    for i in (1, 2):
        (tmp_path / f"work-{i}").mkdir()
    two = [Agent(server, f"agent-{i}", tmp_path / f"work-{i}") for i in (1, 2)]
    yield two
    for a in two:
        a.stop()


def make_repo(repo):
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "raw data").mkdir()
    (repo / "raw data" / "données.bin").write_bytes(os.urandom(3_000_000))
    (repo / "left.txt").write_text("l\n")
    (repo / "right.txt").write_text("rr\n")
    (repo / "rh.yaml").write_text(RH_YAML)
    rh("add", "raw data", cwd=repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")


def stage_tasks(server, run_id):
    page = server.request("GET", f"/api/v1/tasks?parent={run_id}&limit=100")[1]["tasks"]
    return {t["name"]: server.request("GET", f"/api/v1/tasks/{t['id']}")[1] for t in page}


def last_run(server):
    runs = [t for t in server.request("GET", "/api/v1/tasks?limit=100")[1]["tasks"] if t["type"] == "controller"]
    return runs[0]


def test_stages_run_on_two_agents_and_move_only_what_changed(tmp_path, server, agents):
    repo = tmp_path / "repo é"
    make_repo(repo)
    env = {"RH_SERVER": server.url}
    r = rh("repro", "--queue", "q", cwd=repo, env=env, timeout=300)
    assert "Submitted 4 stages to queue 'q'" in r.stdout, r.stdout
    assert "Updated rh.lock." in r.stdout
    # The workspace as a local repro leaves it: lock, outs, metrics.
    assert (repo / "left.out").read_text().strip() == "1000002"
    assert json.loads((repo / "metrics.json").read_text()) == {"bytes": 2000005}
    assert "up to date" in rh("status", cwd=repo).stdout
    assert "Running stage" not in rh("repro", cwd=repo).stdout

    run = last_run(server)
    assert run["status"] == "completed" and run["name"] == "rh.yaml"
    dag = json.loads(server.request("GET", f"/api/v1/tasks/{run['id']}")[1]["configurations"]["dag"]["value"])
    assert [s["name"] for s in dag["stages"]] == ["split", "left", "right", "total"]
    assert dag["stages"][3]["after"] == ["left", "right"]
    stages = stage_tasks(server, run["id"])
    assert {n: t["status"] for n, t in stages.items()} == dict.fromkeys(["split", "left", "right", "total"], "completed")
    assert {t["runtime"]["worker"] for t in stages.values()} <= {"agent-1", "agent-2"}
    # left and right ran at once, on the two agents.
    assert stages["left"]["runtime"]["worker"] != stages["right"]["runtime"]["worker"]
    assert stages["left"]["started"] < stages["right"]["completed"] and stages["right"]["started"] < stages["left"]["completed"]
    assert stages["total"]["started"] >= max(stages["left"]["completed"], stages["right"]["completed"])
    # The raw data went to the agent that split it; the split part to the other.
    assert int(stages["split"]["runtime"]["fetched_bytes"]) >= 3_000_000
    assert int(stages["split"]["runtime"]["pushed_bytes"]) >= 1_000_000
    first_total = int(stages["total"]["runtime"]["fetched_bytes"])
    assert 0 < first_total < 100, "one of left.out and right.out came from the other agent"
    # The stage task holds what a local run records: metrics as scalars.
    sums = server.request("GET", f"/api/v1/tasks/{stages['total']['id']}/scalars")[1]["scalars"]
    assert [(s["title"], s["series"], s["last_value"]) for s in sums] == [("metrics.json", "bytes", 2000005)]

    # A change reaching one branch: only left and total run, and left
    # fetches nothing (part/ is in both agents' kept caches by now).
    (repo / "left.txt").write_text("left changed\n")
    git(repo, "commit", "-qam", "left")
    r = rh("repro", "--queue", "q", cwd=repo, env=env, timeout=300)
    assert "Submitted 2 stages" in r.stdout, r.stdout
    stages = stage_tasks(server, last_run(server)["id"])
    assert set(stages) == {"left", "total"}
    assert int(stages["left"]["runtime"]["fetched_bytes"]) == 0
    assert int(stages["total"]["runtime"]["fetched_bytes"]) <= first_total
    assert (repo / "left.out").read_text().strip() == "1000013"
    assert "up to date" in rh("status", cwd=repo).stdout


def test_no_wait_collect_and_a_failed_stage(tmp_path, server, agents):
    repo = tmp_path / "r"
    make_repo(repo)
    env = {"RH_SERVER": server.url}
    r = rh("repro", "--queue", "q", "--no-wait", cwd=repo, env=env)
    assert "rh repro --collect" in r.stdout
    wait_for(lambda: "completed." in rh("repro", "--collect", cwd=repo, env=env).stdout, timeout=120)
    assert "up to date" in rh("status", cwd=repo).stdout
    assert (repo / "metrics.json").exists()

    # right fails: total is never run, the run fails, left is still collected.
    (repo / "rh.yaml").write_text(RH_YAML.replace("sleep 2 && cat right.txt", "exit 4 && cat right.txt"))
    (repo / "left.txt").write_text("again\n")
    r = rh("repro", "--queue", "q", cwd=repo, env=env, check=False, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Stage 'right' failed" in r.stdout and "Stage 'total' aborted" in r.stdout, r.stdout
    stages = stage_tasks(server, last_run(server)["id"])
    assert stages["total"]["status"] == "aborted" and "'right' failed" in stages["total"]["status_message"]
    assert (repo / "left.out").read_text().strip() == "1000006"
    status = rh("status", cwd=repo).stdout
    assert "left:" not in status and "right:" in status, status


def test_queue_needs_a_server(tmp_path):
    repo = tmp_path / "r"
    make_repo(repo)
    r = rh("repro", "--queue", "q", cwd=repo, check=False)
    assert r.returncode != 0 and "RH_SERVER" in r.stderr
