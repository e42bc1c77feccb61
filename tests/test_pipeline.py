"""Pipelines read from a DVC project made here, checked against real DVC
(PyPI, tests/.venv-dvc) on the same files: `rh stage list` prints what
`dvc stage list` prints and `rh dag --dot` what `dvc dag --dot` prints, on
templated, foreach and matrix stages, a stage in a sub-folder with its own
wdir, and names with spaces and non-ASCII letters; errors name the file,
line and stage."""
import os
import subprocess
import textwrap

import pytest

from conftest import rh

DVC = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".venv-dvc", "bin", "dvc")
pytestmark = pytest.mark.skipif(not os.path.exists(DVC), reason="scripts/test-venv.sh installs DVC")


def dvc(*args, cwd):
    p = subprocess.run([DVC, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, DVC_NO_ANALYTICS="1"))
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.fixture
def project(tmp_path):
    repo = tmp_path / "projet données"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)  # no commits yet
    dvc("init", "-q", cwd=repo)
    (repo / "__init__.py").write_text("")
    (repo / "params.yaml").write_text(textwrap.dedent("""\
        prepare: {split: 0.2, seed: 7}
        models: {us: {epochs: 3}, uk: {epochs: 5}}
        train: {lr: 1.0e-05, flags: {depth: 3, verbose: true, name: big net}}
        """))
    (repo / "src").mkdir()
    (repo / "src" / "params.json").write_text('{"eval": {"k": 5}}')
    (repo / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          prepare:
            cmd: python prepare.py --split ${prepare.split} --seed ${prepare.seed}
            deps: [prepare.py, "data/raw é.csv"]
            params: [prepare]
            outs: [data/prepared]
          train:
            foreach: ${models}
            do:
              cmd: python train.py ${key} ${item.epochs} ${train.flags} --lr ${train.lr}
              deps: [data/prepared]
              outs: ["models/${key}.pt"]
              metrics:
                - "metrics/${key}.json":
                    cache: false
          evaluate:
            wdir: src
            vars: [params.json]
            cmd: python evaluate.py --k ${eval.k}
            deps: [../models]
            plots:
              - ../plots/roc.csv: {x: fpr, y: tpr}
          sweep:
            matrix:
              opt: [sgd, adam]
              bs: [16, 64]
            cmd: python sweep.py ${item.opt} ${item.bs}
            deps: [data/prepared/train.csv]
            desc: |
              A sweep over optimizers
              and batch sizes
          report:
            cmd: echo done
        """))
    return repo


def test_stage_list_and_dag_agree_with_dvc(project):
    assert rh("stage", "list", cwd=project).stdout == dvc("stage", "list", cwd=project)
    assert rh("stage", "list", "train", cwd=project).stdout == dvc("stage", "list", "train", cwd=project)
    assert rh("stage", "list", "--name-only", cwd=project).stdout == dvc("stage", "list", "--name-only",
                                                                       cwd=project)
    assert rh("dag", "--dot", cwd=project).stdout == dvc("dag", "--dot", cwd=project)
    for target in ("evaluate", "train@us", "sweep@adam-64"):
        assert rh("dag", "--dot", target, cwd=project).stdout == dvc("dag", "--dot", target, cwd=project), target
    text = rh("dag", cwd=project).stdout
    assert "evaluate  <- train@us, train@uk" in text, text


def test_rh_yaml_wins_and_errors_name_file_line_and_stage(project):
    (project / "rh.yaml").write_text("stages:\n  a:\n    cmd: echo ${nope}\n")
    bad = rh("stage", "list", cwd=project, check=False)
    assert bad.returncode != 0
    assert "rh.yaml:3: stages.a.cmd: Could not find 'nope'" in bad.stderr, bad.stderr
    (project / "rh.yaml").write_text(textwrap.dedent("""\
        stages:
          a: {cmd: x, outs: [o]}
          b: {cmd: y, deps: [o], outs: [p]}
          c: {cmd: z, deps: [p], outs: [o/inner]}
        """))
    overlap = rh("dag", cwd=project, check=False)
    assert "rh.yaml: the outs 'o' of stage 'a' and 'o/inner' of stage 'c' overlap" in overlap.stderr, \
        overlap.stderr
    (project / "rh.yaml").write_text("stages:\n  a: {cmd: x, deps: [b], outs: [a]}\n"
                                     "  b: {cmd: y, deps: [a], outs: [b]}\n")
    cycle = rh("dag", cwd=project, check=False)
    assert "cycle: 'a' -> 'b' -> 'a'" in cycle.stderr, cycle.stderr
    (project / "rh.yaml").write_text("stages:\n  a: {cmd: x}\n")
    missing = rh("dag", "nope", cwd=project, check=False)
    assert "no stage 'nope'" in missing.stderr, missing.stderr


def make_runnable(repo):
    """A pipeline whose stages really run: prepare -> train, with params,
    a folder out, a metric without cache and a plot; names with spaces and
    non-ASCII letters, an empty file and binary content among the data."""
    (repo / "data").mkdir()
    (repo / "data" / "raw é.csv").write_text("a,b\n1,2\n")
    (repo / "data" / "empty").write_text("")
    (repo / "data" / "blob.bin").write_bytes(bytes(range(256)) * 8)
    (repo / "params.yaml").write_text(textwrap.dedent("""\
        prepare:
          split: 0.2   # a comment
          seed: 7
        train: {lr: 1.0e-05, epochs: 10, layers: [64, 32], name: big net, flag: true, none: null}
        """))
    (repo / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          prepare:
            cmd: mkdir -p "out dir" && cp "data/raw é.csv" "out dir/a.csv" && echo ${prepare.seed} > "out dir/b.txt"
            deps: [data]
            params: [prepare.split, prepare.seed]
            outs:
              - out dir:
                  persist: true
          train:
            cmd:
              - echo "train ${train.lr}" > model.bin
              - 'echo {"acc": 0.9} > metrics.json && printf "step,loss\\n1,2\\n" > loss.csv'
            deps: [out dir]
            params: [train]
            outs: [model.bin]
            metrics:
              - metrics.json:
                  cache: false
            plots:
              - loss.csv:
                  x: step
                  cache: false
        """))


def test_rh_and_dvc_drive_the_same_repository(tmp_path, project):
    import shutil
    for f in ("dvc.yaml", "params.yaml"):
        (project / f).unlink()
    shutil.rmtree(project / "src")
    make_runnable(project)
    twin = tmp_path / "twin"
    shutil.copytree(project, twin, symlinks=True)
    dvc("repro", "-q", cwd=project)
    out = rh("repro", cwd=twin).stdout
    assert "Running stage 'prepare'" in out and "Running stage 'train'" in out, out
    # The same lock, byte for byte, and each sees the other's work as up to date.
    assert (twin / "dvc.lock").read_text() == (project / "dvc.lock").read_text()
    assert "up to date" in dvc("status", cwd=twin)
    assert rh("status", cwd=project).stdout == "Data and pipelines are up to date.\n"
    assert rh("repro", cwd=project).stdout.endswith("Data and pipelines are up to date.\n")
    # Values, not text: 0.2 -> 0.20, a comment, a touch change nothing.
    for repo in (project, twin):
        text = (repo / "params.yaml").read_text().replace("split: 0.2   # a comment", "split: 0.20")
        (repo / "params.yaml").write_text(text)
        os.utime(repo / "data" / "raw é.csv")
    assert rh("status", "-q", cwd=twin, check=False).returncode == 0
    # A changed param reruns only the stage that tracks it, in both tools alike.
    for repo in (project, twin):
        text = (repo / "params.yaml").read_text().replace("lr: 1.0e-05", "lr: 0.001")
        (repo / "params.yaml").write_text(text)
    status = rh("status", cwd=twin).stdout
    assert "train:" in status and "prepare:" not in status and "params.yaml: train: modified" in status, status
    out = rh("repro", cwd=twin).stdout
    assert "Stage 'prepare' didn't change, skipping" in out and "Running stage 'train'" in out, out
    dvc("repro", "-q", cwd=project)
    assert (twin / "dvc.lock").read_text() == (project / "dvc.lock").read_text()
    assert (twin / "model.bin").read_text() == "train 0.001\n"
    # An out deleted is noticed and made again; the folder out persists.
    (twin / "model.bin").unlink()
    assert "deleted:" in rh("status", cwd=twin).stdout
    rh("repro", cwd=twin)
    assert "up to date" in dvc("status", cwd=twin)
    assert (twin / ".gitignore").read_text().count("/model.bin") == 1
    # What rh put in DVC's cache is what DVC checks out: a file and a folder.
    before = (twin / "out dir" / "a.csv").read_text()
    shutil.rmtree(twin / "out dir")
    (twin / "model.bin").unlink()
    dvc("checkout", cwd=twin)
    assert (twin / "model.bin").read_text() == "train 0.001\n"
    assert (twin / "out dir" / "a.csv").read_text() == before
    assert "up to date" in dvc("status", cwd=twin)


def test_failures_are_reported_and_nothing_is_half_written(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    (repo / "in.txt").write_text("x\n")
    (repo / "rh.yaml").write_text(textwrap.dedent("""\
        stages:
          ok:
            cmd: cp in.txt ok.txt
            deps: [in.txt]
            outs: [ok.txt]
          broken:
            cmd: exit 3
            deps: [in.txt]
            outs: [never.txt]
          after:
            cmd: cp never.txt after.txt
            deps: [never.txt]
            outs: [after.txt]
          lazy:
            cmd: echo nothing
            deps: [ok.txt]
            outs: [lazy.txt]
        """))
    dry = rh("repro", "--dry", cwd=repo).stdout
    assert "Would run stage 'ok'" in dry and "Would run stage 'after'" in dry and not (repo / "ok.txt").exists()
    failed = rh("repro", cwd=repo, check=False)
    assert failed.returncode != 0
    assert "stage 'broken': `exit 3` exited with 3" in failed.stderr, failed.stderr
    lock = (repo / "rh.lock").read_text()
    assert "ok:" in lock and "broken" not in lock  # what finished is kept, nothing else
    kept = rh("repro", "--keep-going", cwd=repo, check=False)
    assert kept.returncode != 0
    assert "not run: after" in kept.stderr, kept.stderr
    assert "the command did not write out 'lazy.txt'" in kept.stdout + kept.stderr
    assert "lazy" not in (repo / "rh.lock").read_text()


def test_parallel_stages_and_two_repros_in_one_workspace(tmp_path):
    repo = tmp_path / "par"
    repo.mkdir()
    lines = ["stages:"]
    for i in range(6):
        lines += [f"  s{i}:", f"    cmd: sleep 0.3 && echo {i} > o{i} && echo ran {i} >> runs.log", f"    outs: [o{i}]"]
    lines += ["  final:", "    cmd: cat " + " ".join(f"o{i}" for i in range(6)) + " > final",
              "    deps: [" + ", ".join(f"o{i}" for i in range(6)) + "]", "    outs: [final]"]
    (repo / "rh.yaml").write_text("\n".join(lines) + "\n")
    out = rh("repro", "-j", "6", cwd=repo).stdout
    # Each stage's console is prefixed by its name; a progress line counts them.
    assert "[s3] > sleep 0.3" in out and "[final] > cat" in out and "/7 done," in out, out
    assert (repo / "final").read_text() == "".join(f"{i}\n" for i in range(6))
    for f in ["final", "rh.lock", "runs.log"] + [f"o{i}" for i in range(6)]:
        (repo / f).unlink()
    # Two repros at once wait for each other's stages: each stage runs once
    # (the run cache, which would bring the outs back without running, is off).
    import subprocess
    from conftest import RH
    a = subprocess.Popen([RH, "repro", "-j", "3", "--no-run-cache"], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen([RH, "repro", "-j", "3", "--no-run-cache"], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=60) for p in (a, b)]
    assert a.returncode == 0 and b.returncode == 0, outs
    assert sorted((repo / "runs.log").read_text().split("\n")) == [""] + [f"ran {i}" for i in range(6)]
    assert rh("status", cwd=repo).stdout == "Data and pipelines are up to date.\n"
    # An rh.yaml project has the run cache too: outs and lock deleted, nothing runs.
    for f in ["final", "rh.lock"] + [f"o{i}" for i in range(6)]:
        (repo / f).unlink()
    out = rh("repro", cwd=repo).stdout
    assert "Stage 's0' is cached - skipping run" in out and "Running stage" not in out, out
    assert (repo / "final").read_text() == "".join(f"{i}\n" for i in range(6))
    assert len((repo / "runs.log").read_text().split("\n")) == 7
    assert rh("status", cwd=repo).stdout == "Data and pipelines are up to date.\n"
    # The cache and rh's own files stay out of git; the outs are ignored beside them.
    assert (repo / ".rh" / ".gitignore").read_text() == "/cache\n/tmp\n/config.local\n"
    assert "/final\n" in (repo / ".gitignore").read_text()


def test_metrics_and_params_reported_as_dvc_reports_them(tmp_path):
    repo = tmp_path / "m"
    repo.mkdir()
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    dvc("init", "-q", cwd=repo)
    (repo / "params.yaml").write_text("train:\n  lr: 0.001\n  epochs: 10\n  layers: [64, 32]\n  flag: true\n")
    (repo / "eval.py").write_text(textwrap.dedent("""\
        import json, re
        lr = float(re.search(r"lr: (\\S+)", open("params.yaml").read()).group(1))
        json.dump({"acc": round(1 - lr * 10, 6), "loss": {"train": lr * 2, "val": 0.25}}, open("metrics.json", "w"))
        json.dump({"auc": 0.5 + lr}, open("scores.json", "w"))
        """))
    import sys
    (repo / "dvc.yaml").write_text(textwrap.dedent(f"""\
        stages:
          evaluate:
            cmd: {sys.executable} eval.py
            deps: [eval.py]
            params: [train]
            metrics:
              - metrics.json:
                  cache: false
              - scores.json
        """))
    dvc("repro", "-q", cwd=repo)
    git("add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "first")
    (repo / "params.yaml").write_text("train:\n  lr: 0.01\n  epochs: 10\n  layers: [64, 32, 16]\n  flag: false\n")
    rh("repro", cwd=repo)
    def rows(text):
        # DVC orders the files of a diff as a Python set does (it varies from
        # run to run); rh sorts them. The header, the rows and their cells agree.
        lines = text.splitlines()
        return lines[:1] + sorted(lines[1:])
    # Two tags on the first commit (one annotated), a branch: -T and -a list
    # them as DVC does (one row per commit, names joined by ',').
    git("tag", "v1")
    git("-c", "user.email=t@t", "-c", "user.name=t", "tag", "-a", "-m", "release", "v1.0")
    git("branch", "side")
    for args in (["metrics", "show"], ["metrics", "diff"], ["metrics", "diff", "--all"], ["params", "diff"],
                 ["params", "diff", "--all"], ["metrics", "diff", "--precision", "2"],
                 ["metrics", "show", "-T"], ["metrics", "show", "-a", "--md"], ["metrics", "show", "--md"],
                 ["metrics", "diff", "--md"], ["params", "diff", "--md"],
                 ["metrics", "show", "-a", "-T", "--precision", "2"]):
        ours = rh(*args, cwd=repo).stdout
        assert rows(ours) == rows(dvc(*args, cwd=repo)), args
        if "-T" in args or "-a" in args:
            # Revisions in DVC's order: the workspace, then the refs'.
            revs = lambda t: [l.replace("|", " ").split()[0] for l in t.splitlines()[1:]  # noqa: E731
                              if l.strip() and not l.startswith("|-")]
            assert revs(ours) == revs(dvc(*args, cwd=repo)), args
        elif "--md" not in args:
            assert rows(ours) == ours.splitlines(), "rh's rows come sorted"
    import json
    for args in (["metrics", "show", "--json"], ["metrics", "diff", "--json"], ["params", "diff", "--json"],
                 ["metrics", "show", "-T", "--json"]):
        assert json.loads(rh(*args, cwd=repo).stdout) == json.loads(dvc(*args, cwd=repo)), args
    # The cached metric at HEAD came from DVC's cache through HEAD's lock.
    assert "scores.json" in rh("metrics", "diff", cwd=repo).stdout
    shown = rh("metrics", "show", "-T", cwd=repo).stdout
    assert "v1,v1.0" in shown and "workspace" in shown, shown


def test_the_run_cache_brings_outs_back_without_running(tmp_path):
    repo = tmp_path / "rc"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc("init", "-q", cwd=repo)
    (repo / "params.yaml").write_text("n: 1\n")
    (repo / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          make:
            cmd: echo run >> ../runs.log && mkdir -p out && echo ${n} > out/v.txt && echo ${n} > single.txt
            params: [n]
            outs: [out, single.txt]
        """))
    runs = tmp_path / "runs.log"
    rh("repro", cwd=repo)
    (repo / "params.yaml").write_text("n: 2\n")
    rh("repro", cwd=repo)
    assert runs.read_text() == "run\nrun\n"
    # Back to n: 1 — the outs come from the cache; nothing runs.
    (repo / "params.yaml").write_text("n: 1\n")
    out = rh("repro", cwd=repo).stdout
    assert "Stage 'make' is cached - skipping run, checking out outputs" in out, out
    assert runs.read_text() == "run\nrun\n"
    assert (repo / "out" / "v.txt").read_text() == "1\n" and (repo / "single.txt").read_text() == "1\n"
    assert "up to date" in dvc("status", cwd=repo)
    # The lock and the outs gone: back again, still without running.
    (repo / "dvc.lock").unlink()
    (repo / "single.txt").unlink()
    import shutil
    shutil.rmtree(repo / "out")
    assert "is cached" in rh("repro", cwd=repo).stdout
    assert runs.read_text() == "run\nrun\n" and (repo / "single.txt").read_text() == "1\n"
    # --no-run-cache runs it.
    rh("repro", "--no-run-cache", "-f", cwd=repo)
    assert runs.read_text() == "run\nrun\nrun\n"
