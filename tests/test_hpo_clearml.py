"""ClearML's HyperParameterOptimizer (roundhouse.automation) on a real
server with real agents: a recorded task (argparse, a validation scalar)
is the base; the optimizer's trials are its clones with the sampled
values, run to the end (random search), or stopped early (the BOHB-like
searcher); the top experiments come back ranked. The parameter ranges are
checked against ClearML's own (its 1.16.5 wheel, read, not installed):
the same grid values and, for the same seed, the same samples."""
import importlib.util
import os
import sys
import zipfile

import pytest

from conftest import Server, rh
from test_agent import Agent, make_repo, run_local

PYTHON_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "python"))
sys.path.insert(0, PYTHON_DIR)
from roundhouse import automation  # noqa: E402

PEERS = os.path.join(os.path.dirname(__file__), ".venv", "peers")

BASE = '''
import argparse, time
import roundhouse
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.9)
p.add_argument("--layers", type=int, default=1)
a = p.parse_args()
task = roundhouse.init(project="hpo", name="base")
log = task.get_logger()
for i in range(10):
    time.sleep(float(__import__("os").environ.get("STEP_S", "0")))
    log.report_scalar("validation", "loss", (a.lr - 0.2) ** 2 + 0.01 * (10 - i) + 0.001 * a.layers, i)
print("trained with", a.lr, a.layers)
'''


def clearml_parameters(tmp_path):
    wheel = os.path.join(PEERS, "clearml-1.16.5-py2.py3-none-any.whl")
    with zipfile.ZipFile(wheel) as z:
        src = z.read("clearml/automation/parameters.py").decode()
    path = tmp_path / "clearml_parameters.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("clearml_parameters", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_parameter_ranges_agree_with_clearml(tmp_path):
    theirs = clearml_parameters(tmp_path)
    cases = [
        ("UniformParameterRange", ("General/lr", 0.01, 0.5), {}),
        ("UniformParameterRange", ("General/lr", 0.0, 1.0), {"step_size": 0.25}),
        ("UniformParameterRange", ("General/lr", 0.0, 1.0), {"step_size": 0.3, "include_max_value": False}),
        ("LogUniformParameterRange", ("General/wd", -5, -1), {"step_size": 1}),
        ("LogUniformParameterRange", ("General/wd", -4, 0), {"base": 2}),
        ("UniformIntegerParameterRange", ("Args/batch", 16, 128), {"step_size": 16}),
        ("UniformIntegerParameterRange", ("Args/layers", 1, 5), {"include_max_value": False}),
        ("DiscreteParameterRange", ("Args/opt",), {"values": ["sgd", "adam", "adamw"]}),
    ]
    for name, args, kw in cases:
        a = getattr(automation, name)(*args, **kw)
        b = getattr(theirs, name)(*args, **kw)
        assert a.to_list() == b.to_list(), (name, args, kw)
        for seed in (0, 1, 1337):
            automation.RandomSeed.set_random_seed(seed)
            theirs.RandomSeed.set_random_seed(seed)
            assert [a.get_value() for _ in range(5)] == [b.get_value() for _ in range(5)], (name, seed)


@pytest.fixture
def cluster(tmp_path):
    server = Server(str(tmp_path / "server-data"))
    env = {"RH_SERVER": server.url}
    rh("queues", "create", "q", env=env)
    # The clones train slowly (0.1 s a step), so the searcher's stops land mid-way.
    agents = [Agent(server, f"h{i}", tmp_path, env={"STEP_S": "0.1"}) for i in range(2)]
    yield server, env
    for a in agents:
        a.stop()
    assert server.stop() == 0, server.proc.stderr.read()


def base_task(tmp_path, server, **env):
    repo = make_repo(tmp_path, BASE)
    run_local(repo, server, env=env)
    tasks = server.request("GET", "/api/v1/tasks?project=hpo")[1]["tasks"]
    return tasks[0]["id"]


def trials(server, eid):
    return server.request("GET", f"/api/v1/experiments/{eid}")[1]["trials"]


def test_random_search_over_clones_of_a_task(tmp_path, cluster, monkeypatch):
    server, env = cluster
    monkeypatch.setenv("RH_SERVER", server.url)
    base = base_task(tmp_path, server)
    opt = automation.HyperParameterOptimizer(
        base_task_id=base,
        hyper_parameters=[automation.UniformParameterRange("Args/lr", 0.01, 0.5),
                          automation.DiscreteParameterRange("Args/layers", values=[1, 2])],
        objective_metric_title="validation", objective_metric_series="loss", objective_metric_sign="min",
        optimizer_class=automation.RandomSearch, max_number_of_concurrent_tasks=2, execution_queue="q",
        total_max_jobs=4, seed=5)
    assert opt.start()
    assert opt.wait(timeout=3)
    ts = trials(server, opt.id)
    assert len(ts) == 4 and all(t["state"] == "completed" for t in ts), ts
    for t in ts:
        task = server.request("GET", f"/api/v1/tasks/{t['task_id']}")[1]
        args = task["hyperparameters"]["Args"]
        assert float(args["lr"]["value"]) == pytest.approx(t["hparams"]["Args"]["lr"])
        assert int(args["layers"]["value"]) == t["hparams"]["Args"]["layers"]
        assert task["parent"] == opt.id and task["script"]["repository"]
        console = [l["text"] for l in server.request("GET", f"/api/v1/tasks/{t['task_id']}/console")[1]["lines"]]
        ran = [l.split() for l in console if l.startswith("trained with ")]
        assert ran and float(ran[0][2]) == pytest.approx(float(args["lr"]["value"])), console
    # The base task itself is untouched.
    b = server.request("GET", f"/api/v1/tasks/{base}")[1]
    assert float(b["hyperparameters"]["Args"]["lr"]["value"]) == 0.9
    top = opt.get_top_experiments(2)
    assert len(top) == 2
    best = min(ts, key=lambda t: t["last_metric"])
    assert top[0].id == best["task_id"]
    pairs = opt.get_top_experiments_id_metrics_pair(1)
    assert pairs[0][0] == best["task_id"]
    assert pairs[0][1]["validation"]["loss"]["value"] == pytest.approx(best["last_metric"])
    assert not opt.is_active()


def test_early_stopping_aborts_the_weak_clones(tmp_path, cluster, monkeypatch):
    server, env = cluster
    monkeypatch.setenv("RH_SERVER", server.url)
    base = base_task(tmp_path, server)
    opt = automation.HyperParameterOptimizer(
        base_task_id=base, hyper_parameters=[automation.UniformParameterRange("Args/lr", 0.0, 2.0)],
        objective_metric_title="validation", objective_metric_series="loss", objective_metric_sign="min",
        optimizer_class=automation.OptimizerBOHB, max_number_of_concurrent_tasks=2, execution_queue="q",
        total_max_jobs=6, min_iteration_per_job=1, max_iteration_per_job=9, eta=3, seed=2)
    opt.start()
    assert opt.wait(timeout=4)
    ts = trials(server, opt.id)
    assert len(ts) == 6, ts
    assert {t["state"] for t in ts} <= {"completed", "aborted"}, ts
    stopped = [t for t in ts if t["state"] == "aborted"]
    assert all("stopped early by the searcher" in t["message"] for t in stopped), stopped
    assert stopped, "no clone was stopped early"
    assert server.request("GET", f"/api/v1/experiments/{opt.id}")[1]["state"] == "completed"


def test_optimizer_refusals(tmp_path, cluster, monkeypatch):
    server, env = cluster
    monkeypatch.setenv("RH_SERVER", server.url)
    hp = [automation.UniformParameterRange("General/lr", 0.0, 1.0)]
    with pytest.raises(ValueError, match="multi-objective"):
        automation.HyperParameterOptimizer("x", hp, ["a", "b"], ["c", "d"], ["min", "min"])
    with pytest.raises(ValueError, match="objective_metric_sign"):
        automation.HyperParameterOptimizer("x", hp, "a", "b", "lowest")
    with pytest.raises(ValueError, match="max_iteration_per_job"):
        automation.HyperParameterOptimizer("x", hp, "a", "b", optimizer_class=automation.OptimizerBOHB,
                                           execution_queue="q").start()
    opt = automation.HyperParameterOptimizer("0" * 32, hp, "a", "b", execution_queue="q")
    with pytest.raises(automation.optimizer.RoundhouseError, match="base task"):
        opt.start()
