"""Task pipelines (ClearML's PipelineController) on a real server and agent:
three existing tasks, recorded once by running their scripts, cloned as the
steps of a pipeline whose parameter overrides reference the pipeline's
parameter and the steps before them (`${pipeline.x}`, `${step.artifacts.N.url}`,
`${step.id}`, `${step.parameters.S/N}`); the server enqueues each step once
its parents completed and resolves the references then; the scripts read the
resolved values under the agent. References to unknown steps or parameters
are refused when the pipeline is defined; the step cache reuses a completed
step with the same inputs; a failed step is retried, then fails the run."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import rh, wait_for
from test_agent import PYTHON_DIR, Agent

STEP1 = textwrap.dedent("""\
    import json, roundhouse
    task = roundhouse.Task.init(project="examples", name="step 1 dataset")
    args = task.connect({"dataset_url": "file:///nowhere", "rows": 3})
    open("data.json", "w").write(json.dumps({"url": args["dataset_url"], "rows": int(args["rows"])}))
    task.upload_artifact("dataset", "data.json")
    print("step 1 saw", args["dataset_url"])
    """)
STEP2 = textwrap.dedent("""\
    import roundhouse
    task = roundhouse.Task.init(project="examples", name="step 2 process")
    args = task.connect({"dataset_url": "", "test_size": 0.5})
    print("step 2 saw", args["dataset_url"], args["test_size"])
    """)
STEP3 = textwrap.dedent("""\
    import roundhouse, sys
    task = roundhouse.Task.init(project="examples", name="step 3 train")
    args = task.connect({"dataset_task_id": "", "test_size": "", "fail": "no"})
    print("step 3 saw", args["dataset_task_id"], args["test_size"])
    sys.exit(3 if args["fail"] == "yes" else 0)
    """)

PIPELINE = textwrap.dedent("""\
    import sys
    from roundhouse.automation import PipelineController
    pipe = PipelineController(name="pipeline demo", project="examples", version="0.0.1")
    pipe.add_parameter(name="url", description="the data", default="https://example.com/iris.pkl")
    pipe.set_default_execution_queue("q")
    cache = len(sys.argv) > 2 and sys.argv[2] == "cache"
    pipe.add_step(name="stage_data", base_task_project="examples", base_task_name="step 1 dataset",
                  parameter_override={"General/dataset_url": "${pipeline.url}"}, cache_executed_step=cache)
    pipe.add_step(name="stage_process", parents=["stage_data"], base_task_project="examples",
                  base_task_name="step 2 process",
                  parameter_override={"General/dataset_url": "${stage_data.artifacts.dataset.url}",
                                      "General/test_size": 0.25}, cache_executed_step=cache)
    pipe.add_step(name="stage_train", base_task_project="examples", base_task_name="step 3 train",
                  parameter_override={"General/dataset_task_id": "${stage_process.id}",
                                      "General/test_size": "${stage_process.parameters.General/test_size}",
                                      "General/fail": sys.argv[1]}, cache_executed_step=cache,
                  retry_on_failure=1)
    pipe.start_locally()
    print("RUN", pipe.id)
    """)


def py(server, cwd, code, *args, check=True):
    env = dict(os.environ, RH_SERVER=server.url, PYTHONPATH=PYTHON_DIR)
    env.pop("RH_TASK_ID", None)
    # From a file, as users run them (a function step reads its function's source).
    script = cwd / "pipeline_script.py"
    script.write_text(code)
    p = subprocess.run([sys.executable, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300)
    if check:
        assert p.returncode == 0, p.stdout + p.stderr
    return p


@pytest.fixture
def agent(server, tmp_path):
    assert server.request("POST", "/api/v1/queues", {"name": "q"})[0] in (200, 201)
    (tmp_path / "work").mkdir()
    a = Agent(server, "pipe-agent", tmp_path / "work")
    yield a
    a.stop()


def console(server, tid):
    return "\n".join(l["text"] for l in server.request("GET", f"/api/v1/tasks/{tid}/console?limit=10000")[1]["lines"])


def test_a_three_step_pipeline_resolves_references_on_the_server(tmp_path, server, agent):
    for i, code in enumerate((STEP1, STEP2, STEP3), 1):
        d = tmp_path / f"step{i}"
        d.mkdir()
        (d / "script.py").write_text(code)
        p = subprocess.run([sys.executable, "script.py"], cwd=d, capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, RH_SERVER=server.url, PYTHONPATH=PYTHON_DIR))
        assert p.returncode == 0, p.stderr
    out = py(server, tmp_path, PIPELINE, "no").stdout
    run_id = out.split("RUN ")[1].split()[0]
    state = server.request("GET", f"/api/v1/pipelines/{run_id}")[1]
    assert state["status"] == "completed", (state["status_message"], [(s["name"], s["status"], s["status_message"]) for s in state["steps"]])
    assert state["hyperparameters"]["Pipeline"]["url"]["value"] == "https://example.com/iris.pkl"
    steps = {s["name"]: server.request("GET", f"/api/v1/tasks/{s['id']}")[1] for s in state["steps"]}
    assert set(steps) == {"stage_data", "stage_process", "stage_train"}
    assert all(s["status"] == "completed" and s["parent"] == run_id for s in steps.values())
    hp = lambda name, key: steps[name]["hyperparameters"]["General"][key]["value"]  # noqa: E731
    assert hp("stage_data", "dataset_url") == "https://example.com/iris.pkl"
    artifact = server.request("GET", f"/api/v1/tasks/{steps['stage_data']['id']}/artifacts")[1]["artifacts"][0]
    assert hp("stage_process", "dataset_url") == "/api/v1/blobs/" + artifact["digest"]
    assert hp("stage_process", "test_size") == "0.25"
    assert hp("stage_train", "dataset_task_id") == steps["stage_process"]["id"]
    assert hp("stage_train", "test_size") == "0.25"
    # Order: a reference made stage_train wait for stage_process.
    assert steps["stage_train"]["started"] >= steps["stage_process"]["completed"]
    assert steps["stage_process"]["started"] >= steps["stage_data"]["completed"]
    # The scripts read the resolved values under the agent.
    assert "step 1 saw https://example.com/iris.pkl" in console(server, steps["stage_data"]["id"])
    assert f"step 2 saw /api/v1/blobs/{artifact['digest']} 0.25" in console(server, steps["stage_process"]["id"])
    assert f"step 3 saw {steps['stage_process']['id']} 0.25" in console(server, steps["stage_train"]["id"])
    listed = server.request("GET", "/api/v1/pipelines?project=examples")[1]["pipelines"]
    assert [p["id"] for p in listed] == [run_id]
    # The run's task has the graph the UI's Pipeline tab draws.
    dag = json.loads(server.request("GET", f"/api/v1/tasks/{run_id}")[1]["configurations"]["dag"]["value"])
    assert {s["name"]: s["after"] for s in dag["stages"]} == {
        "stage_data": [], "stage_process": ["stage_data"], "stage_train": ["stage_process"]}

    # Run again with the step cache: stage_data's and stage_process's inputs
    # are those of the first run's, so they do not run; each ends at once as
    # a copy of the earlier one (its artifact recorded on it, so references
    # to it resolve). stage_train's inputs name the new stage_process's ID,
    # so it runs.
    out = py(server, tmp_path, PIPELINE, "no", "cache").stdout
    cached_run = out.split("RUN ")[1].split()[0]
    state = server.request("GET", f"/api/v1/pipelines/{cached_run}")[1]
    assert state["status"] == "completed", state["status_message"]
    again = {s["name"]: server.request("GET", f"/api/v1/tasks/{s['id']}")[1] for s in state["steps"]}
    for name in ("stage_data", "stage_process"):
        t = again[name]
        assert t["runtime"]["cached_from"] == steps[name]["id"], name
        assert t["status_message"] == "cached: the same as task " + steps[name]["id"]
        assert "worker" not in t["runtime"], "a cached step runs nowhere"
    assert "cached_from" not in again["stage_train"]["runtime"] and again["stage_train"]["runtime"]["worker"]
    reused = server.request("GET", f"/api/v1/tasks/{again['stage_data']['id']}/artifacts")[1]["artifacts"]
    assert [a["digest"] for a in reused] == [artifact["digest"]]
    assert again["stage_train"]["hyperparameters"]["General"]["dataset_task_id"]["value"] == again["stage_process"]["id"]
    # A run is a task like any: cloned, its Pipeline parameter edited and
    # enqueued, it runs the same pipeline again (the server drives it).
    s_, clone, _ = server.request("POST", f"/api/v1/tasks/{run_id}/clone", {"name": "demo again"})
    assert s_ == 201 and clone["type"] == "controller"
    s_, _, _ = server.request("PUT", f"/api/v1/tasks/{clone['id']}/hyperparameters",
                              {"hyperparameters": {"Pipeline": {"url": "https://example.com/other.pkl"}}})
    assert s_ == 200
    s_, started, _ = server.request("POST", f"/api/v1/tasks/{clone['id']}/enqueue", {"queue": "q"})
    assert s_ == 200 and started["status"] == "running", started
    wait_for(lambda: server.request("GET", f"/api/v1/tasks/{clone['id']}")[1]["status"] in
             ("completed", "failed", "aborted"), timeout=120)
    state = server.request("GET", f"/api/v1/pipelines/{clone['id']}")[1]
    assert state["status"] == "completed" and state["name"] == "demo again"
    data = next(s_ for s_ in state["steps"] if s_["name"] == "stage_data")
    assert server.request("GET", f"/api/v1/tasks/{data['id']}")[1]["hyperparameters"]["General"]["dataset_url"][
        "value"] == "https://example.com/other.pkl"
    # An ended run cannot be enqueued itself.
    s_, r_, _ = server.request("POST", f"/api/v1/tasks/{run_id}/enqueue", {"queue": "q"})
    assert s_ == 409 and "clone" in r_["error"]["message"]

    # The same from the command line: a YAML file, a parameter given.
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent("""\
        name: from the cli
        project: examples
        parameters: {url: default-url}
        steps:
          - name: stage_data
            base_task_project: examples
            base_task_name: step 1 dataset
            parameter_override: {General/dataset_url: "${pipeline.url}"}
          - name: stage_process
            base_task_project: examples
            base_task_name: step 2 process
            parameter_override: {General/dataset_url: "${stage_data.artifacts.dataset.url}"}
        """))
    r = rh("pipelines", "run", str(tmp_path / "pipeline.yaml"), "--queue", "q", "--param", "url=given-url",
           "--wait", env={"RH_SERVER": server.url}, timeout=300)
    cli_run = r.stdout.splitlines()[0]
    assert "step stage_process: completed" in r.stdout and f"pipeline {cli_run} completed" in r.stdout
    shown = rh("pipelines", "show", cli_run[:12], env={"RH_SERVER": server.url}).stdout
    assert "stage_data" in shown and "completed" in shown
    assert "from the cli" in rh("pipelines", "list", "--project", "examples", env={"RH_SERVER": server.url}).stdout
    data = [s for s in server.request("GET", f"/api/v1/pipelines/{cli_run}")[1]["steps"] if s["name"] == "stage_data"]
    full = server.request("GET", f"/api/v1/tasks/{data[0]['id']}")[1]
    assert full["hyperparameters"]["General"]["dataset_url"]["value"] == "given-url"

    # A failing last step: the run fails naming it.
    out = py(server, tmp_path, PIPELINE, "yes").stdout
    failed = out.split("RUN ")[1].split()[0]
    state = server.request("GET", f"/api/v1/pipelines/{failed}")[1]
    assert state["status"] == "failed" and state["status_message"] == "not completed: stage_train"
    # It failed twice: retried once (retry_on_failure=1), the first kept as it ended.
    trains = [server.request("GET", f"/api/v1/tasks/{s['id']}")[1] for s in state["steps"] if s["name"] == "stage_train"]
    assert len(trains) == 2 and all(t["status"] == "failed" for t in trains)
    first, second = sorted(trains, key=lambda t: t["created"])
    assert first["runtime"]["dag_retried"] == second["id"] and second["runtime"]["retry_of"] == first["id"]


def test_bad_pipelines_are_refused_when_defined(server):
    body = {"name": "p", "project": "examples", "queue": "q",
            "steps": [{"name": "a", "base_task_id": "0" * 32}]}
    s, r, _ = server.request("POST", "/api/v1/pipelines", body)
    assert s == 404 and "step 'a': base task" in r["error"]["message"]
    # A real base task for the rest.
    s, t, _ = server.request("POST", "/api/v1/tasks", {"project": "examples", "name": "base"})
    base = t["id"]
    def refused(steps, parameters=None, queue="q"):
        s, r, _ = server.request("POST", "/api/v1/pipelines", {"name": "p", "project": "examples", "queue": queue,
                                                              "parameters": parameters or {}, "steps": steps})
        assert s == 400, r
        return r["error"]["message"]
    assert "no pipeline parameter 'nope'" in refused(
        [{"name": "a", "base_task_id": base, "parameter_override": {"General/x": "${pipeline.nope}"}}])
    assert "names no other step" in refused(
        [{"name": "a", "base_task_id": base, "parameter_override": {"General/x": "${ghost.id}"}}])
    assert "is none of" in refused(
        [{"name": "a", "base_task_id": base, "parameter_override": {"General/x": "${a.weird}"}},
         {"name": "b", "base_task_id": base}])
    assert "a cycle" in refused([{"name": "a", "base_task_id": base, "parents": ["b"]},
                                 {"name": "b", "base_task_id": base, "parents": ["a"]}])
    assert "defined twice" in refused([{"name": "a", "base_task_id": base}, {"name": "a", "base_task_id": base}])
    assert "no queue" in refused([{"name": "a", "base_task_id": base}], queue="")
    assert "is not SECTION/NAME" in refused(
        [{"name": "a", "base_task_id": base, "parameter_override": {"x": "1"}}])
    # Nothing was half made: no run exists.
    assert server.request("GET", "/api/v1/pipelines")[1]["pipelines"] == []


FUNCTIONS = textwrap.dedent("""\
    from roundhouse.automation import PipelineController

    def scale(values, factor):
        return [v * factor for v in values]

    def step_one(count, factor):
        data = scale(list(range(int(count))), float(factor))
        return data, len(data)

    def step_two(data, offset):
        return sum(data) + int(offset)

    pipe = PipelineController(name="functions", project="fn")
    pipe.set_default_execution_queue("q")
    pipe.add_function_step(name="step_one", function=step_one, function_kwargs={"count": 4, "factor": 2.5},
                           function_return=["data", "n"], helper_functions=[scale])
    pipe.add_function_step(name="step_two", function=step_two,
                           function_kwargs={"data": "${step_one.data}", "offset": 100},
                           function_return=["total"])
    ok = pipe.wait() if pipe.start() else False
    print("RUN", pipe.id, ok)
    """)


def test_function_steps_pass_return_values_to_the_next(tmp_path, server, agent):
    import pickle
    out = py(server, tmp_path, FUNCTIONS).stdout
    run_id, ok = out.split("RUN ")[1].split()[:2]
    state = server.request("GET", f"/api/v1/pipelines/{run_id}")[1]
    assert ok == "True" and state["status"] == "completed", [(s["name"], s["status_message"]) for s in state["steps"]]
    steps = {s["name"]: s for s in state["steps"]}
    arts = {a["name"]: a for a in server.request("GET", f"/api/v1/tasks/{steps['step_two']['id']}/artifacts")[1]["artifacts"]}
    _, blob, _ = server.request("GET", "/api/v1/blobs/" + arts["total"]["digest"])
    assert pickle.loads(blob) == 0 + 2.5 + 5.0 + 7.5 + 100
    one = {a["name"]: a for a in server.request("GET", f"/api/v1/tasks/{steps['step_one']['id']}/artifacts")[1]["artifacts"]}
    assert set(one) == {"data", "n"}
    # step_two waited for step_one: the reference made it a parent.
    t1, t2 = (server.request("GET", f"/api/v1/tasks/{steps[n]['id']}")[1] for n in ("step_one", "step_two"))
    assert t2["started"] >= t1["completed"]
