"""Experiments' test mode on this machine (rh experiment create --local
--test): a Determined config and a Core API script changed only in its
import, the native trial API, and the failures a user must be told about
by name (a metric never reported, a checkpoint not restored, a bad key)."""
import os
import sys
import textwrap

from conftest import rh

PYTHON_DIR = os.path.join(os.path.dirname(__file__), "..", "python")

# Determined's Core API, as its tutorials write it; only the import differs.
CORE_API = """
import json
from roundhouse import determined as det   # was: import determined as det


def main(core_context, hparams, latest_checkpoint):
    x, steps = 0.0, 0
    if latest_checkpoint is not None:
        with core_context.checkpoint.restore_path(latest_checkpoint) as path:
            state = json.loads((path / "state.json").read_text())
            x, steps = state["x"], state["steps"]
    for op in core_context.searcher.operations():
        while steps < op.length:
            steps += 1
            x += hparams["optimizer"]["lr"]
            core_context.train.report_training_metrics(steps_completed=steps, metrics={"loss": 1 / (1 + x)})
        val = 1 / (1 + x)
        core_context.train.report_validation_metrics(steps_completed=steps, metrics={"validation_loss": val})
        with core_context.checkpoint.store_path({"steps_completed": steps}) as (path, storage_id):
            (path / "state.json").write_text(json.dumps({"x": x, "steps": steps}))
        op.report_completed(val)
        if core_context.preempt.should_preempt():
            return


if __name__ == "__main__":
    info = det.get_cluster_info()
    assert info is not None and info.trial.trial_id == 1
    with det.core.init() as core_context:
        main(core_context, info.trial.hparams, info.latest_checkpoint)
"""

NATIVE = """
        import json, os, roundhouse
        ctx = roundhouse.trial()
        steps, x = 0, 0.0
        path = ctx.checkpoint.restore()
        if path:
            state = json.load(open(os.path.join(path, "state.json")))
            steps, x = state["steps"], state["x"]
        while steps < ctx.target() and not ctx.should_stop():
            steps += 1
            x += ctx.hparams["optimizer"]["lr"]
            ctx.report(steps, {"loss": 1 / (1 + x)})
        ctx.report(steps, {"validation_loss": 1 / (1 + x)}, validation=True)
        os.makedirs("ckpt", exist_ok=True)
        json.dump({"steps": steps, "x": x}, open("ckpt/state.json", "w"))
        ctx.checkpoint.save("ckpt", {"steps_completed": steps})
"""

CONFIG_037 = """
name: core-api-search
hyperparameters:
  global_batch_size: 32
  optimizer:
    lr:
      type: log
      minval: -3
      maxval: -1
    name:
      type: categorical
      vals: [adam, sgd]
searcher:
  name: adaptive_asha
  metric: validation_loss
  max_trials: 8
  max_length:
    batches: 100
entrypoint: python3 train.py
"""


def context(tmp_path, script, config=CONFIG_037):
    """A context folder as users have them: a package with an empty
    __init__.py, outputs and caches to leave out, a non-ASCII file name."""
    ctx = tmp_path / "ctx"
    (ctx / "pkg").mkdir(parents=True)
    (ctx / "pkg" / "__init__.py").write_text("")
    (ctx / "train.py").write_text(textwrap.dedent(script))
    (ctx / "d\u00e4ten.csv").write_text("a,b\n1,2\n")
    (ctx / "outputs").mkdir()
    (ctx / "outputs" / "big.bin").write_bytes(os.urandom(1 << 20))
    (ctx / ".detignore").write_text("outputs/\n")
    (ctx / "exp.yaml").write_text(textwrap.dedent(config))
    return ctx


def run_test_mode(ctx, *extra, check=True):
    env = {"PYTHONPATH": os.path.abspath(PYTHON_DIR), "PATH": os.path.dirname(sys.executable) + ":" + os.environ["PATH"]}
    return rh("experiment", "create", str(ctx / "exp.yaml"), str(ctx), "--local", "--test", *extra,
              env=env, check=check)


def test_a_core_api_script_passes_test_mode_unchanged_but_for_its_import(tmp_path):
    p = run_test_mode(context(tmp_path, CORE_API))
    assert p.stdout.strip().endswith("PASS"), p.stdout + p.stderr
    assert "config: ok (searcher adaptive_asha, metric validation_loss)" in p.stdout
    # train.py, pkg/__init__.py, the csv, exp.yaml, .detignore; outputs/ left out.
    assert "context: 5 files" in p.stdout, p.stdout
    assert "restart: restored" in p.stdout and "went on to step 2" in p.stdout


def test_the_native_trial_api_passes_test_mode(tmp_path):
    p = run_test_mode(context(tmp_path, NATIVE))
    assert p.stdout.strip().endswith("PASS"), p.stdout + p.stderr


def test_a_trial_that_starts_over_instead_of_restoring_fails_by_name(tmp_path):
    script = CORE_API.replace("if latest_checkpoint is not None:", "if False:")
    p = run_test_mode(context(tmp_path, script), check=False)
    assert p.returncode != 0
    assert 'failed at "restart from the checkpoint"' in p.stderr, p.stderr
    assert "did not restore checkpoint" in p.stderr


def test_a_searcher_metric_never_reported_fails_naming_what_was(tmp_path):
    # Reporting by name (the native API, or Determined 0.38's form): a typo in the name.
    script = NATIVE.replace('{"validation_loss": 1 / (1 + x)}', '{"val_acc": 1 / (1 + x)}')
    p = run_test_mode(context(tmp_path, script), check=False)
    assert p.returncode != 0
    assert 'searcher metric "validation_loss" was never reported' in p.stderr, p.stderr
    assert "val_acc" in p.stderr


def test_invalid_hyperparameters_and_crashes_are_named(tmp_path):
    invalid = CORE_API.replace("    for op in core_context.searcher.operations():",
                               "    raise det.InvalidHP('lr too small')\n    for op in core_context.searcher.operations():")
    p = run_test_mode(context(tmp_path, invalid), check=False)
    assert p.returncode != 0 and "InvalidHP" in p.stderr, p.stderr
    crash = CORE_API.replace("    for op in core_context.searcher.operations():",
                             "    1 / 0\n    for op in core_context.searcher.operations():")
    p = run_test_mode(context(tmp_path / "c", crash), check=False)
    assert p.returncode != 0 and "exited with status 1" in p.stderr, p.stderr
    assert "ZeroDivisionError" in p.stderr, "the trial's own output is shown"


def test_a_bad_config_names_its_line_and_key_before_anything_runs(tmp_path):
    bad = CONFIG_037.replace("      minval: -3", "      minval: 3")
    p = run_test_mode(context(tmp_path, CORE_API, bad), check=False)
    assert p.returncode != 0
    assert "exp.yaml:8: hyperparameters.optimizer.lr: minval (3) is greater than maxval (-1)" in p.stderr, p.stderr
    assert "context:" not in p.stdout and "kept in" not in p.stderr


def test_warned_keys_and_overrides(tmp_path):
    config = CONFIG_037 + "bind_mounts:\n  - host_path: /data\n    container_path: /data\n"
    p = run_test_mode(context(tmp_path, NATIVE, config), "--config", "searcher.metric=loss", check=False)
    assert "warning:" in p.stdout and "bind_mounts" in p.stdout and "no effect" in p.stdout, p.stdout
    assert "metric loss" in p.stdout
    assert 'searcher metric "loss" was never reported' in p.stderr


def test_an_over_limit_context_names_its_largest_file(tmp_path):
    ctx = context(tmp_path, CORE_API)
    (ctx / ".detignore").write_text("")
    p = run_test_mode(ctx, "--context-limit-mb", "0.5", check=False)
    assert p.returncode != 0 and "outputs/big.bin" in p.stderr, p.stderr


def test_without_local_test_the_command_says_what_runs(tmp_path):
    p = rh("experiment", "create", str(context(tmp_path, CORE_API) / "exp.yaml"), check=False)
    assert p.returncode != 0 and "--local --test" in p.stderr
