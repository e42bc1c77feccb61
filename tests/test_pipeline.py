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
