"""Data outside stages and putting cached content back: `rh add` and `rh
checkout`, checked against real DVC (PyPI, tests/.venv-dvc) on twin
repositories holding the same files: the .dvc files and .gitignore agree
byte for byte, each tool checks out what the other added, and DVC finds the
workspace up to date. Trees as a user's look: names with spaces and
non-ASCII letters, an empty __init__.py, binary content, a symlink, no
commits yet, a sub-folder as the current folder."""
import os
import shutil
import subprocess

import pytest

from conftest import rh
from test_pipeline import DVC, dvc

pytestmark = pytest.mark.skipif(not os.path.exists(DVC), reason="scripts/test-venv.sh installs DVC")


def fill(repo):
    d = repo / "jeu de données"
    (d / "sub dir").mkdir(parents=True)
    (d / "__init__.py").write_text("")
    (d / "a.txt").write_text("alpha\n")
    (d / "sub dir" / "é b.bin").write_bytes(bytes(range(256)) * 64)
    os.symlink("a.txt", d / "link.txt")
    (repo / "model.pt").write_bytes(b"\x00\xffweights" * 1000)
    (repo / "nested").mkdir()
    (repo / "nested" / "table.csv").write_text("x,y\n1,2\n")


def git_repo(path, with_dvc):
    path.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)  # no commits yet
    if with_dvc:
        dvc("init", "-q", cwd=path)
    fill(path)
    return path


def test_add_and_checkout_agree_with_dvc(tmp_path):
    mine = git_repo(tmp_path / "rh repo", True)
    theirs = git_repo(tmp_path / "dvc repo", True)
    out = rh("add", "jeu de données", "model.pt", cwd=mine).stdout
    assert "Added jeu de données" in out and "'jeu de données.dvc'" in out, out
    rh("add", "table.csv", cwd=mine / "nested")  # from a sub-folder, as dvc add takes it
    dvc("add", "-q", "jeu de données", "model.pt", cwd=theirs)
    dvc("add", "-q", "table.csv", cwd=theirs / "nested")
    for f in ["jeu de données.dvc", "model.pt.dvc", ".gitignore", "nested/table.csv.dvc",
              "nested/.gitignore"]:
        assert (mine / f).read_bytes() == (theirs / f).read_bytes(), f
    assert "up to date" in dvc("status", cwd=mine)
    # Adding again changes nothing; changing the file updates its .dvc file.
    assert "Unchanged model.pt" in rh("add", "model.pt", cwd=mine).stdout
    (mine / "model.pt").write_bytes(b"new weights")
    (theirs / "model.pt").write_bytes(b"new weights")
    rh("add", "model.pt", cwd=mine)
    dvc("add", "-q", "model.pt", cwd=theirs)
    assert (mine / "model.pt.dvc").read_bytes() == (theirs / "model.pt.dvc").read_bytes()

    # rh checks out what it added, and what DVC added (DVC's cache is its own).
    for repo in (mine, theirs):
        shutil.rmtree(repo / "jeu de données")
        (repo / "model.pt").unlink()
        (repo / "nested" / "table.csv").write_text("edited\n")
        out = rh("checkout", cwd=repo).stdout
        assert "A       jeu de données" in out and "M       nested/table.csv" in out, out
        assert "2 files added and 1 file modified" in out, out
        d = repo / "jeu de données"
        assert (d / "__init__.py").read_bytes() == b""
        assert (d / "sub dir" / "é b.bin").read_bytes() == bytes(range(256)) * 64
        assert (d / "link.txt").read_text() == "alpha\n"
        assert (repo / "model.pt").read_bytes() == b"new weights"
        assert "up to date" in dvc("status", cwd=repo)
        assert rh("checkout", cwd=repo).stdout == ""  # nothing left to do
    # DVC checks out what rh added.
    shutil.rmtree(mine / "jeu de données")
    dvc("checkout", "-q", cwd=mine)
    assert (mine / "jeu de données" / "a.txt").read_text() == "alpha\n"
    # Only the targets named.
    (mine / "model.pt").unlink()
    (mine / "nested" / "table.csv").unlink()
    out = rh("checkout", "model.pt.dvc", cwd=mine).stdout
    assert "model.pt" in out and not (mine / "nested" / "table.csv").exists()
    bad = rh("checkout", "nothing-here", cwd=mine, check=False)
    assert bad.returncode != 0 and "not a stage or a tracked data file: nothing-here" in bad.stderr


def test_add_in_a_plain_repository_and_what_it_refuses(tmp_path):
    repo = git_repo(tmp_path / "plain", False)
    (repo / "rh.yaml").write_text("stages:\n  make:\n    cmd: echo made > built.txt\n    outs: [built.txt]\n")
    rh("add", "jeu de données", cwd=repo)
    text = (repo / "jeu de données.rh").read_text()
    assert text.startswith("outs:\n- md5: ") and ".dir\n  size: " in text and "nfiles: 4\n" in text
    assert text.endswith("  hash: md5\n  path: jeu de données\n"), text
    assert (repo / ".gitignore").read_text() == "/jeu de données\n"
    assert (repo / ".rh" / "cache" / "files" / "md5").is_dir()
    assert not (repo / ".dvc").exists()
    # Stage outs go into the same cache; checkout brings both back.
    rh("repro", cwd=repo)
    shutil.rmtree(repo / "jeu de données")
    (repo / "built.txt").unlink()
    out = rh("checkout", cwd=repo).stdout
    assert "A       built.txt" in out and "A       jeu de données" in out, out
    assert (repo / "built.txt").read_text() == "made\n"
    # A hard link for others, a copy for root (whose writes a read-only mode does not stop).
    st = os.stat(repo / "built.txt")
    assert (st.st_nlink == 1) if os.geteuid() == 0 else (st.st_nlink == 2 and not st.st_mode & 0o222)

    def refused(*args, cwd=repo):
        p = rh("add", *args, cwd=cwd, check=False)
        assert p.returncode != 0
        return p.stderr

    assert "does not exist" in refused("missing.txt")
    assert "outside the repository" in refused("../elsewhere")
    assert "overlaps out 'built.txt' of stage 'make'" in refused("built.txt")
    assert "overlaps 'jeu de données', tracked by jeu de données.rh" in refused("jeu de données/a.txt")
    subprocess.run(["git", "add", "model.pt"], cwd=repo, check=True)
    assert "git already tracks it" in refused("model.pt")
    assert "inside .git/" in refused(".git/config")
    # The cache lacks the content: checkout says which and exits non-zero.
    shutil.rmtree(repo / ".rh" / "cache")
    shutil.rmtree(repo / "jeu de données")
    p = rh("checkout", cwd=repo, check=False)
    assert p.returncode != 0 and "jeu de données: the cache lacks its content" in p.stderr, p.stderr
    assert "checkout failed for: jeu de données" in p.stderr


def test_dvc_cache_dir_is_where_both_tools_keep_the_data(tmp_path):
    """`dvc cache dir` moves DVC's cache (a path relative to .dvc/ in
    .dvc/config, or an absolute one in config.local); rh reads and writes
    the same place, so each tool finds what the other stored."""
    repo = git_repo(tmp_path / "repo", with_dvc=True)
    shared = tmp_path / "shared cache"
    dvc("cache", "dir", str(shared), cwd=repo)  # DVC writes it relative to .dvc/
    assert "dir" in (repo / ".dvc" / "config").read_text()
    dvc("add", "model.pt", cwd=repo)
    assert (shared / "files" / "md5").is_dir() and not (repo / ".dvc" / "cache").exists()
    os.remove(repo / "model.pt")
    rh("checkout", cwd=repo)
    assert (repo / "model.pt").read_bytes() == b"\x00\xffweights" * 1000
    # A stage rh runs caches its out there too, and DVC sees it stored.
    (repo / "dvc.yaml").write_text("stages:\n  copy:\n    cmd: cp model.pt out.bin\n    deps: [model.pt]\n"
                                   "    outs: [out.bin]\n")
    rh("repro", cwd=repo)
    assert not (repo / ".dvc" / "cache").exists()
    assert "up to date" in dvc("status", cwd=repo).lower() or dvc("status", cwd=repo).strip() == ""
    os.remove(repo / "out.bin")
    dvc("checkout", cwd=repo)
    assert (repo / "out.bin").read_bytes() == b"\x00\xffweights" * 1000
    # config.local wins, an absolute path as it is.
    other = tmp_path / "local cache"
    (repo / ".dvc" / "config.local").write_text(f"[cache]\n    dir = {other}\n")
    (repo / "extra.bin").write_bytes(b"x" * 100)
    rh("add", "extra.bin", cwd=repo)
    assert (other / "files" / "md5").is_dir()
