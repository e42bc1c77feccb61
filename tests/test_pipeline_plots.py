"""`rh plots show|diff` on a DVC project made here, checked against real
DVC (PyPI, tests/.venv-dvc) on the same files: the same plots (stage plot
files, a cached plots folder expanded per file, a top-level plot over two
files, a confusion matrix, an image; names with spaces and non-ASCII
letters), each with the same revisions and the same points; DVC's rule for
the revisions of `plots diff`; the self-contained HTML file. The page itself
is drawn in Chromium by tests/browser/plots.test.mjs."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import rh
from test_pipeline import DVC, dvc

pytestmark = pytest.mark.skipif(not os.path.exists(DVC), reason="scripts/test-venv.sh installs DVC")

# The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")

TRAIN = textwrap.dedent("""\
    import json, os, re
    lr = float(re.search(r"lr: (\\S+)", open("params.yaml").read()).group(1))
    with open("loss.csv", "w") as f:
        f.write("epoch,loss\\n")
        for e in range(5):
            f.write(f"{e},{lr * (5 - e):.4f}\\n")
    os.makedirs("curves", exist_ok=True)
    json.dump([{"step": s, "acc": round(1 - lr / (s + 1), 4)} for s in range(4)],
              open("curves/acc.json", "w"))
    open("curves/métriques val.csv", "w").write("x,val\\n" + "".join(f"{i},{i * lr}\\n" for i in range(3)))
    with open("confusion.csv", "w") as f:
        f.write("actual,predicted\\n")
        for a, p in [("cat", "cat"), ("cat", "dog"), ("dog", "dog"), ("dog", "dog" if lr < 0.5 else "cat")]:
            f.write(f"{a},{p}\\n")
    open("curve.png", "wb").write(bytes.fromhex(open("png.hex").read()))
    """)


def make_plots_project(repo):
    git = lambda *a: subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    dvc("init", "-q", cwd=repo)
    (repo / "params.yaml").write_text("train:\n  lr: 0.8\n")
    (repo / "train.py").write_text(TRAIN)
    (repo / "png.hex").write_text(PNG.hex())
    (repo / "dvc.yaml").write_text(textwrap.dedent(f"""\
        stages:
          train:
            cmd: {sys.executable} train.py
            deps: [train.py, png.hex]
            params: [train]
            plots:
              - loss.csv:
                  x: epoch
                  y: loss
                  title: Loss
              - curves
              - confusion.csv:
                  cache: false
                  template: confusion
                  x: actual
                  y: predicted
              - curve.png
        plots:
          - loss and accuracy:
              x: {{loss.csv: epoch, curves/acc.json: step}}
              y: {{loss.csv: loss, curves/acc.json: acc}}
        """))
    dvc("repro", "-q", cwd=repo)
    git("add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "first")
    (repo / "params.yaml").write_text("train:\n  lr: 0.2\n")
    rh("repro", cwd=repo)
    return git


def y_field(spec):
    """The y field of one of DVC's filled Vega-Lite templates."""
    if isinstance(spec, dict):
        y = spec.get("encoding", {}).get("y", {})
        if isinstance(y, dict) and "field" in y:
            return y["field"]
        spec = list(spec.values())
    if isinstance(spec, list):
        return next((f for f in map(y_field, spec) if f), None)
    return None


def dvc_points(entry):
    """{rev: sorted y values} of one of DVC's vega entries."""
    y = y_field(entry["content"])
    out = {}
    for v in entry["content"]["data"]["values"]:
        out.setdefault(v["rev"], []).append(float(v[y]))
    return {k: sorted(x) for k, x in out.items()}


def rh_points(plot):
    out = {}
    for s in plot["series"]:
        out.setdefault(s["rev"], []).extend(float(y) for y in s["y"])
    return {k: sorted(x) for k, x in out.items()}


def compare(ours, theirs):
    theirs = theirs["data"]
    ids = {p["id"] for p in ours["plots"]}
    assert ids == set(theirs), (ids, set(theirs))
    for p in ours["plots"]:
        entries = theirs[p["id"]]
        if entries and entries[0]["type"] == "image":
            assert sorted(i["rev"] for i in p["images"]) == sorted(e["revisions"][0] for e in entries), p["id"]
            assert all(i["src"].startswith("data:image/png;base64,") for i in p["images"])
            continue
        assert sorted({s["rev"] for s in p["series"]}) == sorted(entries[0]["revisions"]), p["id"]
        if p["template"] != "confusion":
            assert rh_points(p) == dvc_points(entries[0]), p["id"]
        else:
            # A confusion matrix's points are the (actual, predicted) pairs.
            pairs = lambda vs: sorted((v["rev"], v["actual"], v["predicted"]) for v in vs)  # noqa: E731
            ours_pairs = sorted((s["rev"], a, b) for s in p["series"] for a, b in zip(s["x"], s["y"]))
            assert ours_pairs == pairs(entries[0]["content"]["data"]["values"])


def test_plots_show_and_diff_agree_with_dvc(tmp_path):
    repo = tmp_path / "plots repo é"
    repo.mkdir()
    git = make_plots_project(repo)
    for args in (["plots", "show"], ["plots", "diff", "HEAD"], ["plots", "diff"],
                 ["plots", "show", "loss.csv", "curves"], ["plots", "diff", "HEAD", "--targets", "curves/acc.json"]):
        ours = json.loads(rh(*args, "--json", cwd=repo).stdout)
        theirs = json.loads(dvc(*args, "--json", cwd=repo))
        compare(ours, theirs)
    # No revisions given: HEAD and the workspace while a tracked file differs,
    # the workspace alone once it is committed (untracked files do not count).
    diff = lambda: json.loads(rh("plots", "diff", "--json", cwd=repo).stdout)["revisions"]  # noqa: E731
    assert diff() == ["HEAD", "workspace"]
    git("add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "second")
    (repo / "untracked.txt").write_text("x")
    assert diff() == ["workspace"]
    assert json.loads(rh("plots", "diff", "HEAD~1", "--json", cwd=repo).stdout)["revisions"] == ["HEAD~1", "workspace"]
    # The HTML file: DVC's default folder, the file:// URL printed, the data
    # and the page's code inlined, nothing fetched from anywhere.
    url = rh("plots", "diff", "HEAD~1", cwd=repo).stdout.strip()
    page = repo / "dvc_plots" / "index.html"
    assert url == "file://" + str(page)
    html = page.read_text()
    assert 'id="rh-plots"' in html and "<script src" not in html and "<link" not in html
    assert "http://" not in html.split('id="rh-plots"')[1].split("</script>")[0]
    report = json.loads(html.split('id="rh-plots">')[1].split("</script>")[0])
    assert report["revisions"] == ["HEAD~1", "workspace"]
    assert "curves/métriques val.csv" in {p["id"] for p in report["plots"]}
    # -o, from a sub-folder.
    (repo / "sub").mkdir()
    out = rh("plots", "show", "-o", "my plots", cwd=repo / "sub").stdout.strip()
    assert out == "file://" + str(repo / "sub" / "my plots" / "index.html")


def test_plots_errors_are_clear(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / "rh.yaml").write_text("stages:\n  s:\n    cmd: echo\n    plots: [p.csv]\n")
    # No plot file yet: nothing to draw, no file written, exit 0 (as DVC).
    r = rh("plots", "show", cwd=repo)
    assert "No plots were loaded" in r.stderr and not (repo / "rh_plots").exists()
    # A field that no row has: the plot is named with the row.
    (repo / "p.csv").write_text("a,b\n1,2\n")
    (repo / "rh.yaml").write_text("stages:\n  s:\n    cmd: echo\n    plots:\n      - p.csv: {y: zz}\n")
    r = rh("plots", "show", "--json", cwd=repo)
    assert "p.csv: no field 'zz' in row 1" in r.stderr
    assert json.loads(r.stdout)["errors"] == ["workspace: p.csv: no field 'zz' in row 1"]
    # A plot file that is not valid JSON.
    (repo / "q.json").write_text("[{\"a\": 1},")
    (repo / "rh.yaml").write_text("stages:\n  s:\n    cmd: echo\n    plots: [q.json]\n")
    r = rh("plots", "show", "--json", cwd=repo)
    assert "q.json" in r.stderr, r.stderr
    r = rh("plots", "diff", "no-such-rev", "--json", cwd=repo, check=False)
    assert r.returncode != 0 and "no-such-rev" in r.stderr, r.stderr
