"""Remotes for a repository's cached data: `rh remote`, `rh push|pull|fetch`,
`rh status -c`, against a local folder (DVC's remote layout: real DVC, from
PyPI, pulls what rh pushed and rh pulls what DVC pushed) and a real `rh
server`. A push sends only what the remote lacks and picks up after an
interruption; a damaged object is refused on the way in; -T pushes a tag's
data too; errors say what is wrong."""
import os
import shutil
import subprocess

import pytest

from conftest import Server, rh
from test_pipeline import DVC, dvc

pytestmark = pytest.mark.skipif(not os.path.exists(DVC), reason="scripts/test-venv.sh installs DVC")


def git(repo, *args):
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


def make_repo(path):
    """A DVC project with a stage whose out is a folder, and added data."""
    path.mkdir()
    git(path, "init", "-q")
    dvc("init", "-q", cwd=path)
    (path / "données brutes").mkdir()
    (path / "données brutes" / "a b.txt").write_text("raw one\n")
    (path / "données brutes" / "__init__.py").write_text("")
    (path / "weights.bin").write_bytes(os.urandom(300_000))
    (path / "dvc.yaml").write_text(
        "stages:\n  build:\n    cmd: mkdir -p out && cp 'données brutes/a b.txt' out/copy.txt"
        " && echo done > out/flag\n    deps: ['données brutes']\n    outs: [out]\n")
    rh("add", "données brutes", "weights.bin", cwd=path)
    rh("repro", cwd=path)
    return path


def objects(remote):
    return sorted(str(p.relative_to(remote)) for p in remote.rglob("*") if p.is_file())


def test_folder_remote_round_trips_with_dvc(tmp_path):
    repo = make_repo(tmp_path / "repo")
    store = tmp_path / "remote store"
    rh("remote", "add", "-d", "shared", "../remote store", cwd=repo)
    assert (repo / ".rh" / "config").read_text() == (
        "[core]\n    remote = shared\n['remote \"shared\"']\n    url = ../../remote store\n")
    assert rh("remote", "list", cwd=repo).stdout == "shared\t../../remote store\t(default)\n"
    st = rh("status", "-c", cwd=repo).stdout
    assert "\tnew:                out\n" in st and "\tnew:                weights.bin\n" in st, st
    out = rh("push", cwd=repo).stdout
    # Files: a b.txt (= copy.txt, sent once), __init__.py, weights.bin, flag; listings: 2.
    assert out.startswith("6 files pushed"), out
    assert rh("status", "-c", cwd=repo).stdout == "Cache and remote 'shared' are in sync.\n"
    assert rh("push", cwd=repo).stdout.startswith("0 files pushed (0 B), 6 already there")
    # An interrupted push: what is missing goes again, and only that.
    victims = [p for p in store.rglob("*") if p.is_file()][:2]
    for v in victims:
        os.chmod(v, 0o644)
        v.unlink()
    assert rh("push", cwd=repo).stdout.startswith("2 files pushed"), objects(store)

    # DVC pulls what rh pushed, in a fresh clone.
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "data")
    git(repo, "tag", "v1")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    dvc("remote", "add", "-d", "d", str(store), cwd=clone)
    dvc("pull", "-q", cwd=clone)
    assert (clone / "out" / "copy.txt").read_text() == "raw one\n"
    assert (clone / "weights.bin").read_bytes() == (repo / "weights.bin").read_bytes()
    # rh pulls what DVC pushed (a change made and pushed with DVC).
    (clone / "weights.bin").write_bytes(b"retrained")
    dvc("add", "-q", "weights.bin", cwd=clone)
    dvc("push", "-q", cwd=clone)
    shutil.copy(clone / "weights.bin.dvc", repo / "weights.bin.dvc")
    shutil.rmtree(repo / ".dvc" / "cache")
    shutil.rmtree(repo / "out")
    out = rh("pull", cwd=repo).stdout
    assert "A       out" in out and "M       weights.bin" in out, out
    assert (repo / "weights.bin").read_bytes() == b"retrained"
    assert (repo / "out" / "flag").read_text() == "done\n"
    assert "up to date" in dvc("status", cwd=repo)
    # fetch fills the cache only; checkout then links.
    shutil.rmtree(repo / ".dvc" / "cache")
    (repo / "weights.bin").unlink()
    rh("fetch", "weights.bin.dvc", cwd=repo)
    assert not (repo / "weights.bin").exists()
    rh("checkout", "weights.bin.dvc", cwd=repo)
    assert (repo / "weights.bin").read_bytes() == b"retrained"

    # -T: the tag's data (the old weights) is fetched and pushed as well.
    fetched = rh("fetch", "-T", cwd=repo).stdout
    assert fetched.startswith("6 files fetched"), fetched  # all but the new weights, cached
    other = tmp_path / "other store"
    rh("remote", "add", "other", str(other), cwd=repo)
    only_now = rh("push", "-r", "other", cwd=repo).stdout
    assert only_now.startswith("6 files pushed"), only_now
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "retrained")
    tagged = rh("push", "-r", "other", "-T", cwd=repo)
    assert tagged.stdout.startswith("1 file pushed"), (only_now, tagged.stdout, tagged.stderr)


def test_damaged_objects_and_bad_remotes_are_refused(tmp_path):
    repo = make_repo(tmp_path / "repo")
    store = tmp_path / "store"
    p = rh("push", cwd=repo, check=False)
    assert p.returncode != 0 and "no remote: add one with `rh remote add -d NAME URL`" in p.stderr
    rh("remote", "add", "-d", "s", str(store), cwd=repo)
    assert rh("remote", "add", "s", "/x", cwd=repo, check=False).stderr.count("exists in .rh/config") == 1
    rh("push", cwd=repo)
    # Flip the content of the remote's copy of weights.bin.
    weights_md5 = [line.split()[-1] for line in (repo / "weights.bin.dvc").read_text().splitlines()
                   if "md5:" in line][0]
    obj = store / "files" / "md5" / weights_md5[:2] / weights_md5[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(b"tampered")
    shutil.rmtree(repo / ".dvc" / "cache")
    (repo / "weights.bin").unlink()
    p = rh("pull", cwd=repo, check=False)
    assert p.returncode != 0 and f"object {weights_md5} arrived with md5" in p.stderr, p.stderr
    assert not (repo / ".dvc" / "cache" / "files" / "md5" / weights_md5[:2] / weights_md5[2:]).exists()
    assert not (repo / "weights.bin").exists()
    # Missing on the remote: named, exit non-zero.
    obj.unlink()
    p = rh("pull", cwd=repo, check=False)
    assert p.returncode != 0 and "weights.bin: 's' does not have its content" in p.stderr, p.stderr
    assert "\tmissing:            weights.bin\n" in rh("status", "-c", cwd=repo).stdout
    # DVC's remotes of other kinds are named when used.
    dvc("remote", "add", "cloud", "s3://bucket/path", cwd=repo)
    p = rh("push", "-r", "cloud", cwd=repo, check=False)
    assert p.returncode != 0 and "remote 'cloud' (s3://bucket/path, in .dvc/config)" in p.stderr
    p = rh("push", "-r", "nope", cwd=repo, check=False)
    assert "no remote named 'nope' (there are: s, cloud)" in p.stderr, p.stderr


def test_server_remote_push_pull(tmp_path):
    server = Server(str(tmp_path / "server-data"))
    try:
        repo = make_repo(tmp_path / "repo")
        rh("remote", "add", "-d", "hq", server.url, cwd=repo)
        assert rh("push", cwd=repo).stdout.startswith("6 files pushed")
        assert rh("push", cwd=repo).stdout.startswith("0 files pushed (0 B), 6 already there")
        assert rh("status", "-c", cwd=repo).stdout == "Cache and remote 'hq' are in sync.\n"
        # The server knows the md5 names as aliases of its blobs.
        weights_md5 = [line.split()[-1] for line in (repo / "weights.bin.dvc").read_text().splitlines()
                       if "md5:" in line][0]
        status, body, _ = server.request("POST", "/api/v1/blobs/aliases/lookup", {"md5": [weights_md5]})
        assert status == 200 and body["aliases"][weights_md5].startswith("sha256:"), body
        status, body, _ = server.request("POST", "/api/v1/blobs/aliases",
                                         {"aliases": {"0" * 32: "sha256:" + "1" * 64}})
        assert status == 409 and "is not stored" in body["error"]["message"], body
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "data")
        clone = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
        out = rh("pull", cwd=clone).stdout
        assert "6 files fetched" in out and "A       out" in out and "A       weights.bin" in out, out
        assert (clone / "weights.bin").read_bytes() == (repo / "weights.bin").read_bytes()
        assert (clone / "données brutes" / "a b.txt").read_text() == "raw one\n"
        assert "up to date" in dvc("status", cwd=clone)
        assert rh("status", cwd=clone).stdout == "Data and pipelines are up to date.\n"
    finally:
        assert server.stop() == 0, server.proc.stderr.read()


def test_get_any_revision_from_its_remote(tmp_path):
    repo = make_repo(tmp_path / "repo")
    store = tmp_path / "store"
    rh("remote", "add", "-d", "s", str(store), cwd=repo)
    dvc("remote", "add", "-d", "d", str(store), cwd=repo)
    rh("push", cwd=repo)
    old = (repo / "weights.bin").read_bytes()
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    git(repo, "tag", "v1")
    (repo / "weights.bin").write_bytes(b"v2 weights")
    rh("add", "weights.bin", cwd=repo)
    rh("push", cwd=repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v2")
    shutil.rmtree(repo / ".dvc" / "cache")  # from the remote, not the repository's cache
    here = tmp_path / "elsewhere"
    here.mkdir()
    out = rh("get", str(repo), "weights.bin", "--rev", "v1", "-o", "old.bin", cwd=here).stdout
    assert out.startswith("old.bin: 1 file ("), out
    assert (here / "old.bin").read_bytes() == old
    dvc("get", str(repo), "weights.bin", "--rev", "v1", "-o", "dvc-old.bin", cwd=here)
    assert (here / "dvc-old.bin").read_bytes() == old
    rh("get", str(repo), "weights.bin", cwd=here)
    assert (here / "weights.bin").read_bytes() == b"v2 weights"
    # A stage's out folder, a file inside a tracked folder, a file git holds.
    rh("get", str(repo), "out", cwd=here)
    assert sorted(p.name for p in (here / "out").iterdir()) == ["copy.txt", "flag"]
    assert os.access(here / "out" / "flag", os.W_OK)  # plain files, not links to a cache
    rh("get", str(repo), "données brutes/a b.txt", cwd=here)
    assert (here / "a b.txt").read_text() == "raw one\n"
    assert "(from git)" in rh("get", str(repo), "dvc.yaml", cwd=here).stdout
    assert (here / "dvc.yaml").read_text() == (repo / "dvc.yaml").read_text()
    # The destination is not replaced unless asked; errors name the path.
    p = rh("get", str(repo), "weights.bin", cwd=here, check=False)
    assert p.returncode != 0 and "'weights.bin' exists; use --force" in p.stderr
    rh("get", str(repo), "weights.bin", "--rev", "v1", "--force", cwd=here)
    assert (here / "weights.bin").read_bytes() == old
    p = rh("get", str(repo), "no/such/file", cwd=here, check=False)
    assert p.returncode != 0 and "'no/such/file' is neither in git nor in the data of" in p.stderr
    p = rh("get", str(repo), "weights.bin", "--rev", "nope", "-o", "x", cwd=here, check=False)
    assert p.returncode != 0 and not (here / "x").exists()
    # A URL is cloned; its data comes from an rh server the revision names.
    server = Server(str(tmp_path / "server-data"))
    try:
        rh("remote", "add", "-d", "-f", "s", server.url, cwd=repo)
        rh("fetch", "-r", "d", cwd=repo)  # the cache back, from the folder (DVC's name for it)
        rh("push", cwd=repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "server remote")
        rh("get", "file://" + str(repo), "weights.bin", "-o", "from-server.bin", cwd=here)
        assert (here / "from-server.bin").read_bytes() == b"v2 weights"
    finally:
        assert server.stop() == 0, server.proc.stderr.read()
    assert not list(here.glob("*.rh-get-*"))  # nothing half-written left


def test_repro_pull_in_a_fresh_clone_runs_nothing(tmp_path):
    repo = make_repo(tmp_path / "repo")
    rh("remote", "add", "-d", "s", str(tmp_path / "store"), cwd=repo)
    rh("push", cwd=repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "v1")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    # Without the data, the stage's dep is missing: plain repro fails.
    assert rh("repro", cwd=clone, check=False).returncode != 0
    out = rh("repro", "--pull", cwd=clone).stdout
    assert "Fetched 6 files" in out and "Stage 'build' is cached - skipping run" in out, out
    assert "Running stage" not in out, out
    assert (clone / "out" / "copy.txt").read_text() == "raw one\n"
    assert (clone / "dvc.lock").read_text() == (repo / "dvc.lock").read_text()
    assert "up to date" in dvc("status", cwd=clone)
