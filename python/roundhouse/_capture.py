"""What init() records about the code and the machine: git checkout or
script, interpreter, OS, host, installed distributions and the script's
top-level imports mapped to them."""
import ast
import json
import os
import platform
import socket
import stat
import subprocess
import sys


def _git(cwd, *args):
    try:
        p = subprocess.run(["git", "-C", cwd, *args], capture_output=True, text=True, timeout=20,
                           errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout if p.returncode == 0 else None


# Limits on what the recorded diff carries besides tracked text changes (the
# same as `rh run`'s, run/capture.h).
MAX_UNTRACKED_FILES = 50
MAX_UNTRACKED_BYTES = 1 << 20
MAX_BINARY_BYTES = 1 << 20


def _git_bytes(root, env, *args):
    """git's stdout as bytes; raises OSError with its stderr on failure."""
    p = subprocess.run(["git", "-C", root, *args], capture_output=True, timeout=300,
                       env=dict(os.environ, **env) if env else None)
    if p.returncode != 0:
        raise OSError(f"git {args[0] if args else ''} failed in {root}: "
                      + p.stderr.decode("utf-8", "replace").strip()[:500])
    return p.stdout


def _utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_text(data):
    """What a reader can see in a diff: UTF-8 without NUL (else binary)."""
    return b"\0" not in data and _utf8(data)


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _diff_args(has_commit, attributes="", renames=True):
    a = ["-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "-c", "diff.relative=false"]
    if attributes:
        a += ["-c", "core.attributesFile=" + attributes]
    a += ["diff", "--cached", "--binary", "--full-index", "--no-color", "--no-ext-diff", "--no-textconv",
          "--src-prefix=a/", "--dst-prefix=b/", "--find-renames" if renames else "--no-renames"]
    return a + (["HEAD"] if has_commit else [])


def working_tree_patch(root, has_commit):
    """The uncommitted state of the tree at root as one patch that `git apply`
    turns the commit (or an empty repository) back into that tree: the same
    rules as `rh run` (run/tree_patch.h): tracked changes, untracked files,
    binary files as git binary patches, empty files, links and modes; what
    the limits leave out is named on a first "# not recorded: ..." line. The
    user's repository is not changed (a temporary index and object folder)."""
    import tempfile
    try:
        with tempfile.TemporaryDirectory(prefix="rh-patch-") as scratch:
            return _working_tree_patch(root, has_commit, scratch)
    except (OSError, subprocess.SubprocessError) as e:
        return f"# the uncommitted changes could not be recorded: {e}\n"


def _working_tree_patch(root, has_commit, scratch):
    objects = _git_bytes(root, None, "rev-parse", "--path-format=absolute", "--git-path", "objects")
    env = {"GIT_INDEX_FILE": os.path.join(scratch, "index"),
           "GIT_OBJECT_DIRECTORY": os.path.join(scratch, "objects"),
           "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects.decode().strip()}
    os.mkdir(env["GIT_OBJECT_DIRECTORY"])
    listed = lambda out: [p for p in out.split(b"\0") if p]
    changed = _git_bytes(root, None, *(["diff", "--name-only", "--no-renames", "-z", "HEAD"] if has_commit
                                       else ["ls-files", "-z"]))
    untracked = _git_bytes(root, None, "ls-files", "--others", "--exclude-standard", "-z")
    candidates = [(p, True) for p in listed(changed)] + [(p, False) for p in listed(untracked)]
    left_out, chosen = [], []
    files = nbytes = binary = 0
    rootb = os.fsencode(root)
    for path, tracked in candidates:
        full = os.path.join(rootb, path)
        why = ""
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            kind, size = "deleted", 0
        except OSError:
            kind, size = "other", 0
        else:
            size = st.st_size
            if stat.S_ISLNK(st.st_mode):
                kind = "link"
            elif stat.S_ISREG(st.st_mode):
                try:
                    with open(full, "rb") as f:
                        kind = "text" if _is_text(f.read()) else "binary"
                except OSError:
                    kind = "other"
            else:
                kind = "other"
        if kind == "other":
            why = "a nested repository" if path.endswith(b"/") else "not a file, link or folder"
        elif not tracked:
            if files >= MAX_UNTRACKED_FILES:
                why = f"over the limit of {MAX_UNTRACKED_FILES} untracked files"
            elif nbytes + size > MAX_UNTRACKED_BYTES:
                why = f"{_size(size)}, over the {_size(MAX_UNTRACKED_BYTES)} limit for untracked files"
            else:
                files, nbytes = files + 1, nbytes + size
        elif kind == "binary":
            if binary + size > MAX_BINARY_BYTES:
                why = f"binary, {_size(size)}, over the {_size(MAX_BINARY_BYTES)} limit for changed binary files"
            else:
                binary += size
        if why:
            left_out.append(f"{os.fsdecode(path)} ({why})")
        else:
            chosen.append(path)
    diff = b""
    if chosen:
        if has_commit:
            _git_bytes(root, env, "read-tree", "HEAD")
        spec = os.path.join(scratch, "paths")
        with open(spec, "wb") as f:
            f.write(b"".join(p + b"\0" for p in chosen))
        _git_bytes(root, env, "--literal-pathspecs", "-c", "core.safecrlf=false", "add", "-A", "-f",
                   "--pathspec-from-file=" + spec, "--pathspec-file-nul")
        diff = _git_bytes(root, env, *_diff_args(has_commit))
        if not _utf8(diff):
            # A file's text is not UTF-8: diff file by file, those as binary patches.
            attributes = os.path.join(scratch, "attributes")
            with open(attributes, "w") as f:
                f.write("* -diff\n")
            names = _git_bytes(root, env, *_diff_args(has_commit, renames=False), "--name-only", "-z")
            pieces = []
            for p in listed(names):
                pathspec = b":(literal)" + p
                piece = _git_bytes(root, env, *_diff_args(has_commit, renames=False), "--", pathspec)
                if not _utf8(piece):
                    piece = _git_bytes(root, env, *_diff_args(has_commit, attributes, False), "--", pathspec)
                if not _utf8(piece):
                    left_out.append(os.fsdecode(p) + " (not UTF-8, and its attributes keep it a text diff)")
                    continue
                pieces.append(piece)
            diff = b"".join(pieces)
    text = diff.decode("utf-8")
    if left_out:
        line = ", ".join(left_out).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        text = "# not recorded: " + line.replace("\n", "\\n") + "\n" + text
    return text


def _ipython():
    """The running IPython shell when inside a Jupyter kernel, else None."""
    if "ipykernel" not in sys.modules:
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def notebook_path():
    """The .ipynb a Jupyter kernel runs, where the front end says: Jupyter
    Server sets JPY_SESSION_NAME, JupyterLab puts __session__ and VS Code
    __vsc_ipynb_file__ in the kernel's namespace."""
    shell = _ipython()
    if shell is None:
        return None
    ns = getattr(shell, "user_ns", {}) or {}
    for candidate in (os.environ.get("JPY_SESSION_NAME"), ns.get("__session__"), ns.get("__vsc_ipynb_file__")):
        if isinstance(candidate, str) and candidate.endswith(".ipynb") and os.path.isfile(candidate):
            return os.path.abspath(candidate)
    return None


def notebook_to_script(cells):
    """A notebook's cells ([(cell_type, source)]) as a Python script in the
    "percent" format editors and jupytext read: code as is, IPython magics
    and shell escapes commented out, markdown as comments."""
    parts = []
    for kind, source in cells:
        if isinstance(source, list):
            source = "".join(source)
        if kind == "code":
            lines = [("# " + l if l.lstrip().startswith(("%", "!")) else l) for l in source.splitlines()]
            parts.append("# %%\n" + "\n".join(lines))
        elif kind == "markdown":
            parts.append("# %% [markdown]\n" + "\n".join("# " + l for l in source.splitlines()))
    return "\n\n".join(parts) + "\n"


def read_notebook(path):
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        return notebook_to_script([(c.get("cell_type"), c.get("source", "")) for c in nb.get("cells", [])])
    except (OSError, ValueError, AttributeError):
        return None


def kernel_history():
    """Without the notebook file: the cells this kernel has run so far."""
    shell = _ipython()
    cells = (getattr(shell, "user_ns", {}) or {}).get("In", []) if shell else []
    return notebook_to_script([("code", c) for c in cells if c]) if cells else ""


def script_path():
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path:
        return os.path.abspath(path)
    return notebook_path()


def capture_script(argv=None):
    argv = list(sys.argv if argv is None else argv)
    path = script_path()
    probe = os.path.dirname(path) if path else os.getcwd()
    script = {"argv": [sys.executable] + argv, "entry_point": os.path.basename(path) if path else "",
              "repository": "", "branch": "", "commit": "", "diff": "", "working_dir": "", "content": ""}
    root = _git(probe, "rev-parse", "--show-toplevel")
    if root:
        root = root.strip()
        script["repository"] = (_git(root, "remote", "get-url", "origin") or root).strip()
        script["branch"] = (_git(root, "rev-parse", "--abbrev-ref", "HEAD") or "").strip()
        script["commit"] = (_git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") or "").strip()
        if script["branch"] == "HEAD" and not script["commit"]:  # no commit yet
            script["branch"] = (_git(root, "symbolic-ref", "--short", "HEAD") or "").strip()
        if path:
            rel = os.path.relpath(os.path.dirname(path), root)
            script["working_dir"] = "." if rel == "." else rel
        script["diff"] = working_tree_patch(root, bool(script["commit"]))
    elif path and not path.endswith(".ipynb"):
        try:
            with open(path, encoding="utf-8") as f:
                script["content"] = f.read(1 << 20)
        except (OSError, UnicodeDecodeError):
            pass
        script["working_dir"] = os.getcwd()
    if _ipython() is not None:
        # In Jupyter the notebook, converted, is what an agent can run; the
        # kernel's own argv says nothing about it.
        script["argv"] = []
        converted = read_notebook(path) if path else None
        script["content"] = (converted if converted is not None else kernel_history())[: 1 << 20]
        if not root:
            script["working_dir"] = os.getcwd()
    return script


def capture_environment():
    return {"interpreter": f"Python {platform.python_version()} ({sys.executable})",
            "os": f"{platform.system()} {platform.release()} {platform.machine()}",
            "host": socket.gethostname(), "requirements": "", "freeze": ""}


def installed_distributions():
    """{normalized name: (name, version)} of what this interpreter sees."""
    try:
        from importlib import metadata
    except ImportError:  # pragma: no cover - Python < 3.8
        return {}
    out = {}
    for d in metadata.distributions():
        name = d.metadata.get("Name")
        if name:
            out[name.lower().replace("_", "-")] = (name, d.version)
    return out


def _top_level_imports(path):
    """Modules imported by the script at path (a notebook is converted first);
    with no path inside Jupyter, by the cells the kernel has run."""
    try:
        if path is None:
            text = kernel_history() if _ipython() is not None else ""
        elif path.endswith(".ipynb"):
            text = read_notebook(path) or ""
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        tree = ast.parse(text)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return set()
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module.split(".")[0])
    return mods


def requirements_and_freeze(path):
    """(requirements.txt text for the imports of the script at path, every
    distribution). The path is taken in the main thread: at interpreter exit
    __main__ no longer names its file."""
    dists = installed_distributions()
    freeze = "\n".join(f"{n}=={v}" for n, v in sorted(dists.values(), key=lambda x: x[0].lower()))
    try:
        from importlib import metadata
        pkg_map = metadata.packages_distributions()  # module -> [distribution]
    except (ImportError, AttributeError):
        pkg_map = {}
    stdlib = getattr(sys, "stdlib_module_names", set())
    reqs = set()
    for mod in _top_level_imports(path):
        if mod in stdlib or mod == "roundhouse":
            continue
        for dist in pkg_map.get(mod, [mod]):
            key = dist.lower().replace("_", "-")
            if key in dists:
                reqs.add(f"{dists[key][0]}=={dists[key][1]}")
    return "\n".join(sorted(reqs)) + ("\n" if reqs else ""), freeze + ("\n" if freeze else "")
