"""A warm interpreter for trials: started once per environment by `rh agent`,
it imports what the entry point imports (third-party modules only: torch,
numpy, ...), then forks one child per trial, so a trial starts without
paying for the interpreter and those imports again.

    python -m roundhouse._zygote SOCKET SCRIPT_OR_-m_MODULE CONTEXT_DIR

Protocol, per connection on the Unix socket SOCKET (the agent's relay,
`rh trial-relay`, is the client): one request line of JSON {"argv": [...],
"env": {...}, "cwd": ..., "pgid": N, "fds": [n, ...]} sent with the file
descriptors the child must have at those numbers (SCM_RIGHTS); the answer
is a line "pid P" once the child runs, then a line "exit CODE" or
"signal SIG" when it ends. The child joins process group N (the relay's),
so signals the agent sends to the group reach it; when it cannot (the
relay is in another session) nothing runs and the connection closes, and
the relay runs the command itself.
"""
import array
import ast
import json
import os
import socket
import sys
import threading


def _preload(target, context_dir):
    """Imports the top-level modules the entry point imports that come from
    outside the context (installed packages), ignoring any that fail."""
    import importlib.util
    if target.startswith("-m "):
        source_path = None
        try:
            spec = importlib.util.find_spec(target[3:])
            source_path = spec.origin if spec else None
        except (ImportError, ValueError):
            pass
    else:
        source_path = os.path.join(context_dir, target)
    names = set()
    try:
        with open(source_path, "rb") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    except (OSError, SyntaxError, ValueError, TypeError):
        return []
    root = os.path.realpath(context_dir)
    done = []
    for name in sorted(names - {"roundhouse", "determined", "__future__"}):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        origin = getattr(spec, "origin", None) if spec else None
        if spec is None or (origin and os.path.realpath(origin).startswith(root + os.sep)):
            continue  # not installed, or the user's own module: imported by the trial itself
        try:
            __import__(name)
            done.append(name)
        except BaseException:  # a module that cannot load here loads (or fails) in the trial
            pass
    return done


def _reseed():
    """Each child draws its own randomness, as a fresh process would."""
    import random
    random.seed()
    np = sys.modules.get("numpy")
    if np is not None:
        try:
            np.random.seed()
        except Exception:
            pass


def _run_child(req, fds):
    try:
        os.setpgid(0, req["pgid"])
    except OSError:
        os._exit(126)  # outside the relay's group no signal would reach it: never run
    for fd, num in zip(fds, req["fds"]):
        if fd != num:
            os.dup2(fd, num)
    for fd in fds:
        if fd not in req["fds"]:
            os.close(fd)
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    import io
    unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))

    def stream(fd, mode, **kw):
        raw = io.FileIO(fd, mode, closefd=False)
        if mode == "r":
            return io.TextIOWrapper(io.BufferedReader(raw), **kw)
        return io.TextIOWrapper(io.BufferedWriter(raw), write_through=unbuffered, **kw)
    sys.stdin = stream(0, "r")
    sys.stdout = stream(1, "w", line_buffering=True)
    sys.stderr = stream(2, "w", line_buffering=True, errors="backslashreplace")
    _reseed()
    argv = req["argv"]
    code = 0
    import runpy
    try:
        if argv[1] == "-m":
            sys.argv = [argv[2]] + argv[3:]
            sys.path[0] = req["cwd"]
            runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
        else:
            # As `python script.py` does: argv as given, __file__ absolute,
            # the script's folder first on sys.path, a fresh __main__.
            import types
            script = os.path.abspath(argv[1])
            sys.argv = argv[1:]
            sys.path[0] = os.path.dirname(script)
            try:
                with open(script, "rb") as f:
                    source = f.read()
            except OSError as e:
                print(f"{sys.executable}: can't open file {script!r}: [Errno {e.errno}] {e.strerror}",
                      file=sys.stderr)
                os._exit(2)
            compiled = compile(source, script, "exec")
            main = types.ModuleType("__main__")
            main.__file__ = script
            main.__builtins__ = __builtins__
            sys.modules["__main__"] = main
            exec(compiled, main.__dict__)
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        code = 130
    except BaseException as e:
        import traceback
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # the user's frames only, as a fresh interpreter shows them
        traceback.print_exception(type(e), e, tb)
        code = 1
    try:
        import atexit
        atexit._run_exitfuncs()
    finally:
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except Exception:
                pass
        os._exit(code & 0xFF)


def _read_request(conn):
    """The request and the descriptors that came with it."""
    fds = array.array("i")
    data = b""
    while not data.endswith(b"\n"):
        msg, anc, _flags, _addr = conn.recvmsg(1 << 20, socket.CMSG_SPACE(16 * fds.itemsize))
        if not msg:
            raise ValueError("the relay went away")
        data += msg
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    return json.loads(data), list(fds)


def _wait(conn, pid):
    try:
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            conn.sendall(b"signal %d\n" % os.WTERMSIG(status))
        else:
            conn.sendall(b"exit %d\n" % os.WEXITSTATUS(status))
    except OSError:
        pass
    finally:
        conn.close()


def _serve(conn):
    """Forks the child (here, on the main thread) and leaves its end to a thread."""
    fds = []
    try:
        req, fds = _read_request(conn)
        argv = req["argv"]
        if len(argv) < 2 or not (argv[1] == "-m" and len(argv) > 2 or argv[1].endswith(".py")):
            raise ValueError("only `python SCRIPT.py ...` and `python -m MODULE ...` run here")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            try:
                conn.close()
                if _listener is not None:
                    _listener.close()
                _run_child(req, fds)
            finally:
                os._exit(1)  # never back into the zygote's loop
        try:
            os.setpgid(pid, req["pgid"])  # here too, so no signal comes before it
        except OSError as e:
            os.waitpid(pid, 0)
            raise ValueError("cannot join the relay's process group (another session?): %s" % e)
        conn.sendall(b"pid %d\n" % pid)
    except (OSError, ValueError, KeyError) as e:
        print("roundhouse zygote: request failed:", e, file=sys.stderr, flush=True)
        conn.close()
        return
    finally:
        for fd in fds:
            os.close(fd)
    threading.Thread(target=_wait, args=(conn, pid), daemon=True).start()


_listener = None


def main():
    global _listener
    path, target, context_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    loaded = _preload(target, context_dir)
    listener = _listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener.bind(path + ".tmp")
    os.rename(path + ".tmp", path)  # appears only once it accepts
    listener.listen(16)
    print("roundhouse zygote ready (preloaded: %s)" % (", ".join(loaded) or "nothing"), flush=True)
    while True:
        conn, _ = listener.accept()
        _serve(conn)


if __name__ == "__main__":
    main()
