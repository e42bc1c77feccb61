"""What init() records about the code and the machine: git checkout or
script, interpreter, OS, host, installed distributions and the script's
top-level imports mapped to them."""
import ast
import json
import os
import platform
import socket
import subprocess
import sys


def _git(cwd, *args):
    try:
        p = subprocess.run(["git", "-C", cwd, *args], capture_output=True, text=True, timeout=20,
                           errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout if p.returncode == 0 else None


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
        script["commit"] = (_git(root, "rev-parse", "HEAD") or "").strip()
        if path:
            rel = os.path.relpath(os.path.dirname(path), root)
            script["working_dir"] = "." if rel == "." else rel
        diff = _git(root, "diff", "HEAD", "--no-color", "--no-ext-diff") if script["commit"] else ""
        untracked = [f for f in (_git(root, "ls-files", "--others", "--exclude-standard", "-z") or "").split("\0") if f]
        if untracked:
            diff = "# untracked files: " + ", ".join(untracked) + "\n" + (diff or "")
        script["diff"] = diff or ""
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
